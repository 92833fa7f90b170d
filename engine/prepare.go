package engine

import (
	"strconv"
	"time"

	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/fhir/search"
	"github.com/hearth-fhir/hearth/store"
)

// draft is a validated resource body waiting for its version number, with
// its search index rows.
type draft struct {
	obj   *fhir.Object
	index search.Index
}

// prepare checks that body is a valid typ resource and returns it ready to be
// stamped. Validation runs outside the database transaction so that no lock
// is held while the (comparatively slow) validator works: only versionId
// changes afterwards, and it is a plain string.
func (e *Engine) prepare(body []byte, typ, id string) (draft, error) {
	obj, err := fhir.ParseObject(body)
	if err != nil {
		return draft{}, err
	}
	return e.prepareObject(obj, typ, id)
}

// prepareObject is prepare of a body already parsed; obj becomes the
// draft's.
func (e *Engine) prepareObject(obj *fhir.Object, typ, id string) (draft, error) {
	rt, ok := obj.String("resourceType")
	if !ok {
		return draft{}, fhir.Errorf(fhir.KindInvalid, "resourceType is missing").At("resourceType")
	}
	if rt != typ {
		return draft{}, fhir.Errorf(fhir.KindInvalid, "resourceType %q does not match the endpoint %q", rt, typ).At("resourceType")
	}
	if err := obj.Stamp(id, 1, e.stamp()); err != nil {
		return draft{}, err
	}
	body := obj.Bytes()
	if err := e.validator.Validate(body); err != nil {
		return draft{}, err
	}
	ix, err := e.index(typ, body)
	if err != nil {
		return draft{}, err
	}
	return draft{obj: obj, index: ix}, nil
}

// record stamps the draft with its final version and returns the row to write.
func (d draft) record(typ, id string, version int64, at time.Time) (store.Record, error) {
	if err := d.obj.Stamp(id, version, at); err != nil {
		return store.Record{}, err
	}
	return store.Record{Type: typ, ID: id, Version: version, LastUpdated: at, Body: d.obj.Bytes()}, nil
}

// bodyID returns the id member of a body, and whether it is present.
func bodyID(body []byte) (string, bool, error) {
	obj, err := fhir.ParseObject(body)
	if err != nil {
		return "", false, err
	}
	return objectID(obj)
}

// objectID returns the id member of a parsed body, and whether it is
// present.
func objectID(obj *fhir.Object) (string, bool, error) {
	if obj.Get("id") == nil {
		return "", false, nil
	}
	id, ok := obj.String("id")
	if !ok {
		return "", true, fhir.Errorf(fhir.KindInvalid, "id must be a string").At("id")
	}
	return id, true, nil
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }
