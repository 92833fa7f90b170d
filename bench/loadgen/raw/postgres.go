package raw

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hearth-fhir/hearth/bench/loadgen"
	"github.com/hearth-fhir/hearth/fhir/search"
)

// pgSchema mirrors migrations/postgres (resources, resource_history, the
// search index tables of 0001 and 0002 with the same keys and indexes, the
// newest-first index of 0007) plus an audit table of the shape audit will
// need. It runs in a scratch schema.
const pgSchema = `
CREATE TABLE resources (
    tenant_id TEXT NOT NULL, type TEXT NOT NULL, id TEXT NOT NULL, version BIGINT NOT NULL,
    last_updated BIGINT NOT NULL, deleted BOOLEAN NOT NULL DEFAULT false, body BYTEA,
    PRIMARY KEY (tenant_id, type, id));
CREATE TABLE resource_history (
    seq BIGSERIAL PRIMARY KEY, tenant_id TEXT NOT NULL, type TEXT NOT NULL, id TEXT NOT NULL,
    version BIGINT NOT NULL, last_updated BIGINT NOT NULL, deleted BOOLEAN NOT NULL DEFAULT false, body BYTEA,
    UNIQUE (tenant_id, type, id, version));
CREATE INDEX resource_history_tenant_seq ON resource_history (tenant_id, seq);
CREATE INDEX resource_history_type_seq ON resource_history (tenant_id, type, seq);
CREATE TABLE token_idx (
    tenant_id TEXT NOT NULL, type TEXT NOT NULL, id TEXT NOT NULL, param TEXT NOT NULL,
    system TEXT NOT NULL DEFAULT '', code TEXT NOT NULL);
CREATE INDEX resources_recent_first ON resources (tenant_id, type, last_updated DESC NULLS LAST, id);
CREATE INDEX token_idx_lookup ON token_idx (tenant_id, type, param, code, system);
CREATE INDEX token_idx_resource_param ON token_idx (tenant_id, type, id, param);
CREATE TABLE string_idx (
    tenant_id TEXT NOT NULL, type TEXT NOT NULL, id TEXT NOT NULL, param TEXT NOT NULL,
    value TEXT COLLATE "C" NOT NULL, exact TEXT NOT NULL);
CREATE INDEX string_idx_lookup ON string_idx (tenant_id, type, param, value);
CREATE INDEX string_idx_resource ON string_idx (tenant_id, type, id, param);
CREATE TABLE date_idx (
    tenant_id TEXT NOT NULL, type TEXT NOT NULL, id TEXT NOT NULL, param TEXT NOT NULL,
    low BIGINT NOT NULL, high BIGINT NOT NULL);
CREATE INDEX date_idx_low ON date_idx (tenant_id, type, param, low, high);
CREATE INDEX date_idx_high ON date_idx (tenant_id, type, param, high);
CREATE INDEX date_idx_resource ON date_idx (tenant_id, type, id, param);
CREATE TABLE number_idx (
    tenant_id TEXT NOT NULL, type TEXT NOT NULL, id TEXT NOT NULL, param TEXT NOT NULL,
    value DOUBLE PRECISION NOT NULL);
CREATE INDEX number_idx_lookup ON number_idx (tenant_id, type, param, value);
CREATE INDEX number_idx_resource ON number_idx (tenant_id, type, id, param);
CREATE TABLE quantity_idx (
    tenant_id TEXT NOT NULL, type TEXT NOT NULL, id TEXT NOT NULL, param TEXT NOT NULL,
    value DOUBLE PRECISION NOT NULL, system TEXT NOT NULL DEFAULT '', code TEXT NOT NULL DEFAULT '',
    canonical BOOLEAN NOT NULL DEFAULT false);
CREATE INDEX quantity_idx_lookup ON quantity_idx (tenant_id, type, param, code, value);
CREATE INDEX quantity_idx_resource ON quantity_idx (tenant_id, type, id, param);
CREATE TABLE reference_idx (
    tenant_id TEXT NOT NULL, type TEXT NOT NULL, id TEXT NOT NULL, param TEXT NOT NULL,
    target_type TEXT NOT NULL DEFAULT '', target_id TEXT NOT NULL DEFAULT '', url TEXT NOT NULL DEFAULT '');
CREATE INDEX reference_idx_lookup ON reference_idx (tenant_id, type, param, target_id, target_type);
CREATE INDEX reference_idx_target ON reference_idx (tenant_id, target_type, target_id, type, param);
CREATE INDEX reference_idx_url ON reference_idx (tenant_id, type, param, url) WHERE url <> '';
CREATE INDEX reference_idx_resource ON reference_idx (tenant_id, type, id, param);
CREATE TABLE uri_idx (
    tenant_id TEXT NOT NULL, type TEXT NOT NULL, id TEXT NOT NULL, param TEXT NOT NULL,
    value TEXT COLLATE "C" NOT NULL);
CREATE INDEX uri_idx_lookup ON uri_idx (tenant_id, type, param, value);
CREATE INDEX uri_idx_resource ON uri_idx (tenant_id, type, id, param);
CREATE TABLE audit_events (
    seq BIGSERIAL PRIMARY KEY, tenant_id TEXT NOT NULL, recorded BIGINT NOT NULL,
    action TEXT NOT NULL, type TEXT NOT NULL, id TEXT NOT NULL, body BYTEA NOT NULL);`

