package loadgen

import (
	"context"
	"math/rand/v2"
)

// mixedTypes are the resource types W7 spreads its requests over.
func mixedTypes() []string {
	return []string{"Communication", "Patient", "Practitioner", "Observation"}
}

// mixedPool is how many resources of each type a W7 worker creates before
// the clock starts, so that its first reads, updates and deletes have
// targets.
const mixedPool = 5

// owned is a resource a W7 worker created and tracks.
type owned struct {
	id, version string
}

// mixedWorker is one W7 worker: it works only on resources it created, so
// its updates never race another worker's and its reads never hit a
// resource another worker deleted.
type mixedWorker struct {
	s    *Suite
	r    *rand.Rand
	pool map[string][]owned
	n    int // bodies rendered, varies their content
}

// mixed is W7: 40 % read, 30 % create, 20 % update (If-Match), 10 %
// delete, spread evenly over Communication, Patient, Practitioner and
// Observation.
func (s *Suite) mixed() Workload {
	return Workload{
		Name: "W7", Title: "mixed CRUD 40/30/20/10 over 4 types",
		Setup: s.ensureRefs,
		NewWorker: func(ctx context.Context, i, n int) (Op, error) {
			w := &mixedWorker{s: s, r: s.rng(i), pool: map[string][]owned{}}
			for _, typ := range mixedTypes() {
				for range mixedPool {
					if err := w.create(ctx, typ); err != nil {
						return nil, err
					}
				}
			}
			return w.op, nil
		},
	}
}

// op picks and performs one interaction.
func (w *mixedWorker) op(ctx context.Context) (int, error) {
	types := mixedTypes()
	typ := types[w.r.IntN(len(types))]
	pool := w.pool[typ]
	roll := w.r.IntN(100)
	if len(pool) == 0 || (roll >= 40 && roll < 70) {
		return 1, w.create(ctx, typ)
	}
	k := w.r.IntN(len(pool))
	switch {
	case roll < 40:
		return 1, w.s.c.Read(ctx, typ, pool[k].id)
	case roll < 90:
		v, err := w.s.c.Update(ctx, typ, pool[k].id, pool[k].version, w.body(typ, pool[k].id))
		switch {
		case err == nil:
			pool[k].version = v
		case staleVersion(err):
			if cur, verr := w.s.c.Version(ctx, typ, pool[k].id); verr == nil {
				pool[k].version = cur
			}
		}
		return 1, err
	default:
		err := w.s.c.Delete(ctx, typ, pool[k].id)
		if err == nil {
			pool[k] = pool[len(pool)-1]
			w.pool[typ] = pool[:len(pool)-1]
		}
		return 1, err
	}
}

// create posts a new resource of typ and adds it to the pool.
func (w *mixedWorker) create(ctx context.Context, typ string) error {
	cr, err := w.s.c.Create(ctx, typ, w.body(typ, ""))
	if err == nil {
		w.pool[typ] = append(w.pool[typ], owned{id: cr.ID, version: cr.Version})
	}
	return err
}

// body renders a resource of typ; id is set for updates.
func (w *mixedWorker) body(typ, id string) []byte {
	w.n++
	switch typ {
	case "Patient":
		return patient(id, w.n)
	case "Practitioner":
		return practitioner(id, w.n)
	case "Observation":
		return observation(id, w.s.refs.Patients[w.r.IntN(len(w.s.refs.Patients))], w.n)
	default:
		m := w.s.message(w.r, BackgroundStatus)
		m.ID = id
		return communication(m)
	}
}
