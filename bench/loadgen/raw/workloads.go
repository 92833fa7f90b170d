package raw

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/hearth-fhir/hearth/bench/loadgen"
)

// loadChunk is how many rows one bulk load carries.
const loadChunk = 5000

// createWorkload is W1's ceiling: resource, history, the resource's
// search index rows and an audit row in one transaction.
func (r *Runner) createWorkload() loadgen.Workload {
	return loadgen.Workload{
		Name: "raw-create", Title: "insert resource+history+11 index rows+audit, one transaction",
		NewWorker: func(ctx context.Context, i, n int) (loadgen.Op, error) {
			return func(ctx context.Context) (int, error) {
				id := uuid.NewString()
				return 1, r.b.create(ctx, r.communication(id, 1, loadgen.BackgroundStatus), auditEvent("C", "Communication", id, 1))
			}, nil
		},
	}
}

// readWorkload is W2's ceiling: select a seeded row by key. Audited, it
// also appends the read's audit row in the same round trip and commit:
// what a server that audits every read before answering cannot do less
// than.
func (r *Runner) readWorkload(audited bool) loadgen.Workload {
	w := loadgen.Workload{
		Name: "raw-read", Title: "select resource by key",
		Setup: func(ctx context.Context) error {
			if r.readIDs != nil {
				return nil
			}
			ids := make([]string, r.opt.ReadSet)
			err := r.load(ctx, len(ids), func(i int) row {
				ids[i] = uuid.NewString()
				return r.communication(ids[i], 1, loadgen.BackgroundStatus)
			})
			if err == nil {
				r.readIDs = ids
			}
			return err
		},
		NewWorker: func(ctx context.Context, i, n int) (loadgen.Op, error) {
			rng := r.rng(i)
			return func(ctx context.Context) (int, error) {
				id := r.readIDs[rng.IntN(len(r.readIDs))]
				var record []byte
				if audited {
					record = auditOf("read", "R", "Communication/"+id)
				}
				return 1, r.b.read(ctx, id, record)
			}, nil
		},
	}
	if audited {
		w.Name, w.Title = w.Name+"-audited", w.Title+" + audit row, one transaction"
	}
	return w
}

// updateWorkload is W6's ceiling: a version-checked update of a row of the
// worker's own, with history, replaced index rows and an audit row.
func (r *Runner) updateWorkload() loadgen.Workload {
	return loadgen.Workload{
		Name: "raw-update", Title: "update resource if version matches +history+index rows replaced+audit",
		NewWorker: func(ctx context.Context, i, n int) (loadgen.Op, error) {
			id := uuid.NewString()
			if err := r.b.create(ctx, r.communication(id, 1, loadgen.BackgroundStatus), auditEvent("C", "Communication", id, 1)); err != nil {
				return nil, err
			}
			version := int64(1)
			return func(ctx context.Context) (int, error) {
				err := r.b.update(ctx, r.communication(id, version+1, loadgen.BackgroundStatus), auditEvent("U", "Communication", id, version+1))
				if err == nil {
					version++
				}
				return 1, err
			}, nil
		},
	}
}

// searchWorkloads are W3's ceilings at its three selectivities, each
// without and with the search's audit row (as readWorkload).
func (r *Runner) searchWorkloads() []loadgen.Workload {
	var out []loadgen.Workload
	for _, sel := range loadgen.Selectivities() {
		for _, audited := range []bool{false, true} {
			w := loadgen.Workload{
				Name: "raw-search-" + sel.Name, Title: "token_idx ⋈ resources status=" + sel.Status + " order by last_updated desc limit 20",
				Setup: r.seedSearch,
				NewWorker: func(ctx context.Context, i, n int) (loadgen.Op, error) {
					return func(ctx context.Context) (int, error) {
						var record []byte
						if audited {
							record = auditOf("search-type", "E", "Communication?status="+sel.Status)
						}
						_, err := r.b.search(ctx, sel.Status, r.searchCommon[sel.Status], record)
						return 1, err
					}, nil
				},
			}
			if audited {
				w.Name, w.Title = w.Name+"-audited", w.Title+" + audit row, one transaction"
			}
			out = append(out, w)
		}
	}
	return out
}

// commonMatches is where a status counts as common for the SQLite ceiling's
// search: the threshold of Hearth's SQLite store (store/sqlite commonRows),
// whose planner cannot choose between walking resources newest first and
// sorting the status's list.
const commonMatches = 1000

// seedSearch loads SeedCount Communications with W3's status
// distribution, last_updated increasing in creation order, once.
func (r *Runner) seedSearch(ctx context.Context) error {
	if r.searchSeeded {
		return nil
	}
	statuses := loadgen.SeedStatuses(r.opt.SeedCount, r.rng(-2).IntN)
	if r.opt.Progress != nil {
		fmt.Fprintf(r.opt.Progress, "  seeding %d rows for raw search\n", len(statuses))
	}
	start := time.Now().UnixMicro()
	err := r.load(ctx, len(statuses), func(i int) row {
		rw := r.communication(uuid.NewString(), 1, statuses[i])
		rw.lastUpdated = start + int64(i)
		return rw
	})
	if err != nil {
		return err
	}
	want := map[string]int{}
	for _, st := range statuses {
		want[st]++
	}
	r.searchCommon = map[string]bool{}
	for st, n := range want {
		r.searchCommon[st] = n >= commonMatches
	}
	for _, sel := range loadgen.Selectivities() {
		got, err := r.b.search(ctx, sel.Status, r.searchCommon[sel.Status], nil)
		if err != nil {
			return err
		}
		if exp := min(want[sel.Status], 20); got != exp {
			return fmt.Errorf("seeded search for %s returns %d rows, want %d", sel.Status, got, exp)
		}
	}
	r.searchSeeded = true
	return nil
}

// load bulk-loads n rows, made by gen, in chunks so that at most one
// chunk of bodies is in memory.
func (r *Runner) load(ctx context.Context, n int, gen func(i int) row) error {
	rows := make([]row, 0, loadChunk)
	for lo := 0; lo < n; lo += loadChunk {
		rows = rows[:0]
		for i := lo; i < min(lo+loadChunk, n); i++ {
			rows = append(rows, gen(i))
		}
		if err := r.b.load(ctx, rows); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
	}
	return nil // the workload's setup analyses the tables (Runner.analyzed)
}
