// Package loadgen drives a FHIR server through standard R4 REST with the
// workloads of Hearth's benchmark suite (create, read, search, include,
// transaction import, conditional update, mixed CRUD) at several
// concurrency levels for a bounded time, and reports throughput, latency
// percentiles, errors by status and the server's memory. Package raw does
// the equivalent work straight through the database driver, the ceiling
// each Hearth figure is compared with.
package loadgen

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"
)

// Options shape the data the workloads create.
type Options struct {
	SeedCount       int    // Communications seeded for W3/W4 (default 100,000)
	ReadSet         int    // Communications seeded for W2 (default 1,000)
	SyntheaDir      string // transaction Bundles for W5
	SeedConcurrency int    // parallel requests while seeding (default 4)
	RandSeed        uint64 // seeds every worker's random source
	Progress        io.Writer
}

// Suite is the set of HTTP workloads against one server, with the data
// they share (referenced patients and practitioners, seeded sets), made
// once on first use.
type Suite struct {
	c   *Client
	opt Options

	refsOnce sync.Once
	refs     refs
	refsErr  error

	txOnce sync.Once
	txErr  error

	searchOnce sync.Once
	searchErr  error
	// searchPractitioners are the recipients of the W3/W4 set's messages:
	// refs.Practitioners, or an earlier run's when the set is reused.
	searchPractitioners []string
}

// NewSuite prepares the workloads for the server c talks to.
func NewSuite(c *Client, opt Options) *Suite {
	if opt.SeedCount <= 0 {
		opt.SeedCount = 100_000
	}
	if opt.ReadSet <= 0 {
		opt.ReadSet = 1000
	}
	if opt.SeedConcurrency <= 0 {
		opt.SeedConcurrency = 4
	}
	return &Suite{c: c, opt: opt}
}

// AllWorkloads names the HTTP workloads in the order they run.
func AllWorkloads() []string { return []string{"W1", "W2", "W3", "W4", "W5", "W6", "W7", "W8"} }

// Workloads returns the named workloads (all when names is empty) in the
// order of AllWorkloads. W3 expands to its three selectivities.
func (s *Suite) Workloads(names []string) ([]Workload, error) {
	all := AllWorkloads()
	if len(names) == 0 {
		names = all
	}
	for _, n := range names {
		if !slices.Contains(all, strings.ToUpper(n)) {
			return nil, fmt.Errorf("unknown workload %q (want %s)", n, strings.Join(all, ","))
		}
	}
	var out []Workload
	for _, n := range all {
		if !slices.ContainsFunc(names, func(m string) bool { return strings.EqualFold(m, n) }) {
			continue
		}
		switch n {
		case "W1":
			out = append(out, s.create())
		case "W2":
			out = append(out, s.read())
		case "W3":
			out = append(out, s.tokenSearch()...)
		case "W4":
			out = append(out, s.include())
		case "W5":
			out = append(out, s.synthea())
		case "W6":
			out = append(out, s.update())
		case "W7":
			out = append(out, s.mixed())
		case "W8":
			out = append(out, s.paging())
		}
	}
	return out, nil
}

// Sizes of the pools of referenced resources (the raw ceiling's
// Communications reference pools of the same sizes).
const (
	RefPatients      = 10
	RefPractitioners = 20
)

// ensureRefs creates the patients and practitioners that bodies refer to.
func (s *Suite) ensureRefs(ctx context.Context) error {
	s.refsOnce.Do(func() {
		s.refs.Patients, s.refsErr = s.createMany(ctx, "Patient", RefPatients, func(i int) []byte { return patient("", i) })
		if s.refsErr != nil {
			return
		}
		s.refs.Practitioners, s.refsErr = s.createMany(ctx, "Practitioner", RefPractitioners,
			func(i int) []byte { return practitioner("", i) })
	})
	return s.refsErr
}

// rng is worker i's random source: reproducible for a given --rand-seed.
func (s *Suite) rng(i int) *rand.Rand {
	return rand.New(rand.NewPCG(s.opt.RandSeed, uint64(i)+1))
}

// message returns a random Communication between the referenced people.
func (s *Suite) message(r *rand.Rand, status string) message {
	p := s.refs.Practitioners
	return message{
		Status:     status,
		Identifier: newUUID(),
		Subject:    s.refs.Patients[r.IntN(len(s.refs.Patients))],
		Sender:     p[r.IntN(len(p))],
		Recipients: []string{p[r.IntN(len(p))], p[r.IntN(len(p))]},
		Sent:       time.Now(),
	}
}

// Random-source keys of seeded resources, apart from the workers' (0, 1, …).
const (
	readSetSeeds   = 1 << 40
	searchSetSeeds = 2 << 40
)

// seedMessage is the k-th seeded Communication. Seeding workers build
// bodies concurrently, so each body has its own random source keyed by k:
// safe, and the set does not depend on which worker built what.
func (s *Suite) seedMessage(k int, status string) message {
	return s.message(s.rng(k), status)
}
