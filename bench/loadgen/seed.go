package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
)

// txBatch is how many resources one seeding transaction Bundle carries.
const txBatch = 100

// transactionSupport probes, once per run, whether the server takes
// transaction Bundles: a one-entry Bundle creating a Patient. 400, 404,
// 405 and 501 mean no (Hearth answers so until its transaction issue
// lands); anything else that is not 200 is a real error.
func (s *Suite) transactionSupport(ctx context.Context) error {
	s.txOnce.Do(func() {
		body := transaction("Patient", [][]byte{patient("", 0)})
		_, err := s.c.Transaction(ctx, body)
		var se *StatusError
		if errors.As(err, &se) {
			switch se.Status {
			case http.StatusBadRequest, http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusNotImplemented:
				err = &UnsupportedError{Status: se.Status, What: "transaction"}
			}
		}
		s.txErr = err
	})
	return s.txErr
}

// createMany creates n resources of typ, body(i) giving the i-th, through
// transaction Bundles of txBatch when the server takes them and through
// single creates otherwise, from s.opt.SeedConcurrency workers. It returns
// the ids in order.
func (s *Suite) createMany(ctx context.Context, typ string, n int, body func(i int) []byte) ([]string, error) {
	ids := make([]string, n)
	useTx := s.transactionSupport(ctx) == nil
	step := 1
	if useTx {
		step = txBatch
	}
	var (
		next   atomic.Int64 // first index of the next chunk
		done   atomic.Int64
		wg     sync.WaitGroup
		mu     sync.Mutex
		first  error
		report = max(n/10, 1000)
	)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if first == nil {
			first = err
		}
	}
	failed := func() bool { mu.Lock(); defer mu.Unlock(); return first != nil }
	for range max(s.opt.SeedConcurrency, 1) {
		wg.Go(func() {
			// Each chunk is claimed once, so the loop runs at most n/step times.
			for !failed() && ctx.Err() == nil {
				lo := int(next.Add(int64(step))) - step
				if lo >= n {
					return
				}
				hi := min(lo+step, n)
				if err := s.createChunk(ctx, typ, ids[lo:hi], lo, useTx, body); err != nil {
					fail(err)
					return
				}
				if d := done.Add(int64(hi - lo)); s.opt.Progress != nil && n >= 2000 && int(d)/report != int(d-int64(hi-lo))/report {
					fmt.Fprintf(s.opt.Progress, "  seeded %d/%d %s\n", d, n, typ)
				}
			}
		})
	}
	wg.Wait()
	if first == nil && ctx.Err() != nil {
		first = ctx.Err()
	}
	if first != nil {
		return nil, fmt.Errorf("seed %d %s: %w", n, typ, first)
	}
	return ids, nil
}

// createChunk creates the resources lo … lo+len(ids)-1 and fills ids.
func (s *Suite) createChunk(ctx context.Context, typ string, ids []string, lo int, useTx bool, body func(int) []byte) error {
	if !useTx {
		for k := range ids {
			cr, err := s.c.Create(ctx, typ, body(lo+k))
			if err != nil {
				return err
			}
			ids[k] = cr.ID
		}
		return nil
	}
	bodies := make([][]byte, len(ids))
	for k := range bodies {
		bodies[k] = body(lo + k)
	}
	resp, err := s.c.Transaction(ctx, transaction(typ, bodies))
	if err != nil {
		return err
	}
	created, err := transactionLocations(resp)
	if err != nil {
		return err
	}
	if len(created) != len(ids) {
		return fmt.Errorf("transaction response has %d entries for %d requests", len(created), len(ids))
	}
	for k, cr := range created {
		ids[k] = cr.ID
	}
	return nil
}

// transactionLocations reads entry.response.location of a
// transaction-response Bundle, in entry order.
func transactionLocations(bundle []byte) ([]Created, error) {
	var b struct {
		Entry []struct {
			Response struct {
				Location string `json:"location"`
			} `json:"response"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(bundle, &b); err != nil {
		return nil, fmt.Errorf("transaction response: %w", err)
	}
	out := make([]Created, len(b.Entry))
	for i, e := range b.Entry {
		cr, ok := parseLocation(e.Response.Location)
		if !ok {
			return nil, fmt.Errorf("transaction response entry %d has no location", i)
		}
		out[i] = cr
	}
	return out, nil
}
