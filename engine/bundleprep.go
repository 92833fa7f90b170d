package engine

import (
	"errors"
	"net/http"
	"runtime"
	"sync"

	"github.com/hearth-fhir/hearth/auth/scope"
	"github.com/hearth-fhir/hearth/fhir"
)

// prepared is a create entry's work that needs no database: its body with
// references rewritten, checked against the caller's compartment and
// validated (d). err is the entry's failure, reported when the entry's turn
// comes, so that a transaction still fails at the entry the serial order
// reaches first.
type prepared struct {
	d   draft
	err error
}

// errNeedsTx marks a body with a conditional reference, which only a search
// inside the transaction can resolve: such entries are prepared in turn.
var errNeedsTx = errors.New("conditional reference")

// preparePosts rewrites and validates the create entries of a Bundle on
// every core before the entries are applied one by one: validation is most
// of an import's CPU, and the entries are independent of each other once
// their identities are known (refs).
func (e *Engine) preparePosts(p Principal, plans []*entryPlan, refs map[string]string) {
	var todo []*entryPlan
	for _, pl := range plans {
		if pl.Method == http.MethodPost && pl.matched == nil && len(pl.Resource) > 0 {
			todo = append(todo, pl)
		}
	}
	if len(todo) < 2 {
		return
	}
	work := make(chan *entryPlan)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(todo)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for pl := range work {
				pl.prepared = e.preparePost(p, pl, refs)
			}
		}()
	}
	for _, pl := range todo {
		work <- pl
	}
	close(work)
	wg.Wait()
}

// preparePost is preparePosts' work for one entry; nil when the entry has
// a conditional reference and must be prepared inside the transaction.
func (e *Engine) preparePost(p Principal, pl *entryPlan, refs map[string]string) *prepared {
	obj := pl.Parsed
	if obj == nil {
		var err error
		if obj, err = fhir.ParseObject(pl.Resource); err != nil {
			return &prepared{err: err}
		}
	}
	// The entry keeps its bytes: one prepared inside the transaction
	// rewrites those, whatever was done to obj here.
	_, err := obj.RewriteReferences(func(ref string) (string, bool, error) {
		if r, ok := refs[ref]; ok {
			return r, true, nil
		}
		if _, _, ok := conditionalReference(ref); ok {
			return "", false, errNeedsTx
		}
		return "", false, nil
	})
	if errors.Is(err, errNeedsTx) {
		return nil
	}
	if err != nil {
		return &prepared{err: err}
	}
	d, err := e.prepareCreate(p, pl.target.Type, pl.id, obj)
	return &prepared{d: d, err: err}
}

// prepareCreate checks a create entry's rewritten body against the
// caller's compartment and validates it.
func (e *Engine) prepareCreate(p Principal, typ, id string, obj *fhir.Object) (draft, error) {
	if patientOnly(p, typ, scope.Create) {
		if err := checkCompartment(p, typ, scope.Create, obj.Bytes()); err != nil {
			return draft{}, err
		}
	}
	return e.prepareObject(obj, typ, id)
}
