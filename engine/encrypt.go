package engine

import (
	"context"
	"errors"
	"time"

	"github.com/hearth-fhir/hearth/audit"
	"github.com/hearth-fhir/hearth/crypt"
	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/fhir/search"
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
	// Reencryptions, when set, lets administrators rotate keys on the
	// running server (Engine.RotateKeys), re-encrypting in the background.
	Reencryptions *crypt.Reencryptions
}

// WithEncryption turns on field encryption. It wraps the engine's store,
// so that every road to the data — reads, writes, history, Bundles,
// conditional matches — passes through it: a version is encrypted after
// validation, just before the store writes it, and decrypted just after
// the store reads it.
func WithEncryption(enc Encryption) Option {
	return func(e *Engine) { e.store = &sealedStore{inner: e.store, enc: enc, eng: e} }
}

// sealedStore is store.Resources with encryption on the way in and out.
type sealedStore struct {
	inner store.Resources
	enc   Encryption
	eng   *Engine // for the search parameter registry
}

func (s *sealedStore) Read(ctx context.Context, tenant, typ, id string) (store.Record, error) {
	rec, err := s.inner.Read(ctx, tenant, typ, id)
	return s.open(ctx, tenant, rec, err)
}

func (s *sealedStore) ReadVersion(ctx context.Context, tenant, typ, id string, v int64) (store.Record, error) {
	rec, err := s.inner.ReadVersion(ctx, tenant, typ, id, v)
	return s.open(ctx, tenant, rec, err)
}

func (s *sealedStore) Search(ctx context.Context, tenant string, q store.SearchQuery) (store.SearchPage, error) {
	q, err := s.sealQuery(ctx, tenant, q)
	if err != nil {
		return store.SearchPage{}, err
	}
	page, err := s.inner.Search(ctx, tenant, q)
	if err != nil {
		return page, err
	}
	return s.openPage(ctx, tenant, page)
}

// openPage decrypts the records of a search page.
func (s *sealedStore) openPage(ctx context.Context, tenant string, page store.SearchPage) (store.SearchPage, error) {
	var err error
	for _, recs := range [][]store.Record{page.Records, page.Included} {
		for i, rec := range recs {
			if recs[i], err = s.open(ctx, tenant, rec, nil); err != nil {
				return store.SearchPage{}, err
			}
		}
	}
	return page, nil
}

