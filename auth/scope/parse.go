package scope

import (
	"net/url"
	"strings"

	"github.com/hearth-fhir/hearth/fhir"
)

// Parse parses a space-separated scope string. A token that starts with a
// SMART context (patient/, user/, system/) must be a well-formed resource
// scope; anything else is kept in Other. Malformed input is KindInvalid.
func Parse(s string) (Set, error) {
	var set Set
	seen := map[string]bool{}
	for _, tok := range strings.Split(s, " ") {
		if tok == "" || seen[tok] {
			continue // RFC 6749 separates with single spaces; be lenient on runs
		}
		seen[tok] = true
		if !validToken(tok) {
			return Set{}, invalid("scope contains a character OAuth does not allow")
		}
		ctx, rest, ok := strings.Cut(tok, "/")
		if !ok || !isContext(ctx) {
			set.Other = append(set.Other, tok)
			continue
		}
		sc, err := parseResource(ctx, rest)
		if err != nil {
			return Set{}, err
		}
		sc.Raw = tok
		set.Resource = append(set.Resource, sc)
	}
	return set, nil
}

// isContext reports whether a prefix makes a token a resource scope. Other
// tokens with a slash (launch/patient) are "other" scopes.
func isContext(s string) bool {
	return s == "patient" || s == "user" || s == "system"
}

// parseResource parses "Type.perms[?params]" after the context.
func parseResource(ctx, rest string) (Scope, error) {
	rest, query, hasQuery := strings.Cut(rest, "?")
	typ, perms, ok := strings.Cut(rest, ".")
	if !ok {
		return Scope{}, invalid("resource scope %q needs .read, .write, .* or .cruds letters", ctx+"/"+rest)
	}
	if !validType(typ) {
		return Scope{}, invalid("resource scope %q names no resource type", ctx+"/"+rest)
	}
	sc := Scope{Context: ctx, Type: typ}
	v2 := false
	switch perms {
	case "read":
		sc.Perms = Read | Search
	case "write":
		sc.Perms = Create | Update | Delete
	case "*":
		sc.Perms = All
	default:
		p, err := parseLetters(perms)
		if err != nil {
			return Scope{}, err
		}
		sc.Perms, v2 = p, true
	}
	if hasQuery {
		// Granular parameters are a v2 feature; on a v1 scope they would be a
		// guess at what the client meant.
		if !v2 {
			return Scope{}, invalid("granular scope parameters need v2 permissions (.cruds)")
		}
		params, err := url.ParseQuery(query)
		if err != nil || len(params) == 0 {
			return Scope{}, invalid("malformed granular scope parameters")
		}
		sc.Params = params
	}
	return sc, nil
}

// parseLetters reads v2 permissions: a non-empty subset of c, r, u, d, s in
// that order, each at most once.
func parseLetters(s string) (Perm, error) {
	var p Perm
	next := 0
	for i := 0; i < len(s); i++ {
		j := next
		for j < len(letters) && letters[j].char != s[i] {
			j++
		}
		if j == len(letters) {
			return 0, invalid("scope permissions must be .read, .write, .* or letters of cruds in that order")
		}
		p |= letters[j].perm
		next = j + 1
	}
	if p == 0 {
		return 0, invalid("scope permissions are empty")
	}
	return p, nil
}

// validType accepts "*" or a name shaped like an R4 resource type. Whether
// the type exists is the engine's question, not the parser's.
func validType(t string) bool {
	if t == "*" {
		return true
	}
	if t == "" || len(t) > 64 || t[0] < 'A' || t[0] > 'Z' {
		return false
	}
	for i := 1; i < len(t); i++ {
		c := t[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// validToken applies RFC 6749's scope-token grammar (%x21 / %x23-5B /
// %x5D-7E), which keeps quotes, backslashes and control bytes out of tokens
// and so out of logs and JWTs.
func validToken(t string) bool {
	for i := 0; i < len(t); i++ {
		c := t[i]
		if c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

func invalid(format string, args ...any) error {
	e := fhir.Errorf(fhir.KindInvalid, format, args...)
	e.Op = "scope.Parse"
	return e
}
