package engine_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hearth-fhir/hearth/crypt"
	"github.com/hearth-fhir/hearth/engine"
)

// TestRotateUnderLoad rotates a tenant's DEK and re-encrypts its rows from
// a second ring (as `hearth keys rotate` does from its own process) while
// writers create and update resources through the engine: every
// acknowledged write is there afterwards, readable, and every stored body
// is on the new key version.
func TestRotateUnderLoad(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			if err := b.st.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			const refresh = 150 * time.Millisecond
			w, _ := crypt.NewLocalWrapper(bytes.Repeat([]byte{0x5a}, crypt.KeySize))
			server := crypt.NewRing(b.st.(crypt.KeyStore), w, crypt.WithRefresh(refresh))
			cli := crypt.NewRing(b.st.(crypt.KeyStore), w, crypt.WithRefresh(refresh))
			var fails failures
			e := newEngine(t, b.st, server, &fails)
			p := principal(t, "clinic")

			type acked struct {
				typ     string
				version int64
				text    string
			}
			var mu sync.Mutex
			last := map[string]acked{} // id → last acknowledged write
			writes := 0
			write := func(worker, n int) error {
				text := fmt.Sprintf("%s-w%d-n%d", marker, worker, n)
				mu.Lock()
				var id string
				var prev acked
				if n%3 == 2 { // every third write updates one of this worker's resources
					for k, a := range last {
						if strings.Contains(a.text, fmt.Sprintf("-w%d-", worker)) && a.typ == "Communication" {
							id, prev = k, a
							break
						}
					}
				}
				mu.Unlock()
				var res engine.Result
				var err error
				body := `{"resourceType":"Communication","status":"completed","payload":[{"contentString":"` + text + `"}]}`
				if id != "" {
					body = `{"resourceType":"Communication","id":"` + id + `","status":"completed","payload":[{"contentString":"` + text + `"}]}`
					res, err = e.Update(ctx, p, "Communication", id, []byte(body), engine.UpdateOptions{IfMatch: prev.version})
				} else {
					res, err = e.Create(ctx, p, "Communication", []byte(body), engine.CreateOptions{})
				}
				if err != nil {
					return err
				}
				mu.Lock()
				last[res.Record.ID] = acked{"Communication", res.Record.Version, text}
				writes++
				mu.Unlock()
				return nil
			}
			for n := range 30 {
				if err := write(0, n); err != nil {
					t.Fatal(err)
				}
			}

			stop := make(chan struct{})
			var wg sync.WaitGroup
			errs := make(chan error, 8)
			for worker := 1; worker <= 3; worker++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for n := 0; ; n++ {
						select {
						case <-stop:
							return
						default:
						}
						if err := write(worker, n); err != nil {
							errs <- fmt.Errorf("worker %d write %d: %w", worker, n, err)
							return
						}
					}
				}()
			}
			time.Sleep(100 * time.Millisecond)
			v, err := cli.Rotate(ctx, "clinic")
			if err != nil || v != 2 {
				t.Fatalf("Rotate = %d, %v", v, err)
			}
			var reports int
			prog, err := cli.Reencrypt(ctx, b.st.(crypt.BodyStore), "clinic", func(crypt.ReencryptProgress) { reports++ })
			if err != nil {
				t.Fatalf("Reencrypt: %v (%+v)", err, prog)
			}
			time.Sleep(50 * time.Millisecond) // writes after re-encryption too
			close(stop)
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			if prog.Rewritten == 0 || prog.Pass < 2 || reports == 0 || prog.Version != 2 {
				t.Errorf("progress %+v after %d reports: want rows rewritten over at least two passes", prog, reports)
			}

			elements, bodies, err := crypt.Census(ctx, b.st.(crypt.BodyStore), "clinic")
			if err != nil {
				t.Fatal(err)
			}
			if elements[1] != 0 || bodies[1] != 0 || bodies[2] == 0 {
				t.Errorf("after rotation: elements per version %v, bodies %v; want everything on version 2", elements, bodies)
			}
			total, _ := b.st.(crypt.BodyStore).CountBodies(ctx, "clinic")
			if total != writes+len(last) {
				t.Errorf("%d stored bodies, want %d history rows and %d current rows", total, writes, len(last))
			}
			for id, a := range last {
				res, err := e.Read(ctx, p, a.typ, id)
				if err != nil {
					t.Fatalf("read %s: %v", id, err)
				}
				if res.Record.Version != a.version || !bytes.Contains(res.Record.Body, []byte(a.text)) {
					t.Errorf("%s: v%d %s; want v%d with %s", id, res.Record.Version, res.Record.Body, a.version, a.text)
				}
			}
			page, err := e.History(ctx, p, engine.HistoryRequest{Type: "Communication", Count: 1000})
			if err != nil || len(page.Records) != min(writes, 1000) {
				t.Errorf("history: %d versions, %v; want %d", len(page.Records), err, writes)
			}
			if fails.count() != 0 {
				t.Errorf("%d decryption failures", fails.count())
			}
			t.Logf("%d writes during the test, %d bodies rewritten in %d passes", writes, prog.Rewritten, prog.Pass)
		})
	}
}
