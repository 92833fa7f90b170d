package loadgen

import (
	"context"
	"fmt"
)

// create is W1: POST a ~1.5 KB Communication, the write a messaging
// integration does most.
func (s *Suite) create() Workload {
	return Workload{
		Name: "W1", Title: "create Communication", Ceiling: "raw-create",
		Setup: s.ensureRefs,
		NewWorker: func(ctx context.Context, i, n int) (Op, error) {
			r := s.rng(i)
			return func(ctx context.Context) (int, error) {
				_, err := s.c.Create(ctx, "Communication", communication(s.message(r, BackgroundStatus)))
				return 1, err
			}, nil
		},
	}
}

// read is W2: GET Communication/id of random ids from a set created first.
func (s *Suite) read() Workload {
	var ids []string
	return Workload{
		Name: "W2", Title: "read Communication by id", Ceiling: "raw-read", AuditedCeiling: "raw-read-audited",
		Setup: func(ctx context.Context) error {
			if err := s.ensureRefs(ctx); err != nil {
				return err
			}
			var err error
			ids, err = s.createMany(ctx, "Communication", s.opt.ReadSet, func(i int) []byte {
				return communication(s.seedMessage(readSetSeeds+i, BackgroundStatus))
			})
			return err
		},
		NewWorker: func(ctx context.Context, i, n int) (Op, error) {
			r := s.rng(i)
			return func(ctx context.Context) (int, error) {
				return 1, s.c.Read(ctx, "Communication", ids[r.IntN(len(ids))])
			}, nil
		},
	}
}

// update is W6: PUT a changed Communication with If-Match on the version
// last seen. Each worker updates a resource of its own, so a 412 is a
// server error rather than a lost race.
func (s *Suite) update() Workload {
	return Workload{
		Name: "W6", Title: "update Communication with If-Match", Ceiling: "raw-update",
		Setup: s.ensureRefs,
		NewWorker: func(ctx context.Context, i, n int) (Op, error) {
			r := s.rng(i)
			m := s.message(r, BackgroundStatus)
			cr, err := s.c.Create(ctx, "Communication", communication(m))
			if err != nil {
				return nil, err
			}
			m.ID = cr.ID
			version := cr.Version
			count := 0
			return func(ctx context.Context) (int, error) {
				count++
				m.Note = fmt.Sprintf("Follow-up call %d done; patient understood the change.", count)
				v, err := s.c.Update(ctx, "Communication", m.ID, version, communication(m))
				switch {
				case err == nil:
					version = v
				case staleVersion(err):
					// Counted as an error; the next update starts from the truth.
					if cur, verr := s.c.Version(ctx, "Communication", m.ID); verr == nil {
						version = cur
					}
				}
				return 1, err
			}, nil
		},
	}
}