// Writes are one statement each, so one round trip and one commit: every
// CTE part reads from r, so a failed version check writes nothing. They
// write the rows Hearth's put statement writes (store/postgres): resource,
// history, the index rows of every search index table, and the audit row.
// $1 tenant $2 type $3 id $4 version $5 last_updated $6 body
// $7..$28 the index rows as one array per column (pgIndexArrays)
// $29 audit body $30 action (update: $31 previous version).
var (
	pgSideWrites = `
, h AS (INSERT INTO resource_history (tenant_id, type, id, version, last_updated, deleted, body)
	SELECT $1, $2, $3, $4, $5, false, $6 FROM r)` + pgIndexCTEs(`
, i%[1]d AS (INSERT INTO %[2]s (tenant_id, type, id, %[3]s) SELECT $1, $2, $3, u.* FROM r, unnest(%[4]s) AS u)`) + `
, a AS (INSERT INTO audit_events (tenant_id, recorded, action, type, id, body)
	SELECT $1, $5, $30, $2, $3, $29 FROM r)
SELECT count(*) FROM r`

	pgCreate = `WITH r AS (
	INSERT INTO resources (tenant_id, type, id, version, last_updated, deleted, body)
	VALUES ($1::text, $2::text, $3::text, $4::bigint, $5::bigint, false, $6::bytea)
	ON CONFLICT DO NOTHING RETURNING 1)` + pgSideWrites

	pgUpdate = `WITH r AS (
	UPDATE resources SET version = $4::bigint, last_updated = $5::bigint, deleted = false, body = $6::bytea
	WHERE tenant_id = $1::text AND type = $2::text AND id = $3::text AND version = $31::bigint
	RETURNING 1)` + pgIndexCTEs(`
, d%[1]d AS (DELETE FROM %[2]s WHERE tenant_id = $1 AND type = $2 AND id = $3 AND EXISTS (SELECT 1 FROM r))`) + pgSideWrites
)

// pgIndexCTEs formats part once per search index table, in importLayouts'
// order (pgIndexArrays'): %[1]d its place, %[2]s its name, %[3]s its
// columns after type and id, %[4]s their arrays, numbered from $7 on.
func pgIndexCTEs(part string) string {
	var b strings.Builder
	param := 7
	for i, t := range importLayouts()[tokenTable:auditTable] {
		var names, arrays []string
		for _, c := range t.cols[2:] { // after type and id
			names = append(names, c.name)
			arrays = append(arrays, fmt.Sprintf("$%d::%s[]", param, c.pgType))
			param++
		}
		fmt.Fprintf(&b, part, i+1, t.name, strings.Join(names, ", "), strings.Join(arrays, ", "))
	}
	return b.String()
}

