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

// SplitReference reads a literal reference. A relative one, or an absolute
// one under base (this server's FHIR base URL), is local: its type and id.
// Anything else is only a URL. A local reference has the form
// [prefix/]Type/id[/_history/version], which references to this server are
// indexed without the version of. Every write indexes its references
// through here, so it reads them with string operations rather than a
// regular expression (FuzzSplitReference holds it to the one it replaced).
func SplitReference(ref, base string) (typ, id, url string) {
	s := ref
	if rest, version, ok := cutLast(s); ok && isID(version) {
		if rest, h, ok := cutLast(rest); ok && h == "_history" {
			s = rest
		}
	}
	rest, id, ok := cutLast(s)
	if !ok || !isID(id) {
		return "", "", ref
	}
	prefix, typ, hasPrefix := cutLast(rest)
	if !hasPrefix {
		typ = rest
	}
	if !isTypeName(typ) || strings.IndexByte(prefix, '\n') >= 0 || !fhir.IsResourceType(typ) {
		return "", "", ref
	}
	if prefix == "" || (base != "" && prefix == base) {
		return typ, id, ""
	}
	return "", "", ref
}

// cutLast splits s around its last slash.
func cutLast(s string) (before, after string, found bool) {
	i := strings.LastIndexByte(s, '/')
	if i < 0 {
		return "", s, false
	}
	return s[:i], s[i+1:], true
}

// isID reports whether s has the FHIR id syntax: [A-Za-z0-9\-.]{1,64}.
func isID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlpha(c) && !('0' <= c && c <= '9') && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

// isTypeName reports whether s looks like a resource type:
// [A-Z][A-Za-z]{1,63}.
func isTypeName(s string) bool {
	if len(s) < 2 || len(s) > 64 || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isAlpha(s[i]) {
			return false
		}
	}
	return true
}

func isAlpha(c byte) bool { return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' }

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
