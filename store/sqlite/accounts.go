package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/hearth-fhir/hearth/store"
	"github.com/hearth-fhir/hearth/store/internal/sqlbase"
)

// EnsureTenant creates the tenant unless it exists; an existing tenant is
// left as it is.
func (db *DB) EnsureTenant(ctx context.Context, t store.Tenant) error {
	const op = "sqlite.EnsureTenant"
	if t.ID == "" {
		return sqlbase.Internalf(op, "tenant without an id")
	}
	_, err := db.write.ExecContext(ctx, `INSERT INTO tenants (tenant_id, name, created_at) VALUES (?, ?, ?)
		ON CONFLICT (tenant_id) DO NOTHING`, t.ID, t.Name, sqlbase.Micros(t.CreatedAt))
	return wrap(op, err, "")
}

// GetTenant returns a tenant.
func (db *DB) GetTenant(ctx context.Context, id string) (store.Tenant, error) {
	const op = "sqlite.GetTenant"
	t := store.Tenant{ID: id}
	var created int64
	err := db.read.QueryRowContext(ctx, `SELECT name, created_at FROM tenants WHERE tenant_id = ?`, id).
		Scan(&t.Name, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Tenant{}, sqlbase.NotFound(op, "tenant")
	}
	if err != nil {
		return store.Tenant{}, wrap(op, err, "")
	}
	t.CreatedAt = sqlbase.Time(created)
	return t, nil
}

// CreateClient registers a client; its id must be new in every tenant.
func (db *DB) CreateClient(ctx context.Context, c store.Client) error {
	const op = "sqlite.CreateClient"
	if c.Tenant == "" || c.ID == "" {
		return sqlbase.Internalf(op, "client without a tenant or id")
	}
	_, err := db.write.ExecContext(ctx, `INSERT INTO clients
		(tenant_id, client_id, name, secret_hash, scopes, created_at, disabled, auth_method, redirect_uris, jwks, jwks_url)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.Tenant, c.ID, c.Name, c.SecretHash, c.Scopes, sqlbase.Micros(c.CreatedAt), c.Disabled,
		sqlbase.AuthMethod(c.AuthMethod), strings.Join(c.RedirectURIs, " "), c.JWKS, c.JWKSURL)
	return wrap(op, err, "client id already registered")
}

// LookupClient finds a client by id in any tenant.
func (db *DB) LookupClient(ctx context.Context, clientID string) (store.Client, error) {
	const op = "sqlite.LookupClient"
	c := store.Client{ID: clientID}
	var created int64
	var redirects string
	err := db.read.QueryRowContext(ctx, `SELECT tenant_id, name, secret_hash, scopes, created_at, disabled,
		auth_method, redirect_uris, jwks, jwks_url
		FROM clients WHERE client_id = ?`, clientID).
		Scan(&c.Tenant, &c.Name, &c.SecretHash, &c.Scopes, &created, &c.Disabled,
			&c.AuthMethod, &redirects, &c.JWKS, &c.JWKSURL)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Client{}, sqlbase.NotFound(op, "client")
	}
	if err != nil {
		return store.Client{}, wrap(op, err, "")
	}
	c.CreatedAt = sqlbase.Time(created)
	c.RedirectURIs = strings.Fields(redirects)
	return c, nil
}

// SigningKeys lists the server-wide signing keys, newest first.
func (db *DB) SigningKeys(ctx context.Context) ([]store.SigningKey, error) {
	const op = "sqlite.SigningKeys"
	rows, err := db.read.QueryContext(ctx, `SELECT kid, alg, private_der, created_at FROM signing_keys
		WHERE tenant_id = '' ORDER BY created_at DESC, kid DESC`)
	if err != nil {
		return nil, wrap(op, err, "")
	}
	defer rows.Close()
	var keys []store.SigningKey
	for rows.Next() {
		var k store.SigningKey
		var created int64
		if err := rows.Scan(&k.ID, &k.Algorithm, &k.PrivateDER, &created); err != nil {
			return nil, wrap(op, err, "")
		}
		k.CreatedAt = sqlbase.Time(created)
		keys = append(keys, k)
	}
	return keys, wrap(op, rows.Err(), "")
}

// AddSigningKey stores a server-wide signing key.
func (db *DB) AddSigningKey(ctx context.Context, k store.SigningKey) error {
	const op = "sqlite.AddSigningKey"
	if k.ID == "" {
		return sqlbase.Internalf(op, "signing key without a kid")
	}
	_, err := db.write.ExecContext(ctx, `INSERT INTO signing_keys (tenant_id, kid, alg, private_der, created_at)
		VALUES ('', ?, ?, ?, ?)`, k.ID, k.Algorithm, k.PrivateDER, sqlbase.Micros(k.CreatedAt))
	return wrap(op, err, "signing key id already exists")
}