const (
	// pgAuditInsert appends the audit row of a read or search.
	pgAuditInsert = `INSERT INTO audit_events (tenant_id, recorded, action, type, id, body) VALUES ($1, $2, $3, $4, $5, $6)`

	pgRead = `SELECT version, last_updated, deleted, body FROM resources WHERE tenant_id = $1 AND type = $2 AND id = $3`

	// The search Hearth's token search will run: index rows of the
	// current versions joined to the resources, newest first, one page.
	pgSearch = `SELECT r.id, r.version, r.last_updated, r.body
	FROM token_idx t JOIN resources r ON r.tenant_id = t.tenant_id AND r.type = t.type AND r.id = t.id
	WHERE t.tenant_id = $1 AND t.type = 'Communication' AND t.param = 'status' AND t.code = $2 AND NOT r.deleted
	ORDER BY r.last_updated DESC NULLS LAST, r.id LIMIT 20`
)

// postgres is the backend on one PostgreSQL database.
type postgres struct {
	pool   *pgxpool.Pool
	base   *pgx.ConnConfig // without the scratch search_path
	schema string
	// durability is the server's commit settings, for the notes.
	durability string
}

// OpenPostgres creates a scratch schema in the database at url, its tables
// in it, and a pool (opt.MaxConns connections) whose search_path is that
// schema.
func OpenPostgres(ctx context.Context, url string, opt Options) (*Runner, error) {
	opt.defaults()
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("raw: database URL: %w", err)
	}
	if !opt.AllowRemote {
		if err := loadgen.CheckLoopbackHost("database", cfg.ConnConfig.Host); err != nil {
			return nil, err
		}
	}
	p := &postgres{schema: scratchName(), base: cfg.ConnConfig.Copy()}
	if err := p.exec(ctx, "CREATE SCHEMA "+p.schema); err != nil {
		return nil, fmt.Errorf("raw: create schema: %w", err)
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = p.schema
	cfg.MaxConns = int32(opt.MaxConns)
	if p.pool, err = pgxpool.NewWithConfig(ctx, cfg); err == nil {
		_, err = p.pool.Exec(ctx, pgSchema)
	}
	if err == nil {
		// The targets are for durable commits: the report says what the
		// database's were.
		err = p.pool.QueryRow(ctx, `SELECT format('synchronous_commit=%s fsync=%s full_page_writes=%s wal_sync_method=%s',
			current_setting('synchronous_commit'), current_setting('fsync'), current_setting('full_page_writes'),
			current_setting('wal_sync_method'))`).Scan(&p.durability)
	}
	if err != nil {
		return nil, errors.Join(fmt.Errorf("raw: scratch tables: %w", err), p.drop(ctx))
	}
	return newRunner("raw-postgres", p, opt)
}

func (p *postgres) write(ctx context.Context, query string, r row, audit []byte, action string, extra ...any) error {
	args := append([]any{tenant, "Communication", r.id, r.version, r.lastUpdated, r.body}, pgIndexArrays(r.index)...)
	args = append(append(args, audit, action), extra...)
	var n int64
	if err := p.pool.QueryRow(ctx, query, args...).Scan(&n); err != nil {
		return dbError{err}
	}
	if n != 1 {
		return dbError{fmt.Errorf("write of %s version %d matched no row", r.id, r.version)}
	}
	return nil
}

// pgIndexArrays are ix's rows as the write statements take them ($7..$28):
// one array per column of each index table, in importLayouts' order.
func pgIndexArrays(ix search.Index) []any {
	b := importBundle{tables: importLayouts()}
	b.addIndex(0, "Communication", ix)
	var out []any
	for _, t := range b.tables[tokenTable:auditTable] {
		out = append(out, t.vals[2:]...) // after type and id, which the statement has
	}
	return out
}

