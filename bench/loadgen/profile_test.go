package loadgen_test

import (
	"context"
	"testing"
	"time"

	"github.com/hearth-fhir/hearth/bench/loadgen"
	"github.com/hearth-fhir/hearth/hearthtest"
)

// BenchmarkInProcess runs W1 and W2 against an in-process Hearth, so that
// a CPU profile of the test binary shows the server's hot path (Hearth
// does not mount net/http/pprof):
//
//	go test ./bench/loadgen -run '^$' -bench InProcess/postgres/W1 -benchtime 1x -cpuprofile w1.out
//	go tool pprof -top -cum w1.out
//
// Each iteration measures for inProcessDuration at concurrency 4; the
// client shares the process, so subtract the loadgen and net/http client
// frames when reading the profile.
func BenchmarkInProcess(b *testing.B) {
	const inProcessDuration = 3 * time.Second
	ctx := context.Background()
	for _, backend := range hearthtest.Backends {
		b.Run(backend, func(b *testing.B) {
			srv := hearthtest.Start(b, hearthtest.OpenStore(b, backend))
			c := loadgen.NewClient(srv.FHIR(), loadgen.StaticToken(srv.Token("default", "system/*.cruds")), 4, time.Minute)
			// A small read set keeps W2's seeding creates out of its profile.
			suite := loadgen.NewSuite(c, loadgen.Options{ReadSet: 200})
			ws, err := suite.Workloads([]string{"W1", "W2"})
			if err != nil {
				b.Fatal(err)
			}
			for _, w := range ws {
				b.Run(w.Name, func(b *testing.B) {
					var rate float64
					for range b.N {
						rs := loadgen.Run(ctx, []loadgen.Workload{w}, loadgen.Settings{Target: "hearth",
							Duration: inProcessDuration, Concurrency: []int{4}})
						if len(rs) != 1 || rs[0].Failed != "" || rs[0].ErrorCount() != 0 {
							b.Fatalf("%+v", rs)
						}
						rate = rs[0].Rate
					}
					b.ReportMetric(rate, "req/s")
				})
			}
		})
	}
}
