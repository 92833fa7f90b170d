package engine

import (
	"context"
	"errors"

	"github.com/hearth-fhir/hearth/crypt"
	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/store"
)

// Encryption is field encryption for the engine: the elements Elements
// names are sealed by Ring before a version reaches the store and opened
// when it is read back, so the store (its tables, dumps, backups) never
// holds them in the clear while every interaction sees plain resources.
type Encryption struct {
	Ring     *crypt.Ring
	Elements *crypt.Elements
	// OnDecryptFailure, when set, hears of every stored version that failed
	// to decrypt (for the audit trail and the log); the interaction fails
	// with KindInternal regardless.
	OnDecryptFailure func(ctx context.Context, tenant, typ, id string, version int64, err error)
}

// WithEncryption turns on field encryption. It wraps the engine's store,
// so that every road to the data — reads, writes, history, Bundles,
// conditional matches — passes through it: a version is encrypted after
// validation, just before the store writes it, and decrypted just after
// the store reads it.
func WithEncryption(enc Encryption) Option {
	return func(e *Engine) { e.store = &sealedStore{inner: e.store, enc: enc} }
}

// sealedStore is store.Resources with encryption on the way in and out.
type sealedStore struct {
	inner store.Resources
	enc   Encryption
}

func (s *sealedStore) Read(ctx context.Context, tenant, typ, id string) (store.Record, error) {
	rec, err := s.inner.Read(ctx, tenant, typ, id)
	return s.open(ctx, tenant, rec, err)
}

func (s *sealedStore) ReadVersion(ctx context.Context, tenant, typ, id string, v int64) (store.Record, error) {
	rec, err := s.inner.ReadVersion(ctx, tenant, typ, id, v)
	return s.open(ctx, tenant, rec, err)
}

func (s *sealedStore) History(ctx context.Context, tenant string, q store.HistoryQuery) (store.HistoryPage, error) {
	page, err := s.inner.History(ctx, tenant, q)
	if err != nil {
		return page, err
	}
	for i, rec := range page.Records {
		if page.Records[i], err = s.open(ctx, tenant, rec, nil); err != nil {
			return store.HistoryPage{}, err
		}
	}
	return page, nil
}

// Tx makes sure the tenant has keys before the transaction starts: creating
// them writes to the store, which inside the transaction could wait for
// the transaction itself (SQLite has one write connection).
func (s *sealedStore) Tx(ctx context.Context, tenant string, fn func(store.Tx) error) error {
	if err := s.enc.Ring.EnsureKeys(ctx, tenant); err != nil {
		return &fhir.Error{Kind: fhir.KindOf(err), Op: "engine.Tx", Message: "the tenant's encryption keys are not available", Cause: err}
	}
	return s.inner.Tx(ctx, tenant, func(tx store.Tx) error {
		return fn(&sealedTx{inner: tx, s: s, tenant: tenant})
	})
}

// open decrypts a record read with error err. A version that fails to
// decrypt is an error, never a body with ciphertext or holes in it.
func (s *sealedStore) open(ctx context.Context, tenant string, rec store.Record, err error) (store.Record, error) {
	if err != nil || rec.Body == nil {
		return rec, err
	}
	body, err := s.enc.Ring.DecryptElements(ctx, tenant, rec.Type, rec.ID, rec.Body)
	if err != nil {
		if s.enc.OnDecryptFailure != nil {
			s.enc.OnDecryptFailure(ctx, tenant, rec.Type, rec.ID, rec.Version, err)
		}
		return store.Record{}, decryptError(rec, err)
	}
	rec.Body = body
	return rec, nil
}

// seal encrypts a write's body and blinds its identifier tokens.
func (s *sealedStore) seal(ctx context.Context, tenant string, w store.Write) (store.Write, error) {
	r := w.Record
	if r.Deleted || r.Body == nil || !s.enc.Elements.Encrypts(r.Type) {
		return w, nil
	}
	body, err := s.enc.Ring.EncryptElements(ctx, tenant, r.Type, r.ID, r.Body, s.enc.Elements)
	if err != nil {
		return w, encryptError(r, err)
	}
	w.Record.Body = body
	if w.Tokens, err = s.blindTokens(ctx, tenant, r.Type, w.Tokens); err != nil {
		return w, encryptError(r, err)
	}
	return w, nil
}

// The token index holds identifier values, which for an encrypted
// identifier would leak what the body hides. Such rows hold HMAC tokens
// instead (no system; the code is the token): one for system|value and one
// for the value alone, so that both query forms find them by equality.
func identifierParams(typ string) (withSystem, anySystem string) {
	return typ + ".identifier", typ + ".identifier:value"
}

