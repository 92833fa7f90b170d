package search

import (
	"strings"

	"github.com/hearth-fhir/hearth/fhir"
)

// URIValue is a uri search value. Without a modifier the URI must match
// exactly; :below matches URIs that start with Value; :above matches URIs
// that Value starts with, at a path boundary (Above lists them).
type URIValue struct {
	Value string
	Above []string
}

func (URIValue) isValue() {}

// parseURI reads a uri search value under modifier mod.
func parseURI(raw string, mod Modifier) (Value, error) {
	raw = unescape(raw)
	if raw == "" {
		return nil, fhir.Errorf(fhir.KindInvalid, "a uri search value must not be empty")
	}
	v := URIValue{Value: raw}
	if mod == ModAbove {
		// Every ancestor path: http://a/b/c is under http://a/b and http://a.
		for s := raw; s != ""; {
			v.Above = append(v.Above, s)
			i := strings.LastIndexByte(s, '/')
			if i <= 0 || strings.HasSuffix(s[:i], "/") || strings.HasSuffix(s[:i], ":") {
				break
			}
			s = s[:i]
		}
	}
	return v, nil
}

// addURIs indexes a uri, url, canonical, oid or uuid.
func (ix *Index) addURIs(param string, v any) {
	if s, ok := v.(string); ok && s != "" {
		ix.URIs = append(ix.URIs, URIRow{Param: param, Value: s})
	}
}
