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
// the version the caller saw; a mismatch is KindPreconditionFailed. The write
// itself is optimistic: the store refuses it if another version landed since
// the read, and then it is retried (or, when pinned, refused with 412).
func (e *Engine) writeVersion(ctx context.Context, p Principal, typ, id string, ifMatch int64, next nextFunc) (Result, error) {
	for attempt := 1; ; attempt++ {
		cur, err := e.store.Read(ctx, p.Tenant, typ, id)
		found := err == nil
		if err != nil && !fhir.IsKind(err, fhir.KindNotFound) {
			return Result{}, err
		}
		if ifMatch != 0 && (!found || cur.Version != ifMatch) {
			return Result{}, fhir.Errorf(fhir.KindPreconditionFailed,
				"If-Match version %d is not the current version of %s/%s", ifMatch, typ, id)
		}
		d, err := next(cur, found)
		if err != nil {
			return Result{}, err
		}
		var res Result
		err = e.store.Tx(ctx, p.Tenant, func(tx store.Tx) error {
			rec, err := d.record(typ, id, cur.Version+1, e.stamp())
			if err != nil {
				return err
			}
			w := store.Write{Record: rec, PrevVersion: cur.Version, Index: d.index}
			if err := tx.Put(ctx, w); err != nil {
				return err
			}
			res = resultOf(rec, !found || cur.Deleted)
			return nil
		})
		if fhir.IsKind(err, fhir.KindConflict) {
			if ifMatch != 0 {
				return Result{}, fhir.Errorf(fhir.KindPreconditionFailed,
					"%s/%s changed since version %d", typ, id, ifMatch)
			}
			if attempt < maxAttempts {
				continue
			}
		}
		return res, err
	}
}
