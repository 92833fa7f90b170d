package engine

import (
	"context"

	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/store"
)

// maxAttempts bounds retries of an unpinned write that lost a race: without
// If-Match the last writer wins, so the write is simply redone on top.
const maxAttempts = 3

// nextFunc builds the new version of a resource from the current one (found
// is false when the resource never existed).
type nextFunc func(cur store.Record, found bool) (draft, error)

// writeVersion writes the next version of typ/id. ifMatch (0 for none) pins
// the version the caller saw; a mismatch is KindPreconditionFailed. The
// current version is read and the new one built (validated) outside the
// transaction, so no write lock is held meanwhile; the store then refuses the
// write if another version landed since the read, and it is retried (or,
// when pinned, refused with 412).
func (e *Engine) writeVersion(ctx context.Context, p Principal, interaction, typ, id string, ifMatch int64, next nextFunc) (Result, error) {
	for attempt := 1; ; attempt++ {
		cur, err := e.store.Read(ctx, p.Tenant, typ, id)
		w, created, err := e.nextVersion(typ, id, ifMatch, cur, err, next)
		if err != nil {
			return Result{}, err
		}
		it := interaction
		if created {
			it = "create" // update-as-create
		}
		err = e.commitWrite(ctx, p.Tenant, w, withPatients(e.event(p, it, nil, Ref{w.Record.Type, w.Record.ID, w.Record.Version}), w.Record))
		if fhir.IsKind(err, fhir.KindConflict) {
			if ifMatch != 0 {
				return Result{}, lostRace(typ, id, ifMatch)
			}
			if attempt < maxAttempts {
				continue
			}
		}
		if err != nil {
			return Result{}, err
		}
		return resultOf(w.Record, created), nil
	}
}

// writeVersionIn is writeVersion inside a caller's transaction (a Bundle
// entry): the read sees the transaction's own writes, and a lost race fails
// the transaction instead of being retried.
func (e *Engine) writeVersionIn(ctx context.Context, tx store.Tx, typ, id string, ifMatch int64, next nextFunc) (Result, error) {
	cur, err := tx.Read(ctx, typ, id)
	w, created, err := e.nextVersion(typ, id, ifMatch, cur, err, next)
	if err != nil {
		return Result{}, err
	}
	if err := tx.Put(ctx, w); err != nil {
		if fhir.IsKind(err, fhir.KindConflict) && ifMatch != 0 {
			return Result{}, lostRace(typ, id, ifMatch)
		}
		return Result{}, err
	}
	return resultOf(w.Record, created), nil
}

// nextVersion checks the precondition against the current version (readErr
// is the error of reading it) and builds the write of the next version.
func (e *Engine) nextVersion(typ, id string, ifMatch int64, cur store.Record, readErr error, next nextFunc) (store.Write, bool, error) {
	found := readErr == nil
	if readErr != nil && !fhir.IsKind(readErr, fhir.KindNotFound) {
		return store.Write{}, false, readErr
	}
	if ifMatch != 0 && (!found || cur.Version != ifMatch) {
		return store.Write{}, false, fhir.Errorf(fhir.KindPreconditionFailed,
			"If-Match version %d is not the current version of %s/%s", ifMatch, typ, id)
	}
	d, err := next(cur, found)
	if err != nil {
		return store.Write{}, false, err
	}
	rec, err := d.record(typ, id, cur.Version+1, e.stamp())
	if err != nil {
		return store.Write{}, false, err
	}
	return store.Write{Record: rec, PrevVersion: cur.Version, Index: d.index}, !found || cur.Deleted, nil
}

func lostRace(typ, id string, ifMatch int64) error {
	return fhir.Errorf(fhir.KindPreconditionFailed, "%s/%s changed since version %d", typ, id, ifMatch)
}