func (p *postgres) create(ctx context.Context, r row, audit []byte) error {
	return p.write(ctx, pgCreate, r, audit, "C")
}

func (p *postgres) update(ctx context.Context, r row, audit []byte) error {
	return p.write(ctx, pgUpdate, r, audit, "U", r.version-1)
}

// read selects a row by key. Given an audit row, the select and the row's
// insert go as one pgx batch: one round trip, one implicit transaction,
// one commit.
func (p *postgres) read(ctx context.Context, id string, audit []byte) error {
	var (
		version, lastUpdated int64
		deleted              bool
		body                 []byte
	)
	if audit == nil {
		if err := p.pool.QueryRow(ctx, pgRead, tenant, "Communication", id).Scan(&version, &lastUpdated, &deleted, &body); err != nil {
			return dbError{err}
		}
		return nil
	}
	b := &pgx.Batch{}
	b.Queue(pgRead, tenant, "Communication", id)
	b.Queue(pgAuditInsert, tenant, time.Now().UnixMicro(), "R", "Communication", id, audit)
	br := p.pool.SendBatch(ctx, b)
	err := br.QueryRow().Scan(&version, &lastUpdated, &deleted, &body)
	if err == nil {
		_, err = br.Exec()
	}
	if err := errors.Join(err, br.Close()); err != nil {
		return dbError{err}
	}
	return nil
}

// search sends an unnamed statement, as pgx's QueryExecModeExec does, so
// PostgreSQL plans each execution for its actual code (a custom plan): the
// cached generic plan of a prepared statement is orders of magnitude slower
// on skewed codes. Like Hearth's store it asks for binary results in the
// same round trip (QueryExecModeExec would ask for text, hex-encoding the
// bodies). Given an audit row, its insert follows in the same round trip
// and implicit transaction. The planner tells common statuses from rare
// ones itself.
func (p *postgres) search(ctx context.Context, status string, _ bool, audit []byte) (int, error) {
	conn, err := p.pool.Acquire(ctx)
	if err != nil {
		return 0, dbError{err}
	}
	defer conn.Release()
	pc := conn.Conn()
	var params pgx.ExtendedQueryBuilder
	if err := params.Build(pc.TypeMap(), nil, []any{tenant, status}); err != nil {
		return 0, dbError{err}
	}
	binary := []int16{pgx.BinaryFormatCode}
	if audit != nil {
		batch := &pgconn.Batch{}
		batch.ExecParams(pgSearch, params.ParamValues, nil, params.ParamFormats, binary)
		var insert pgx.ExtendedQueryBuilder
		if err := insert.Build(pc.TypeMap(), nil, []any{tenant, time.Now().UnixMicro(), "E", "Communication", "?status=" + status, audit}); err != nil {
			return 0, dbError{err}
		}
		batch.ExecParams(pgAuditInsert, insert.ParamValues, nil, insert.ParamFormats, nil)
		results := pc.PgConn().ExecBatch(ctx, batch)
		n := 0
		if results.NextResult() {
			rows := pgx.RowsFromResultReader(pc.TypeMap(), results.ResultReader())
			n, err = scanPage(rows)
			rows.Close()
		}
		// Close reads the insert's result and reports the first error.
		if err := errors.Join(err, results.Close()); err != nil {
			return n, dbError{err}
		}
		return n, nil
	}
	rows := pgx.RowsFromResultReader(pc.TypeMap(), pc.PgConn().ExecParams(ctx, pgSearch,
		params.ParamValues, nil, params.ParamFormats, binary))
	defer rows.Close()
	n, err := scanPage(rows)
	if err != nil {
		return n, dbError{err}
	}
	return n, nil
}

