package scope

import "slices"

// Narrow returns what may be granted of requested given what a client is
// allowed: each requested scope keeps only the permissions that allowed
// scopes of the same context and the same (or wildcard) type grant; scopes
// left with nothing are dropped. Other scopes survive only if allowed lists
// them too.
//
// An allowed scope with granular Params only covers a requested scope with
// the very same Params, so narrowing never widens a filtered grant. A
// requested wildcard is not expanded into the specific types allowed: the
// client gets what it asked for or less, never a different shape.
func Narrow(requested, allowed Set) Set {
	var out Set
	for _, req := range requested.Resource {
		var grant Perm
		for _, a := range allowed.Resource {
			if covers(a, req) {
				grant |= a.Perms
			}
		}
		p := req.Perms & grant
		if p == 0 {
			continue
		}
		sc := req
		if p != req.Perms {
			// Re-render so the scope string says what was actually granted.
			sc.Perms = p
			sc.Raw = req.Context + "/" + req.Type + "." + p.String() + req.query()
		}
		out.Resource = append(out.Resource, sc)
	}
	for _, o := range requested.Other {
		if slices.Contains(allowed.Other, o) {
			out.Other = append(out.Other, o)
		}
	}
	return out
}

// covers reports whether allowed scope a applies to requested scope r.
func covers(a, r Scope) bool {
	if a.Context != r.Context || (a.Type != "*" && a.Type != r.Type) {
		return false
	}
	if len(a.Params) == 0 {
		return true
	}
	if len(a.Params) != len(r.Params) {
		return false
	}
	for k, v := range a.Params {
		if !slices.Equal(v, r.Params[k]) {
			return false
		}
	}
	return true
}