// sealQuery rewrites a search into token lookups where it touches encrypted
// elements, and refuses what tokens cannot answer.
func (s *sealedStore) sealQuery(ctx context.Context, tenant string, q store.SearchQuery) (store.SearchQuery, error) {
	types := q.Types
	if len(types) == 0 {
		types = s.enc.Elements.Types()
	}
	for _, k := range q.Sort {
		for _, t := range types {
			if k.Param != nil && s.paramIsEncrypted(t, s.lookup(t, k.Param.Code)) {
				return q, refuse(t, k.Param.Code, "_sort")
			}
		}
	}
	var err error
	if q.Where, err = s.sealCriteria(ctx, tenant, q.Types, q.Where); err != nil {
		return q, err
	}
	if len(q.Constraints) > 0 {
		cs := make([]store.Constraint, len(q.Constraints))
		for i, c := range q.Constraints {
			var ctypes []string
			if c.Type != "*" {
				ctypes = []string{c.Type}
			}
			cs[i] = c
			if cs[i].Where, err = s.sealCriteria(ctx, tenant, ctypes, c.Where); err != nil {
				return q, err
			}
		}
		q.Constraints = cs
	}
	return q, nil
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

// Tx makes sure the tenant has keys before the transaction starts.
func (s *sealedStore) Tx(ctx context.Context, tenant string, fn func(store.Tx) error) error {
	if err := s.ensureKeys(ctx, tenant, "engine.Tx"); err != nil {
		return err
	}
	return s.inner.Tx(ctx, tenant, func(tx store.Tx) error {
		return fn(&sealedTx{inner: tx, s: s, tenant: tenant})
	})
}

// ensureKeys makes sure the tenant has keys before anything is written:
// creating them writes to the store, which inside a transaction could wait
// for the transaction itself (SQLite has one write connection).
func (s *sealedStore) ensureKeys(ctx context.Context, tenant, op string) error {
	if err := s.enc.Ring.EnsureKeys(ctx, tenant); err != nil {
		return &fhir.Error{Kind: fhir.KindOf(err), Op: op, Message: "the tenant's encryption keys are not available", Cause: err}
	}
	return nil
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
	if w.Index, err = s.sealIndex(ctx, tenant, r.Type, w.Index); err != nil {
		return w, encryptError(r, err)
	}
	if len(w.Tokens) > 0 {
		rows := make([]search.TokenRow, len(w.Tokens))
		for i, t := range w.Tokens {
			rows[i] = search.TokenRow(t)
		}
		ix, err := s.sealIndex(ctx, tenant, r.Type, search.Index{Tokens: rows})
		if err != nil {
			return w, encryptError(r, err)
		}
		w.Tokens = make([]store.Token, len(ix.Tokens))
		for i, t := range ix.Tokens {
			w.Tokens[i] = store.Token(t)
		}
	}
	return w, nil
}

// blindQuery turns a token query on an encrypted parameter into the
// lookup of its token.
func (s *sealedStore) blindQuery(ctx context.Context, tenant string, q store.TokenQuery) (store.TokenQuery, error) {
	if !s.paramIsEncrypted(q.Type, s.lookup(q.Type, q.Param)) {
		return q, nil
	}
	var err error
	if q.AnySystem {
		q.Code, err = s.enc.Ring.BlindIndex(ctx, tenant, tokenDomain(q.Type, q.Param, "code"), q.Code)
	} else {
		q.Code, err = s.enc.Ring.BlindIndex(ctx, tenant, tokenDomain(q.Type, q.Param, "system|code"), string(crypt.AAD(q.System, q.Code)))
	}
	q.System, q.AnySystem = "", true
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

func (t *sealedTx) Search(ctx context.Context, q store.SearchQuery) (store.SearchPage, error) {
	q, err := t.s.sealQuery(ctx, t.tenant, q)
	if err != nil {
		return store.SearchPage{}, err
	}
	page, err := t.inner.Search(ctx, q)
	if err != nil {
		return page, err
	}
	return t.s.openPage(ctx, t.tenant, page)
}

// AuditHead and PutAudit let AuditEvents join the transaction, as the
// store's own Tx does. PutAudit seals their encrypted elements and links
// the chain over the sealed bodies, which are what the store keeps and
// what verification reads.
func (t *sealedTx) AuditHead(ctx context.Context, genesis []byte) (store.AuditHead, error) {
	atx, ok := t.inner.(store.AuditTx)
	if !ok {
		return store.AuditHead{}, fhir.Errorf(fhir.KindInternal, "the store cannot keep audit events")
	}
	return atx.AuditHead(ctx, genesis)
}

func (t *sealedTx) PutAudit(ctx context.Context, head store.AuditHead, entries []store.AuditEntry) error {
	atx, ok := t.inner.(store.AuditTx)
	if !ok {
		return fhir.Errorf(fhir.KindInternal, "the store cannot keep audit events")
	}
	sealed, err := t.s.sealAudit(ctx, t.tenant, head, entries)
	if err != nil {
		return err
	}
	return atx.PutAudit(ctx, head, sealed)
}

// sealAudit seals the encrypted elements of AuditEvents and links them
// again, over the sealed bodies, onto head.
func (s *sealedStore) sealAudit(ctx context.Context, tenant string, head store.AuditHead, entries []store.AuditEntry) ([]store.AuditEntry, error) {
	sealed := make([]store.AuditEntry, len(entries))
	prev := head.Hash
	for i, en := range entries {
		body, err := s.enc.Ring.EncryptElements(ctx, tenant, auditType, en.ID, en.Body, s.enc.Elements)
		if err != nil {
			return nil, encryptError(store.Record{Type: auditType, ID: en.ID}, err)
		}
		en.Body, en.PrevHash = body, prev
		en.Hash = audit.Hash(prev, body)
		prev = en.Hash
		sealed[i] = en
	}
	return sealed, nil
}

// CommitGroup seals a group's writes and AuditEvents and commits it through
// the inner store (see store.GroupWriter). The head it returns is the one
// over the sealed bodies.
func (s *sealedStore) CommitGroup(ctx context.Context, tenant string, ws []store.Write, head store.AuditHead, entries []store.AuditEntry, held func(store.AuditHead)) (store.AuditHead, error) {
	if err := s.ensureKeys(ctx, tenant, "engine.CommitGroup"); err != nil {
		return store.AuditHead{}, err
	}
	sealedWs := make([]store.Write, len(ws))
	for i, w := range ws {
		var err error
		if sealedWs[i], err = s.seal(ctx, tenant, w); err != nil {
			return store.AuditHead{}, err
		}
	}
	sealed, err := s.sealAudit(ctx, tenant, head, entries)
	if err != nil {
		return store.AuditHead{}, err
	}
	return store.CommitGroup(ctx, s.inner, tenant, sealedWs, head, sealed, held)
}

// auditParamEncrypted reports whether an AuditEvent index parameter reads
// an encrypted element: its values are sealed in the stored bodies the
// index is built from, so it has none.
func (s *sealedStore) auditParamEncrypted(param string) bool {
	for _, path := range audit.IndexedElements[param] {
		if s.enc.Elements.Touches(path) {
			return true
		}
	}
	return false
}

// The audit log capability passes through; AuditEvents read one by one
// (the FHIR read of an AuditEvent) are opened. Scans return entries as
// stored, since verification hashes the stored bytes.

func (s *sealedStore) auditLog() (store.AuditLog, error) {
	log, ok := s.inner.(store.AuditLog)
	if !ok {
		return nil, fhir.Errorf(fhir.KindNotFound, "no audit log")
	}
	return log, nil
}

func (s *sealedStore) ReadAudit(ctx context.Context, tenant, id string) (store.AuditEntry, error) {
	log, err := s.auditLog()
	if err != nil {
		return store.AuditEntry{}, err
	}
	en, err := log.ReadAudit(ctx, tenant, id)
	if err != nil {
		return en, err
	}
	return s.openAudit(ctx, tenant, en)
}

// openAudit decrypts an AuditEvent of the log, as a FHIR read serves it.
func (s *sealedStore) openAudit(ctx context.Context, tenant string, en store.AuditEntry) (store.AuditEntry, error) {
	rec, err := s.open(ctx, tenant, store.Record{Type: auditType, ID: en.ID, Version: 1, Body: en.Body}, nil)
	en.Body = rec.Body
	return en, err
}

func (s *sealedStore) ScanAudit(ctx context.Context, tenant string, q store.AuditQuery) ([]store.AuditEntry, error) {
	log, err := s.auditLog()
	if err != nil {
		return nil, err
	}
	return log.ScanAudit(ctx, tenant, q)
}

// SearchAudit opens the entries it finds, as ReadAudit does.
func (s *sealedStore) SearchAudit(ctx context.Context, tenant string, q store.AuditSearch) (store.AuditPage, error) {
	log, err := s.auditLog()
	if err != nil {
		return store.AuditPage{}, err
	}
	page, err := log.SearchAudit(ctx, tenant, q)
	if err != nil {
		return page, err
	}
	for i, en := range page.Entries {
		if page.Entries[i], err = s.openAudit(ctx, tenant, en); err != nil {
			return store.AuditPage{}, err
		}
	}
	return page, nil
}

// AuditIndexed and IndexAudit pass through: the index is built from the
// stored bodies, sealed elements and all.
func (s *sealedStore) AuditIndexed(ctx context.Context, tenant string) (int64, error) {
	log, err := s.auditLog()
	if err != nil {
		return 0, err
	}
	return log.AuditIndexed(ctx, tenant)
}

func (s *sealedStore) IndexAudit(ctx context.Context, tenant string, from, to int64, entries []store.AuditEntry) error {
	log, err := s.auditLog()
	if err != nil {
		return err
	}
	return log.IndexAudit(ctx, tenant, from, to, entries)
}

func (s *sealedStore) AuditChain(ctx context.Context, tenant string) (store.AuditHead, error) {
	log, err := s.auditLog()
	if err != nil {
		return store.AuditHead{}, err
	}
	return log.AuditChain(ctx, tenant)
}

func (s *sealedStore) AuditTenants(ctx context.Context) ([]string, error) {
	log, err := s.auditLog()
	if err != nil {
		return nil, err
	}
	return log.AuditTenants(ctx)
}

func (s *sealedStore) PurgeAudit(ctx context.Context, tenant string, before time.Time) (int64, error) {
	log, err := s.auditLog()
	if err != nil {
		return 0, err
	}
	return log.PurgeAudit(ctx, tenant, before)
}

var (
	_ store.Resources = (*sealedStore)(nil)
	_ store.AuditLog  = (*sealedStore)(nil)
	_ store.Tx        = (*sealedTx)(nil)
	_ store.AuditTx   = (*sealedTx)(nil)
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
	df := &decryptFailure{ref: audit.Ref{Type: rec.Type, ID: rec.ID, Version: rec.Version}, err: err}
	return &fhir.Error{Kind: kind, Op: "engine.decrypt", Message: df.message(), Cause: df}
}

// decryptFailure marks an error as a stored version that did not decrypt,
// so that the interaction's AuditEvent names that version, whatever the
// interaction (a search or a Bundle names no single resource of its own).
type decryptFailure struct {
	ref audit.Ref
	err error
}

func (d *decryptFailure) Error() string { return d.err.Error() }
func (d *decryptFailure) Unwrap() error { return d.err }

// message says what failed without saying why: safe for clients and the
// audit log.
func (d *decryptFailure) message() string {
	return "the protected elements of " + d.ref.Type + "/" + d.ref.ID + " version " + itoa(d.ref.Version) + " could not be decrypted"
}

// noteDecryptFailure makes ev name the version that failed to decrypt, and
// say so, when that is why err failed. The outcome stays the error's:
// serious failure (8) for damaged data or destroyed keys.
func noteDecryptFailure(ev *audit.Event, err error) {
	var df *decryptFailure
	if !errors.As(err, &df) {
		return
	}
	ev.OutcomeDesc = df.message()
	for i, r := range ev.Entities {
		if r.Type == df.ref.Type && r.ID == df.ref.ID {
			ev.Entities[i].Version = df.ref.Version
			return
		}
	}
	ev.Entities = append(ev.Entities, df.ref)
}

func encryptError(rec store.Record, err error) error {
	return &fhir.Error{Kind: fhir.KindOf(err), Op: "engine.encrypt",
		Message: "the protected elements of " + rec.Type + "/" + rec.ID + " could not be encrypted", Cause: err}
}

func isCryptoFailure(err error) bool {
	return errors.Is(err, crypt.ErrDecrypt) || errors.Is(err, crypt.ErrMalformed) || errors.Is(err, crypt.ErrNoKey)
}
