package engine

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/hearth-fhir/hearth/fhir"
)

// entryTarget is what a Bundle entry's request.url names.
type entryTarget struct {
	Type    string
	ID      string
	Version int64  // from Type/id/_history/n
	Query   string // from Type?criteria (conditional update/delete, search)
}

// parseEntryURL reads a request URL: relative (Patient, Patient/1,
// Patient/1/_history/2, Patient?identifier=x) or absolute, in which case
// the path from the first resource type on is used.
func parseEntryURL(raw string) (entryTarget, error) {
	bad := func() (entryTarget, error) {
		return entryTarget{}, fhir.Errorf(fhir.KindInvalid, "request.url %q is not a FHIR request URL", raw)
	}
	path, query, _ := strings.Cut(raw, "?")
	if u, err := url.Parse(path); err == nil && u.Scheme != "" {
		path = u.Path
	}
	segs := strings.Split(strings.Trim(path, "/"), "/")
	start := -1
	for i, s := range segs {
		if fhir.IsResourceType(s) {
			start = i
			break
		}
	}
	if start < 0 {
		return bad()
	}
	segs = segs[start:]
	t := entryTarget{Type: segs[0], Query: query}
	switch {
	case len(segs) == 1:
	case len(segs) == 2 && query == "":
		t.ID = segs[1]
	case len(segs) == 4 && segs[2] == "_history" && query == "":
		v, err := strconv.ParseInt(segs[3], 10, 64)
		if err != nil || v < 1 {
			return bad()
		}
		t.ID, t.Version = segs[1], v
	default:
		return bad()
	}
	return t, nil
}

// conditionalReference splits "Type?criteria", the form of a reference the
// server resolves by search inside a transaction.
func conditionalReference(ref string) (typ, query string, ok bool) {
	typ, query, ok = strings.Cut(ref, "?")
	if !ok || !fhir.IsResourceType(typ) || query == "" {
		return "", "", false
	}
	return typ, query, true
}
