package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"

	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/policy"
	"github.com/hearth-fhir/hearth/store"
)

// Decider is the access policy the engine asks after the SMART scope
// check; both must allow. policy.Engine implements it.
type Decider interface {
	Decide(ctx context.Context, in policy.Input) (policy.Decision, error)
}

// WithPolicy makes every interaction ask d as well as check scopes.
// Without it only scopes decide.
func WithPolicy(d Decider) Option { return func(e *Engine) { e.policy = d } }

// open is the decision when no policy is configured.
var open = policy.Decision{Allow: true, Reason: "no access policy configured",
	SearchConstraints: policy.Constraints{{Type: "*"}}}

// decide asks the policy about one interaction. resource is the resource
// acted on (nil: none, or it does not exist) and current the version a
// change replaces. A denial is KindForbidden with the policy's reason, or
// KindNotFound when the engine hides what callers may not see.
func (e *Engine) decide(ctx context.Context, p Principal, interaction, typ, id string, resource, current []byte) (policy.Decision, error) {
	if e.policy == nil {
		return open, nil
	}
	d, err := e.policy.Decide(ctx, policy.Input{
		Principal:   p.forPolicy(),
		Interaction: policy.Interaction{Type: interaction, ResourceType: typ, ID: id},
		Resource:    resource,
		Current:     current,
		Request:     policy.Request{Time: e.now(), Address: p.Address},
	})
	if err != nil {
		return d, &fhir.Error{Kind: fhir.KindInternal, Op: "engine.policy", Message: "the access policy failed", Cause: err}
	}
	if !d.Allow {
		if e.cfg.HideForbidden && id != "" && resource != nil && isRead(interaction) {
			return d, fhir.Errorf(fhir.KindNotFound, "%s/%s not found", typ, id)
		}
		return d, &fhir.Error{Kind: fhir.KindForbidden, Op: "engine.policy", Message: "access denied: " + d.Reason}
	}
	return d, nil
}

func isRead(interaction string) bool {
	return interaction == "read" || interaction == "vread" || interaction == "history-instance"
}

// forPolicy describes p to the policy. Tokens without a kind predate users:
// one with a fhirUser is a user, any other a system client.
func (p Principal) forPolicy() policy.Principal {
	kind := p.Kind
	if kind == "" {
		kind = policy.KindClient
		if p.FhirUser != "" {
			kind = policy.KindUser
		}
	}
	return policy.Principal{
		Tenant: p.Tenant, Subject: p.Subject, Kind: kind, ClientID: p.ClientID, Roles: p.Roles,
		FhirUser: p.FhirUser, Organization: p.Organization, Verified: p.Verified,
		Scopes: strings.Fields(p.Scopes.String()), LaunchPatient: p.LaunchPatient,
	}
}

// guardRead decides a read of rec (readErr is the error of reading it)
// and removes the fields the caller may not see.
func (e *Engine) guardRead(ctx context.Context, p Principal, interaction, typ, id string, rec store.Record, readErr error) (store.Record, error) {
	if readErr != nil && !fhir.IsKind(readErr, fhir.KindNotFound) {
		return rec, readErr
	}
	var body []byte
	if readErr == nil && !rec.Deleted {
		body = rec.Body
	}
	d, err := e.decide(ctx, p, interaction, typ, id, body, nil)
	if err != nil {
		return store.Record{}, err
	}
	if readErr != nil {
		return rec, readErr
	}
	rec.Body = redact(rec.Body, typ, d.HiddenFields)
	return rec, nil
}

// guardWrite wraps the building of a new version with the policy's
// decision on it (and on the version it replaces) and with the read-only
// fields check.
func (e *Engine) guardWrite(ctx context.Context, p Principal, interaction, typ, id string, next nextFunc) nextFunc {
	return func(cur store.Record, found bool) (draft, error) {
		d, err := next(cur, found)
		if err != nil {
			return d, err
		}
		var current []byte
		it := interaction
		if found && !cur.Deleted {
			current = cur.Body
		} else {
			it = "create" // update-as-create, or bringing a deleted resource back
		}
		return d, e.checkWrite(ctx, p, it, typ, id, d.obj.Bytes(), current)
	}
}

// checkWrite asks the policy about a new version and refuses changes to
// read-only fields (for a create: setting them at all).
func (e *Engine) checkWrite(ctx context.Context, p Principal, interaction, typ, id string, body, current []byte) error {
	dec, err := e.decide(ctx, p, interaction, typ, id, body, current)
	if err != nil {
		return err
	}
	for _, f := range fieldsOf(typ, dec.ReadOnlyFields) {
		if !bytes.Equal(field(body, f), field(current, f)) {
			return fhir.Errorf(fhir.KindForbidden, "%s may not be changed by this user", typ+"."+strings.Join(f, ".")).At(typ + "." + strings.Join(f, "."))
		}
	}
	return nil
}

// fieldsOf returns the element paths of typ among paths (Type.a.b), split.
func fieldsOf(typ string, paths []string) [][]string {
	var out [][]string
	for _, p := range paths {
		if rest, ok := strings.CutPrefix(p, typ+"."); ok && rest != "" {
			out = append(out, strings.Split(rest, "."))
		}
	}
	return out
}

// field returns the compact JSON of the element at path, or nil. Arrays on
// the way are kept whole below their element: a path names an element
// wherever it occurs.
func field(body []byte, path []string) []byte {
	if len(body) == 0 {
		return nil
	}
	var v any
	if json.Unmarshal(body, &v) != nil {
		return nil
	}
	v = pick(v, path)
	if v == nil {
		return nil
	}
	out, _ := json.Marshal(v)
	return out
}

func pick(v any, path []string) any {
	if len(path) == 0 {
		return v
	}
	switch x := v.(type) {
	case map[string]any:
		return pick(x[path[0]], path[1:])
	case []any:
		var out []any
		for _, el := range x {
			if got := pick(el, path); got != nil {
				out = append(out, got)
			}
		}
		if out == nil {
			return nil
		}
		return out
	}
	return nil
}

// redact removes the hidden elements of typ from body. Top-level elements
// are removed without decoding the rest; deeper paths decode the element
// they sit in.
func redact(body []byte, typ string, hidden []string) []byte {
	paths := fieldsOf(typ, hidden)
	if len(paths) == 0 || len(body) == 0 {
		return body
	}
	obj, err := fhir.ParseObject(body)
	if err != nil {
		return body
	}
	changed := false
	for _, path := range paths {
		raw := obj.Get(path[0])
		if raw == nil {
			continue
		}
		changed = true
		if len(path) == 1 {
			obj.Delete(path[0])
			continue
		}
		var v any
		if json.Unmarshal(raw, &v) != nil {
			continue
		}
		drop(v, path[1:])
		b, err := json.Marshal(v)
		if err == nil {
			obj.Set(path[0], b)
		}
	}
	if !changed {
		return body
	}
	return obj.Bytes()
}

// drop deletes the element at path inside v, in every array element.
func drop(v any, path []string) {
	switch x := v.(type) {
	case map[string]any:
		if len(path) == 1 {
			delete(x, path[0])
			return
		}
		drop(x[path[0]], path[1:])
	case []any:
		for _, el := range x {
			drop(el, path)
		}
	}
}
