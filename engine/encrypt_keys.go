package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hearth-fhir/hearth/audit"
	"github.com/hearth-fhir/hearth/crypt"
	"github.com/hearth-fhir/hearth/fhir"
)

// KeyStatus is a tenant's field-encryption keys as an administrator sees
// them: the DEK versions, how much stored data each still encrypts, and the
// server's re-encryption of the tenant, running or last.
type KeyStatus struct {
	Tenant  string
	Current int // the DEK version new writes use
	Keys    []KeyVersion
	// Counted says whether Elements, Bodies and Damaged were counted
	// (reading every stored body of the tenant) or left at zero.
	Counted bool
	// Damaged counts stored bodies whose envelopes do not parse: they read
	// as errors under any key.
	Damaged      int
	Reencryption crypt.ReencryptStatus // a zero Started: none since the server started
}

// KeyVersion is one DEK version and what it encrypts.
type KeyVersion struct {
	Version   int
	Current   bool
	CreatedAt time.Time
	KEKID     string
	// NoKey marks a version that stored data names but whose key is gone
	// (shredded): that data cannot be read.
	NoKey    bool
	Elements int // stored encrypted elements under this version
	Bodies   int // stored bodies (current and history) holding at least one
}

// Operation names of the AuditEvents of key management.
const (
	opRotateKeys = "$rotate-keys"
	opReencrypt  = "$reencrypt"
)

// RotateKeys makes a new DEK version for the caller's tenant, used by new
// writes at once, and starts re-encrypting the tenant's stored data to it in
// the background; reads and writes go on meanwhile. A re-encryption still
// running is KindConflict. The rotation and the end of the re-encryption
// are audited (operations $rotate-keys and $reencrypt; the latter names
// the stored versions that did not decrypt). The caller must be an
// administrator: the HTTP layer checks it.
func (e *Engine) RotateKeys(ctx context.Context, p Principal) (KeyStatus, error) {
	jobs, err := e.reencryptions(p)
	if err != nil {
		return KeyStatus{}, err
	}
	_, err = jobs.Rotate(ctx, p.Tenant, func(st crypt.ReencryptStatus) {
		// Audited when it ends, which may be long after the request.
		err := st.Err
		if err == nil && st.Progress.Failed > 0 {
			err = crypt.ErrDecrypt
		}
		err = keysError(err, st.Progress)
		ev := e.event(p, "operation", err)
		ev.Operation = opReencrypt
		if st.Progress.Failed > 0 {
			ev.OutcomeDesc = err.(*fhir.Error).Message // counts, no data
		}
		for _, f := range st.Progress.Failures {
			ev.Entities = append(ev.Entities, audit.Ref{Type: f.Type, ID: f.ID, Version: f.Version})
		}
		e.commitAudit(context.Background(), p, nil, ev)
	})
	err = keysError(err, crypt.ReencryptProgress{})
	ev := e.event(p, "operation", err)
	ev.Operation = opRotateKeys
	if err := e.commitAudit(ctx, p, err, ev); err != nil {
		return KeyStatus{}, err
	}
	return e.KeyStatus(ctx, p, false)
}

// KeyStatus reports the caller's tenant's keys; count also counts the
// stored elements under each version, which reads every stored body of the
// tenant, as `hearth keys status` does.
func (e *Engine) KeyStatus(ctx context.Context, p Principal, count bool) (KeyStatus, error) {
	jobs, err := e.reencryptions(p)
	if err != nil {
		return KeyStatus{}, err
	}
	s := e.store.(*sealedStore)
	ks := KeyStatus{Tenant: p.Tenant, Counted: count, Reencryption: jobs.Status(p.Tenant)}
	infos, err := s.enc.Ring.Keys(ctx, p.Tenant)
	if err != nil {
		return ks, err
	}
	for _, k := range infos {
		if k.Purpose != crypt.PurposeData {
			continue
		}
		ks.Keys = append(ks.Keys, KeyVersion{Version: k.Version, Current: k.Current, CreatedAt: k.CreatedAt, KEKID: k.KEKID})
		if k.Current {
			ks.Current = k.Version
		}
	}
	if !count {
		return ks, nil
	}
	bs, ok := e.rawStore().(crypt.BodyStore)
	if !ok {
		return ks, fhir.Errorf(fhir.KindNotSupported, "this store cannot count encrypted data")
	}
	elements, bodies, err := crypt.Census(ctx, bs, p.Tenant)
	if err != nil {
		return ks, err
	}
	ks.Damaged = bodies[0]
	// Versions the data names whose keys are gone show too.
	for v := range elements {
		if !slices.ContainsFunc(ks.Keys, func(k KeyVersion) bool { return k.Version == v }) {
			ks.Keys = append(ks.Keys, KeyVersion{Version: v, NoKey: true})
		}
	}
	for i := range ks.Keys {
		ks.Keys[i].Elements, ks.Keys[i].Bodies = elements[ks.Keys[i].Version], bodies[ks.Keys[i].Version]
	}
	slices.SortFunc(ks.Keys, func(a, b KeyVersion) int { return a.Version - b.Version })
	return ks, nil
}

// reencryptions returns the server's re-encryptions for an administrator
// of a tenant, or why key management is not available.
func (e *Engine) reencryptions(p Principal) (*crypt.Reencryptions, error) {
	if _, err := tenantOf(p); err != nil {
		return nil, err
	}
	s, ok := e.store.(*sealedStore)
	if !ok {
		return nil, fhir.Errorf(fhir.KindNotSupported, "field encryption is off")
	}
	if s.enc.Reencryptions == nil {
		return nil, fhir.Errorf(fhir.KindNotSupported, "this server does not re-encrypt (use hearth keys rotate)")
	}
	return s.enc.Reencryptions, nil
}

// keysError classifies a key-management failure for the caller and the
// audit log.
func keysError(err error, p crypt.ReencryptProgress) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, crypt.ErrReencrypting):
		return &fhir.Error{Kind: fhir.KindConflict, Op: "engine.RotateKeys", Message: "a re-encryption of this tenant is still running", Cause: err}
	case p.Failed > 0:
		return &fhir.Error{Kind: fhir.KindInternal, Op: "engine.Reencrypt",
			Message: fmt.Sprintf("%d stored versions did not decrypt and keep their old key version", p.Failed), Cause: err}
	}
	return &fhir.Error{Kind: fhir.KindOf(err), Op: "engine.RotateKeys", Message: "key rotation failed", Cause: err}
}
