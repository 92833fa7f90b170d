package postgres

import (
	"context"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/hearth-fhir/hearth/store"
	"github.com/hearth-fhir/hearth/store/internal/sqlbase"
)

// EnsureTenant creates the tenant unless it exists; an existing tenant is
// left as it is.
func (db *DB) EnsureTenant(ctx context.Context, t store.Tenant) error {
	const op = "postgres.EnsureTenant"
	if t.ID == "" {
		return sqlbase.Internalf(op, "tenant without an id")
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO tenants (tenant_id, name, created_at) VALUES ($1, $2, $3)
		ON CONFLICT (tenant_id) DO NOTHING`, t.ID, t.Name, sqlbase.Micros(t.CreatedAt))
	return wrap(op, err, "")
}

// GetTenant returns a tenant.
func (db *DB) GetTenant(ctx context.Context, id string) (store.Tenant, error) {
	const op = "postgres.GetTenant"
	t := store.Tenant{ID: id}
	var created int64
	err := db.pool.QueryRow(ctx, `SELECT name, created_at FROM tenants WHERE tenant_id = $1`, id).
		Scan(&t.Name, &created)
	if errors.Is(err, pgx.ErrNoRows) {
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
	const op = "postgres.CreateClient"
	if c.Tenant == "" || c.ID == "" {
		return sqlbase.Internalf(op, "client without a tenant or id")
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO clients
		(tenant_id, client_id, name, secret_hash, scopes, created_at, disabled, auth_method, redirect_uris, jwks, jwks_url)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		c.Tenant, c.ID, c.Name, c.SecretHash, c.Scopes, sqlbase.Micros(c.CreatedAt), c.Disabled,
		sqlbase.AuthMethod(c.AuthMethod), strings.Join(c.RedirectURIs, " "), c.JWKS, c.JWKSURL)
	return wrap(op, err, "client id already registered")
}

// LookupClient finds a client by id in any tenant.
func (db *DB) LookupClient(ctx context.Context, clientID string) (store.Client, error) {
	const op = "postgres.LookupClient"
	c := store.Client{ID: clientID}
	var created int64
	var redirects string
	err := db.pool.QueryRow(ctx, `SELECT tenant_id, name, secret_hash, scopes, created_at, disabled,
		auth_method, redirect_uris, jwks, jwks_url
		FROM clients WHERE client_id = $1`, clientID).
		Scan(&c.Tenant, &c.Name, &c.SecretHash, &c.Scopes, &created, &c.Disabled,
			&c.AuthMethod, &redirects, &c.JWKS, &c.JWKSURL)
	if errors.Is(err, pgx.ErrNoRows) {
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
	const op = "postgres.SigningKeys"
	rows, err := db.pool.Query(ctx, `SELECT kid, alg, private_der, created_at FROM signing_keys
		WHERE tenant_id = '' ORDER BY created_at DESC, kid DESC`)
	if err != nil {
		return nil, wrap(op, err, "")
	}
	keys, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.SigningKey, error) {
		var k store.SigningKey
		var created int64
		err := row.Scan(&k.ID, &k.Algorithm, &k.PrivateDER, &created)
		k.CreatedAt = sqlbase.Time(created)
		return k, err
	})
	if err != nil {
		return nil, wrap(op, err, "")
	}
	return keys, nil
}

// AddSigningKey stores a server-wide signing key.
func (db *DB) AddSigningKey(ctx context.Context, k store.SigningKey) error {
	const op = "postgres.AddSigningKey"
	if k.ID == "" {
		return sqlbase.Internalf(op, "signing key without a kid")
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO signing_keys (tenant_id, kid, alg, private_der, created_at)
		VALUES ('', $1, $2, $3, $4)`, k.ID, k.Algorithm, k.PrivateDER, sqlbase.Micros(k.CreatedAt))
	return wrap(op, err, "signing key id already exists")
}