func (s *sealedStore) blindTokens(ctx context.Context, tenant, typ string, toks []store.Token) ([]store.Token, error) {
	if !s.enc.Elements.Covers(typ + ".identifier") {
		return toks, nil
	}
	withSys, anySys := identifierParams(typ)
	out := make([]store.Token, 0, len(toks)*2)
	for _, t := range toks {
		if t.Param != "identifier" {
			out = append(out, t)
			continue
		}
		a, err := s.enc.Ring.BlindIndex(ctx, tenant, withSys, string(crypt.AAD(t.System, t.Code)))
		if err != nil {
			return nil, err
		}
		b, err := s.enc.Ring.BlindIndex(ctx, tenant, anySys, t.Code)
		if err != nil {
			return nil, err
		}
		out = append(out, store.Token{Param: t.Param, Code: a}, store.Token{Param: t.Param, Code: b})
	}
	return out, nil
}

// blindQuery turns an identifier query into the lookup of its token.
func (s *sealedStore) blindQuery(ctx context.Context, tenant string, q store.TokenQuery) (store.TokenQuery, error) {
	if q.Param != "identifier" || !s.enc.Elements.Covers(q.Type+".identifier") {
		return q, nil
	}
	withSys, anySys := identifierParams(q.Type)
	var err error
	if q.AnySystem {
		q.Code, err = s.enc.Ring.BlindIndex(ctx, tenant, anySys, q.Code)
	} else {
		q.Code, err = s.enc.Ring.BlindIndex(ctx, tenant, withSys, string(crypt.AAD(q.System, q.Code)))
	}
	q.System, q.AnySystem = "", false
	return q, err
}

// sealedTx is a store.Tx with encryption on the way in and out.
type sealedTx struct {
	inner  store.Tx
	s      *sealedStore
	tenant string
}

func (t *sealedTx) Read(ctx context.Context, typ, id string) (store.Record, error) {
	rec, err := t.inner.Read(ctx, typ, id)
	return t.s.open(ctx, t.tenant, rec, err)
}

func (t *sealedTx) ReadVersion(ctx context.Context, typ, id string, v int64) (store.Record, error) {
	rec, err := t.inner.ReadVersion(ctx, typ, id, v)
	return t.s.open(ctx, t.tenant, rec, err)
}

func (t *sealedTx) Put(ctx context.Context, w store.Write) error {
	w, err := t.s.seal(ctx, t.tenant, w)
	if err != nil {
		return err
	}
	return t.inner.Put(ctx, w)
}

// PutAll keeps the store's bulk write (one round trip for a Bundle).
func (t *sealedTx) PutAll(ctx context.Context, ws []store.Write) error {
	sealed := make([]store.Write, len(ws))
	for i, w := range ws {
		var err error
		if sealed[i], err = t.s.seal(ctx, t.tenant, w); err != nil {
			return err
		}
	}
	if bulk, ok := t.inner.(BulkTx); ok {
		return bulk.PutAll(ctx, sealed)
	}
	for _, w := range sealed {
		if err := t.inner.Put(ctx, w); err != nil {
			return err
		}
	}
	return nil
}

func (t *sealedTx) FindTokens(ctx context.Context, q store.TokenQuery) ([]string, error) {
	q, err := t.s.blindQuery(ctx, t.tenant, q)
	if err != nil {
		return nil, &fhir.Error{Kind: fhir.KindOf(err), Op: "engine.FindTokens", Message: "search on an encrypted element failed", Cause: err}
	}
	return t.inner.FindTokens(ctx, q)
}

var (
	_ store.Resources = (*sealedStore)(nil)
	_ store.Tx        = (*sealedTx)(nil)
	_ BulkTx          = (*sealedTx)(nil)
)

// decryptError reports a stored version that does not decrypt: the data is
// damaged, moved, or its keys are gone. Clients learn which resource, not
// why; the cause goes to the log. A key store that cannot be reached keeps
// its own kind (unavailable).
func decryptError(rec store.Record, err error) error {
	kind := fhir.KindInternal
	if !isCryptoFailure(err) {
		kind = fhir.KindOf(err)
	}
	return &fhir.Error{Kind: kind, Op: "engine.decrypt",
		Message: "the protected elements of " + rec.Type + "/" + rec.ID + " version " + itoa(rec.Version) + " could not be decrypted",
		Cause:   err}
}

func encryptError(rec store.Record, err error) error {
	return &fhir.Error{Kind: fhir.KindOf(err), Op: "engine.encrypt",
		Message: "the protected elements of " + rec.Type + "/" + rec.ID + " could not be encrypted", Cause: err}
}

func isCryptoFailure(err error) bool {
	return errors.Is(err, crypt.ErrDecrypt) || errors.Is(err, crypt.ErrMalformed) || errors.Is(err, crypt.ErrNoKey)
}
