package engine

import (
	"context"
	"errors"

	jsonpatch "github.com/evanphx/json-patch/v5"

	"github.com/hearth-fhir/hearth/auth/scope"
	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/store"
)

// maxPatchOps bounds the work one PATCH request can ask for.
const maxPatchOps = 1000

// Patch applies a JSON Patch (RFC 6902) to the current version and stores
// the result after validating it. A malformed patch is KindInvalid; a patch
// that cannot be applied, or whose result is not a valid resource, is
// KindUnprocessable.
func (e *Engine) Patch(ctx context.Context, p Principal, typ, id string, patch []byte, opt UpdateOptions) (Result, error) {
	next, err := e.preparePatch(p, typ, id, patch)
	if err != nil {
		return Result{}, e.auditWrite(ctx, p, "patch", typ, id, err)
	}
	res, err := e.writeVersion(ctx, p, "patch", typ, id, opt.IfMatch, e.guardWrite(ctx, p, "patch", typ, id, next))
	return res, e.auditWrite(ctx, p, "patch", typ, id, err)
}

// preparePatch checks a patch request and decodes the patch document,
// returning how to build the next version from the current one.
func (e *Engine) preparePatch(p Principal, typ, id string, patch []byte) (nextFunc, error) {
	if err := target(p, typ, id, scope.Update); err != nil {
		return nil, err
	}
	ops, err := jsonpatch.DecodePatch(patch)
	if err != nil {
		return nil, fhir.Errorf(fhir.KindInvalid, "body is not a JSON Patch document")
	}
	if len(ops) > maxPatchOps {
		return nil, fhir.Errorf(fhir.KindTooLarge, "a patch may hold at most %d operations", maxPatchOps)
	}
	return func(cur store.Record, found bool) (draft, error) {
		if !found {
			return draft{}, fhir.Errorf(fhir.KindNotFound, "%s/%s does not exist", typ, id)
		}
		if cur.Deleted {
			return draft{}, fhir.Errorf(fhir.KindGone, "%s/%s was deleted", typ, id)
		}
		if err := checkCompartment(p, typ, scope.Update, cur.Body); err != nil {
			return draft{}, err
		}
		patched, err := ops.Apply(cur.Body)
		if err != nil {
			return draft{}, fhir.Errorf(fhir.KindUnprocessable, "the patch cannot be applied: %s", patchReason(err))
		}
		if err := checkCompartment(p, typ, scope.Update, patched); err != nil {
			return draft{}, err
		}
		if bid, _, err := bodyID(patched); err != nil || bid != id {
			return draft{}, fhir.Errorf(fhir.KindUnprocessable, "a patch may not change the id").At("id")
		}
		d, err := e.prepare(patched, typ, id)
		if fe, ok := err.(*fhir.Error); ok && fe.Kind == fhir.KindInvalid {
			unprocessable := *fe
			unprocessable.Kind = fhir.KindUnprocessable
			return draft{}, &unprocessable
		}
		return d, err
	}, nil
}

// patchReason names why a patch failed without echoing document content.
func patchReason(err error) string {
	switch {
	case errors.Is(err, jsonpatch.ErrTestFailed):
		return "a test operation failed"
	case errors.Is(err, jsonpatch.ErrMissing):
		return "a path does not exist"
	default:
		return "an operation does not fit the resource"
	}
}
