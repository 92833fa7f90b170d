package search

import (
	"regexp"
	"strings"

	"github.com/hearth-fhir/hearth/fhir"
)

// ReferenceValue is a reference search value: a resource of this server
// (ID, with one of Types, any of the parameter's targets when the value does
// not name one) or, for absolute and canonical references, a URL.
type ReferenceValue struct {
	Types []string
	ID    string
	URL   string
}

func (ReferenceValue) isValue() {}

// localRef matches a relative literal reference, Type/id, with an optional
// version, which references to this server are indexed without.
var localRef = regexp.MustCompile(`^(?:(.*)/)?([A-Z][A-Za-z]{1,63})/([A-Za-z0-9\-.]{1,64})(?:/_history/[A-Za-z0-9\-.]{1,64})?$`)

// SplitReference reads a literal reference. A relative one, or an absolute
// one under base (this server's FHIR base URL), is local: its type and id.
// Anything else is only a URL.
func SplitReference(ref, base string) (typ, id, url string) {
	m := localRef.FindStringSubmatch(ref)
	if m != nil && fhir.IsResourceType(m[2]) && (m[1] == "" || (base != "" && m[1] == base)) {
		return m[2], m[3], ""
	}
	return "", "", ref
}

// parseReference reads a reference search value for param p. typ is the
// :[type] modifier, if any.
func parseReference(raw string, p *Param, typ, base string) (Value, error) {
	raw = unescape(raw)
	if raw == "" {
		return nil, fhir.Errorf(fhir.KindInvalid, "a reference search value needs an id or a URL")
	}
	targets := p.Targets
	if typ != "" {
		targets = []string{typ}
	}
	if !strings.Contains(raw, "/") && !strings.Contains(raw, ":") {
		if !idPattern.MatchString(raw) {
			return nil, fhir.Errorf(fhir.KindInvalid, "%q is not a valid resource id", raw)
		}
		return ReferenceValue{Types: targets, ID: raw}, nil
	}
	t, id, url := SplitReference(raw, base)
	if url != "" {
		return ReferenceValue{URL: url}, nil
	}
	if !contains(targets, t) && !(len(targets) == 1 && targets[0] == "Resource") && len(p.Targets) > 0 {
		return nil, fhir.Errorf(fhir.KindInvalid, "parameter %s does not refer to %s resources", p.Code, t)
	}
	return ReferenceValue{Types: []string{t}, ID: id}, nil
}

// idPattern is the FHIR id syntax.
var idPattern = regexp.MustCompile(`^[A-Za-z0-9\-.]{1,64}$`)

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// addReferences indexes a Reference (its literal reference, and its
// identifier for :identifier) or a canonical or uri naming a resource by URL.
// A canonical's |version is indexed both with and without it.
func (ix *Index) addReferences(param, typ, base string, v any) {
	switch x := v.(type) {
	case string:
		ix.addReferenceURL(param, x)
	case map[string]any:
		if typ != "Reference" {
			return
		}
		if ref := str(x["reference"]); ref != "" && !strings.HasPrefix(ref, "#") {
			t, id, url := SplitReference(ref, base)
			if url != "" {
				ix.References = append(ix.References, ReferenceRow{Param: param, URL: url})
			} else {
				ix.References = append(ix.References, ReferenceRow{Param: param, TargetType: t, TargetID: id})
			}
		}
		if ident, ok := x["identifier"].(map[string]any); ok {
			ix.addToken(param+identifierSuffix, str(ident["system"]), str(ident["value"]))
		}
	}
}

func (ix *Index) addReferenceURL(param, url string) {
	if url == "" {
		return
	}
	ix.References = append(ix.References, ReferenceRow{Param: param, URL: url})
	if u, _, ok := strings.Cut(url, "|"); ok {
		ix.References = append(ix.References, ReferenceRow{Param: param, URL: u})
	}
}
