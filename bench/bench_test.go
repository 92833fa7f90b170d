package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/hearth-fhir/hearth/hearthtest"
)

// concurrency is goroutines per core for RunParallel: 2 × GOMAXPROCS clients.
const concurrency = 2

// BenchmarkCreate: POST Communication through HTTP, auth, validation and the
// store, against the raw driver inserting the same JSON row.
func BenchmarkCreate(b *testing.B) {
	ctx := context.Background()
	body := []byte(communication)
	for _, backend := range hearthtest.Backends {
		b.Run(backend, func(b *testing.B) {
			t := newTarget(b, backend)
			var hearth, raw float64
			b.Run("hearth", func(b *testing.B) {
				hearth = parallel(b, func() error { _, err := t.create(); return err })
			})
			b.Run("raw", func(b *testing.B) {
				raw = parallel(b, func() error { return t.raw.insert(ctx, rawID(), body) })
			})
			report("create", backend, hearth, raw)
		})
	}
}

// BenchmarkRead: GET Communication/id of random seeded ids, against the raw
// driver selecting the row by key.
func BenchmarkRead(b *testing.B) {
	ctx := context.Background()
	const seeded = 1000
	for _, backend := range hearthtest.Backends {
		b.Run(backend, func(b *testing.B) {
			t := newTarget(b, backend)
			ids := make([]string, seeded)
			rawIDs := make([]string, seeded)
			for i := range ids {
				id, err := t.create()
				if err != nil {
					b.Fatal(err)
				}
				ids[i], rawIDs[i] = id, rawID()
				if err := t.raw.insert(ctx, rawIDs[i], []byte(communication)); err != nil {
					b.Fatal(err)
				}
			}
			var hearth, raw float64
			b.Run("hearth", func(b *testing.B) {
				hearth = parallel(b, func() error { return t.read(ids[rand.IntN(seeded)]) })
			})
			b.Run("raw", func(b *testing.B) {
				raw = parallel(b, func() error { _, err := t.raw.read(ctx, rawIDs[rand.IntN(seeded)]); return err })
			})
			report("read", backend, hearth, raw)
		})
	}
}

// parallel runs op from concurrency×GOMAXPROCS goroutines and returns ops/s.
func parallel(b *testing.B, op func() error) float64 {
	b.SetParallelism(concurrency)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := op(); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	rate := float64(b.N) / b.Elapsed().Seconds()
	b.ReportMetric(rate, "ops/s")
	return rate
}

// report prints Hearth's rate as a share of the raw ceiling measured in the
// same run.
func report(op, backend string, hearth, raw float64) {
	if raw > 0 {
		fmt.Printf("RATIO %s/%s: hearth %.0f ops/s, raw %.0f ops/s, hearth/raw %.2f\n", op, backend, hearth, raw, hearth/raw)
	}
}

// TestWorkloadsSmoke runs every workload a few times on both backends so the
// benchmarks cannot rot; it checks results, never timings.
func TestWorkloadsSmoke(t *testing.T) {
	ctx := context.Background()
	for _, backend := range hearthtest.Backends {
		t.Run(backend, func(t *testing.T) {
			tg := newTarget(t, backend)
			for i := 0; i < 10; i++ {
				id, err := tg.create()
				if err != nil {
					t.Fatal(err)
				}
				if err := tg.read(id); err != nil {
					t.Fatal(err)
				}
				rid := rawID()
				if err := tg.raw.insert(ctx, rid, []byte(communication)); err != nil {
					t.Fatal(err)
				}
				if b, err := tg.raw.read(ctx, rid); err != nil || string(b) != communication {
					t.Fatalf("raw read: %v", err)
				}
			}
		})
	}
}