// insertBundle sends one INSERT … SELECT FROM unnest(column arrays) per
// table as one pgx batch: pipelined in one round trip, run by PostgreSQL
// as one implicit transaction, so one commit.
func (p *postgres) insertBundle(ctx context.Context, b *importBundle, ids []string, now int64) error {
	batch := &pgx.Batch{}
	for i := range b.tables {
		t := &b.tables[i]
		if len(t.res) > 0 {
			batch.Queue(pgUnnestInsert(t), append([]any{tenant}, t.columns(ids, now)...)...)
		}
	}
	br := p.pool.SendBatch(ctx, batch)
	for range batch.Len() {
		if _, err := br.Exec(); err != nil {
			br.Close()
			return dbError{err}
		}
	}
	if err := br.Close(); err != nil {
		return dbError{err}
	}
	return nil
}

// pgUnnestInsert inserts a table's rows from one array per column ($2…),
// tenant_id $1.
func pgUnnestInsert(t *importTable) string {
	names := make([]string, len(t.cols))
	arrays := make([]string, len(t.cols))
	for j, c := range t.cols {
		names[j] = c.name
		arrays[j] = fmt.Sprintf("$%d::%s[]", j+2, c.pgType)
	}
	return "INSERT INTO " + t.name + " (tenant_id, " + strings.Join(names, ", ") + ") SELECT $1, u.* FROM unnest(" +
		strings.Join(arrays, ", ") + ") AS u"
}

func (p *postgres) load(ctx context.Context, rows []row) error {
	res := make([][]any, len(rows))
	var toks [][]any
	for i, r := range rows {
		res[i] = []any{tenant, "Communication", r.id, r.version, r.lastUpdated, false, r.body}
		for _, t := range r.index.Tokens {
			toks = append(toks, []any{tenant, "Communication", r.id, t.Param, t.System, t.Code})
		}
	}
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"resources"},
		[]string{"tenant_id", "type", "id", "version", "last_updated", "deleted", "body"}, pgx.CopyFromRows(res)); err != nil {
		return err
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"token_idx"},
		[]string{"tenant_id", "type", "id", "param", "system", "code"}, pgx.CopyFromRows(toks)); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

func (p *postgres) analyze(ctx context.Context) error {
	_, err := p.pool.Exec(ctx, "ANALYZE "+strings.Join(scratchTables(), ", "))
	return err
}

func (p *postgres) drop(ctx context.Context) error {
	if p.pool != nil {
		p.pool.Close()
	}
	if err := p.exec(ctx, "DROP SCHEMA IF EXISTS "+p.schema+" CASCADE"); err != nil {
		return fmt.Errorf("raw: drop scratch schema %s: %w", p.schema, err)
	}
	return nil
}

// exec runs one statement on a connection of its own, outside the pool.
func (p *postgres) exec(ctx context.Context, sql string) error {
	conn, err := pgx.ConnectConfig(ctx, p.base.Copy())
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

func (p *postgres) scratch() string { return p.schema }

func (p *postgres) notes() []string {
	return []string{
		"raw-postgres: writes are one statement (data-modifying CTEs), one round trip and one commit each; keyed statements use pgx's statement cache",
		"raw-postgres: raw-import sends a bundle as one pgx batch of INSERT … SELECT FROM unnest(arrays), one per table: one round trip, one implicit transaction",
		"raw-postgres: searches are unnamed statements (as pgx QueryExecModeExec sends them), so every execution gets a custom plan for its code (no generic plan); results in binary",
		"raw-postgres: durability settings " + p.durability,
		"raw-postgres: scratch schema " + p.schema + " with the tables of migrations/postgres (resources, history, the search index tables) plus audit_events, dropped at the end",
	}
}

// dbError is a failure reported by the database or driver.
type dbError struct{ err error }

func (e dbError) Error() string { return e.err.Error() }
func (e dbError) Unwrap() error { return e.err }

// Class names the error bucket in reports.
func (e dbError) Class() string { return "db" }
