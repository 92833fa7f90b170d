package engine

import (
	"context"

	"github.com/hearth-fhir/hearth/auth/scope"
	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/store"
)

// UpdateOptions are the optional parts of an update, patch or delete.
type UpdateOptions struct {
	// IfMatch is the version the client last saw (0: not pinned).
	IfMatch int64
}

// Update replaces a resource with body, which must carry the same id. When
// the resource does not exist it is created with that id if the engine
// allows update-as-create and the caller may create.
func (e *Engine) Update(ctx context.Context, p Principal, typ, id string, body []byte, opt UpdateOptions) (Result, error) {
	next, err := e.prepareUpdate(p, typ, id, body)
	if err != nil {
		return Result{}, e.auditWrite(ctx, p, "update", typ, id, err)
	}
	res, err := e.writeVersion(ctx, p, "update", typ, id, opt.IfMatch, e.guardWrite(ctx, p, "update", typ, id, next))
	return res, e.auditWrite(ctx, p, "update", typ, id, err)
}

// prepareUpdate checks an update and validates its body, returning how to
// build the next version from the current one.
func (e *Engine) prepareUpdate(p Principal, typ, id string, body []byte) (nextFunc, error) {
	if err := target(p, typ, id, scope.Update); err != nil {
		return nil, err
	}
	obj, err := fhir.ParseObject(body)
	if err != nil {
		return nil, err
	}
	bid, present, err := objectID(obj)
	if err != nil {
		return nil, err
	}
	if !present {
		return nil, fhir.Errorf(fhir.KindInvalid, "the resource must carry its id for an update").At("id")
	}
	if bid != id {
		return nil, fhir.Errorf(fhir.KindInvalid, "id %q in the body does not match %q in the URL", bid, id).At("id")
	}
	if err := checkCompartment(p, typ, scope.Update, body); err != nil {
		return nil, err
	}
	d, err := e.prepareObject(obj, typ, id)
	if err != nil {
		return nil, err
	}
	return func(cur store.Record, found bool) (draft, error) {
		if found && !cur.Deleted {
			if err := checkCompartment(p, typ, scope.Update, cur.Body); err != nil {
				return draft{}, err
			}
		}
		if !found {
			if !e.cfg.UpdateCreate {
				return draft{}, fhir.Errorf(fhir.KindMethodNotAllowed,
					"%s/%s does not exist and this server does not create resources by update", typ, id)
			}
			if err := allow(p, typ, scope.Create); err != nil {
				return draft{}, err
			}
		}
		return d, nil
	}, nil
}
