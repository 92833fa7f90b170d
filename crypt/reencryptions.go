package crypt

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// ErrReencrypting refuses a rotation while the tenant's previous one is
// still re-encrypting: a second would only restart the same work.
var ErrReencrypting = errors.New("crypt: a re-encryption of the tenant is running")

// ReencryptStatus is one tenant's server-side re-encryption: the running
// one, or the last to end.
type ReencryptStatus struct {
	Tenant   string
	Running  bool
	Progress ReencryptProgress
	Started  time.Time
	Finished time.Time // zero while running
	Err      error     // why it failed or stopped; nil on success
}

// Reencryptions runs the re-encryptions of rotations made by a running
// server, in the background, one per tenant at a time, and remembers how
// each went for status reports and metrics. It is safe for concurrent use.
type Reencryptions struct {
	ring *Ring
	bs   BodyStore

	mu     sync.Mutex
	jobs   map[string]*ReencryptStatus
	cancel map[string]context.CancelFunc
	closed bool
	wg     sync.WaitGroup
}

// NewReencryptions re-encrypts bs with ring's keys.
func NewReencryptions(ring *Ring, bs BodyStore) *Reencryptions {
	return &Reencryptions{ring: ring, bs: bs, jobs: map[string]*ReencryptStatus{}, cancel: map[string]context.CancelFunc{}}
}

// Rotate makes a new DEK version for tenant, which this process encrypts
// with at once, and starts re-encrypting the tenant's stored bodies to it
// in the background. done, when set, hears of the outcome from the
// background goroutine. While one runs, another is ErrReencrypting and
// nothing is rotated. ctx bounds the rotation only; the re-encryption runs
// until it ends or Close stops it.
func (j *Reencryptions) Rotate(ctx context.Context, tenant string, done func(ReencryptStatus)) (ReencryptStatus, error) {
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return ReencryptStatus{}, errors.New("crypt: the server is stopping")
	}
	if cur := j.jobs[tenant]; cur != nil && cur.Running {
		st := j.copy(cur)
		j.mu.Unlock()
		return st, ErrReencrypting
	}
	st := &ReencryptStatus{Tenant: tenant, Running: true, Started: j.ring.now()}
	j.jobs[tenant] = st // claimed: a concurrent Rotate sees it running
	j.mu.Unlock()

	version, err := j.ring.Rotate(ctx, tenant)
	if err != nil {
		return j.finish(st, j.ended(st, ReencryptProgress{}, err)), err
	}
	jctx, cancel := context.WithCancel(context.Background())
	j.mu.Lock()
	st.Progress.Version = version
	j.cancel[tenant] = cancel
	first := j.copy(st)
	j.wg.Add(1)
	j.mu.Unlock()
	go func() {
		defer j.wg.Done()
		defer cancel()
		p, err := j.ring.Reencrypt(jctx, j.bs, tenant, func(p ReencryptProgress) {
			j.mu.Lock()
			st.Progress = p
			j.mu.Unlock()
		})
		final := j.ended(st, p, err)
		// The job counts as running until done has heard of its end (and
		// audited it), so that whoever sees it finished sees that too.
		if done != nil {
			done(final)
		}
		j.finish(st, final)
	}()
	return first, nil
}

// ended is st as it ends with progress p and error err.
func (j *Reencryptions) ended(st *ReencryptStatus, p ReencryptProgress, err error) ReencryptStatus {
	j.mu.Lock()
	final := j.copy(st)
	j.mu.Unlock()
	if p.Version == 0 {
		p.Version = final.Progress.Version
	}
	final.Progress, final.Err, final.Running, final.Finished = p, err, false, j.ring.now()
	if errors.Is(err, context.Canceled) {
		final.Err = fmt.Errorf("stopped with the server after %d bodies; rotate again to finish: %w", p.Rewritten, err)
	}
	return final
}

// finish publishes the end of st's job and returns it.
func (j *Reencryptions) finish(st *ReencryptStatus, final ReencryptStatus) ReencryptStatus {
	j.mu.Lock()
	defer j.mu.Unlock()
	*st = final
	delete(j.cancel, st.Tenant)
	return j.copy(st)
}

// copy returns st with its own slice of failures. Called with mu held.
func (j *Reencryptions) copy(st *ReencryptStatus) ReencryptStatus {
	out := *st
	out.Progress.Failures = slices.Clone(st.Progress.Failures)
	return out
}

// Status returns the tenant's running or last re-encryption; a zero Started
// means none ran since the process started.
func (j *Reencryptions) Status(tenant string) ReencryptStatus {
	j.mu.Lock()
	defer j.mu.Unlock()
	st := j.jobs[tenant]
	if st == nil {
		return ReencryptStatus{Tenant: tenant}
	}
	return j.copy(st)
}

// All returns every tenant's running or last re-encryption, by tenant.
func (j *Reencryptions) All() []ReencryptStatus {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := make([]ReencryptStatus, 0, len(j.jobs))
	for _, st := range j.jobs {
		out = append(out, j.copy(st))
	}
	slices.SortFunc(out, func(a, b ReencryptStatus) int { return strings.Compare(a.Tenant, b.Tenant) })
	return out
}

// Close stops the running re-encryptions and waits for them to return.
// What they re-encrypted stays; the rest keeps its old key version, which
// still decrypts, until the tenant is rotated again.
func (j *Reencryptions) Close() {
	j.mu.Lock()
	j.closed = true
	for _, cancel := range j.cancel {
		cancel()
	}
	j.mu.Unlock()
	j.wg.Wait()
}
