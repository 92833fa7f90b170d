package web

import (
	"strings"

	"github.com/hearth-fhir/hearth/auth/scope"
)

func scopeParse(s string) (scope.Set, error) { return scope.Parse(s) }

type scopeOption struct{ Value, Text string }

// describeScopes words each offered scope for the consent page.
func describeScopes(set scope.Set) []scopeOption {
	var out []scopeOption
	for _, sc := range set.Resource {
		out = append(out, scopeOption{Value: sc.String(), Text: describeResource(sc)})
	}
	for _, o := range set.Other {
		out = append(out, scopeOption{Value: o, Text: otherText[o]})
	}
	for i := range out {
		if out[i].Text == "" {
			out[i].Text = out[i].Value
		}
	}
	return out
}

var otherText = map[string]string{
	"openid":           "Know who you are",
	"fhirUser":         "Know your FHIR user record",
	"profile":          "Know your profile",
	"launch":           "Use the context the EHR launched it in",
	"launch/patient":   "Know which patient is selected",
	"launch/encounter": "Know which encounter is selected",
	"offline_access":   "Keep access after you sign out",
	"online_access":    "Keep access while you are signed in",
}

func describeResource(sc scope.Scope) string {
	var verbs []string
	for _, v := range []struct {
		p scope.Perm
		w string
	}{{scope.Create, "create"}, {scope.Read, "read"}, {scope.Update, "update"}, {scope.Delete, "delete"}, {scope.Search, "search"}} {
		if sc.Perms&v.p != 0 {
			verbs = append(verbs, v.w)
		}
	}
	what := sc.Type + " records"
	if sc.Type == "*" {
		what = "all records"
	}
	whose := map[string]string{"patient": "of the selected patient", "user": "you can access", "system": "on the server"}[sc.Context]
	s := strings.Join(verbs, ", ") + " " + what + " " + whose
	if len(sc.Params) > 0 {
		s += " (limited to " + sc.Params.Encode() + ")"
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

type scopeT = scope.Scope

const (
	permCreate = scope.Create
	permUpdate = scope.Update
)
