package raw

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/hearth-fhir/hearth/fhir/search"
)

// sqliteSchema mirrors migrations/sqlite (resources, resource_history, the
// search index tables of 0001 and 0002 with the same keys and indexes, the
// newest-first index of 0007) plus an audit table; {p} is the scratch
// prefix of every table and index.
const sqliteSchema = `
CREATE TABLE {p}resources (
    tenant_id TEXT NOT NULL, type TEXT NOT NULL, id TEXT NOT NULL, version INTEGER NOT NULL,
    last_updated INTEGER NOT NULL, deleted INTEGER NOT NULL DEFAULT 0, body BLOB,
    PRIMARY KEY (tenant_id, type, id));
CREATE TABLE {p}resource_history (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, tenant_id TEXT NOT NULL, type TEXT NOT NULL, id TEXT NOT NULL,
    version INTEGER NOT NULL, last_updated INTEGER NOT NULL, deleted INTEGER NOT NULL DEFAULT 0, body BLOB,
    UNIQUE (tenant_id, type, id, version));
CREATE INDEX {p}resource_history_tenant_seq ON {p}resource_history (tenant_id, seq);
CREATE INDEX {p}resource_history_type_seq ON {p}resource_history (tenant_id, type, seq);
CREATE TABLE {p}token_idx (
    tenant_id TEXT NOT NULL, type TEXT NOT NULL, id TEXT NOT NULL, param TEXT NOT NULL,
    system TEXT NOT NULL DEFAULT '', code TEXT NOT NULL);
CREATE INDEX {p}resources_recent_first ON {p}resources (tenant_id, type, last_updated DESC, id);
CREATE INDEX {p}token_idx_lookup ON {p}token_idx (tenant_id, type, param, code, system);
CREATE INDEX {p}token_idx_resource_param ON {p}token_idx (tenant_id, type, id, param);
CREATE TABLE {p}string_idx (
    tenant_id TEXT NOT NULL, type TEXT NOT NULL, id TEXT NOT NULL, param TEXT NOT NULL,
    value TEXT NOT NULL, exact TEXT NOT NULL);
CREATE INDEX {p}string_idx_lookup ON {p}string_idx (tenant_id, type, param, value);
CREATE INDEX {p}string_idx_resource ON {p}string_idx (tenant_id, type, id, param);
CREATE TABLE {p}date_idx (
    tenant_id TEXT NOT NULL, type TEXT NOT NULL, id TEXT NOT NULL, param TEXT NOT NULL,
    low INTEGER NOT NULL, high INTEGER NOT NULL);
CREATE INDEX {p}date_idx_low ON {p}date_idx (tenant_id, type, param, low, high);
CREATE INDEX {p}date_idx_high ON {p}date_idx (tenant_id, type, param, high);
CREATE INDEX {p}date_idx_resource ON {p}date_idx (tenant_id, type, id, param);
CREATE TABLE {p}number_idx (
    tenant_id TEXT NOT NULL, type TEXT NOT NULL, id TEXT NOT NULL, param TEXT NOT NULL,
    value REAL NOT NULL);
CREATE INDEX {p}number_idx_lookup ON {p}number_idx (tenant_id, type, param, value);
CREATE INDEX {p}number_idx_resource ON {p}number_idx (tenant_id, type, id, param);
CREATE TABLE {p}quantity_idx (
    tenant_id TEXT NOT NULL, type TEXT NOT NULL, id TEXT NOT NULL, param TEXT NOT NULL,
    value REAL NOT NULL, system TEXT NOT NULL DEFAULT '', code TEXT NOT NULL DEFAULT '',
    canonical INTEGER NOT NULL DEFAULT 0);
CREATE INDEX {p}quantity_idx_lookup ON {p}quantity_idx (tenant_id, type, param, code, value);
CREATE INDEX {p}quantity_idx_resource ON {p}quantity_idx (tenant_id, type, id, param);
CREATE TABLE {p}reference_idx (
    tenant_id TEXT NOT NULL, type TEXT NOT NULL, id TEXT NOT NULL, param TEXT NOT NULL,
    target_type TEXT NOT NULL DEFAULT '', target_id TEXT NOT NULL DEFAULT '', url TEXT NOT NULL DEFAULT '');
CREATE INDEX {p}reference_idx_lookup ON {p}reference_idx (tenant_id, type, param, target_id, target_type);
CREATE INDEX {p}reference_idx_target ON {p}reference_idx (tenant_id, target_type, target_id, type, param);
CREATE INDEX {p}reference_idx_url ON {p}reference_idx (tenant_id, type, param, url) WHERE url <> '';
CREATE INDEX {p}reference_idx_resource ON {p}reference_idx (tenant_id, type, id, param);
CREATE TABLE {p}uri_idx (
    tenant_id TEXT NOT NULL, type TEXT NOT NULL, id TEXT NOT NULL, param TEXT NOT NULL,
    value TEXT NOT NULL);
CREATE INDEX {p}uri_idx_lookup ON {p}uri_idx (tenant_id, type, param, value);
CREATE INDEX {p}uri_idx_resource ON {p}uri_idx (tenant_id, type, id, param);
CREATE TABLE {p}audit_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, tenant_id TEXT NOT NULL, recorded INTEGER NOT NULL,
    action TEXT NOT NULL, type TEXT NOT NULL, id TEXT NOT NULL, body BLOB NOT NULL);`

// sqliteDB is the backend on one SQLite file, opened the way Hearth's
// store opens it: WAL, synchronous=FULL, one write connection taking
// the lock at BEGIN, a pool of read-only connections.
type sqliteDB struct {
	writer, reader *sql.DB
	prefix         string
}

// OpenSQLite creates scratch tables in the SQLite file at path (created if
// missing; it may be Hearth's own database).
func OpenSQLite(ctx context.Context, path string, opt Options) (*Runner, error) {
	opt.defaults()
	if path == "" || strings.ContainsAny(path, "?") || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("raw: --sqlite wants a plain file path, got %q", path)
	}
	const busy = "&_busy_timeout=10000"
	s := &sqliteDB{prefix: scratchName() + "_"}
	var err error
	if s.writer, err = sql.Open("sqlite", path+"?_txlock=immediate&_journal_mode=WAL&_synchronous=FULL"+busy); err != nil {
		return nil, err
	}
	s.writer.SetMaxOpenConns(1)
	s.writer.SetMaxIdleConns(1)
	if s.reader, err = sql.Open("sqlite", path+"?_query_only=1"+busy); err != nil {
		s.writer.Close()
		return nil, err
	}
	s.reader.SetMaxOpenConns(max(4, runtime.NumCPU()))
	s.reader.SetMaxIdleConns(max(4, runtime.NumCPU()))
	if _, err := s.writer.ExecContext(ctx, s.sql(sqliteSchema)); err != nil {
		return nil, errors.Join(fmt.Errorf("raw: scratch tables: %w", err), s.drop(ctx))
	}
	return newRunner("raw-sqlite", s, opt)
}

// sql puts the scratch prefix into a statement.
func (s *sqliteDB) sql(q string) string { return strings.ReplaceAll(q, "{p}", s.prefix) }

// tx runs fn in one immediate transaction on the write connection.
func (s *sqliteDB) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return dbError{err}
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return dbError{err}
	}
	if err := tx.Commit(); err != nil {
		return dbError{err}
	}
	return nil
}

// sideWrites inserts the history, search index and audit rows of r.
func (s *sqliteDB) sideWrites(ctx context.Context, tx *sql.Tx, r row, audit []byte, action string) error {
	if _, err := tx.ExecContext(ctx, s.sql(`INSERT INTO {p}resource_history
		(tenant_id, type, id, version, last_updated, deleted, body) VALUES (?, 'Communication', ?, ?, ?, 0, ?)`),
		tenant, r.id, r.version, r.lastUpdated, r.body); err != nil {
		return err
	}
	b := importBundle{tables: importLayouts()}
	b.addIndex(0, "Communication", r.index)
	if err := s.insertTables(ctx, tx, b.tables[tokenTable:auditTable], []string{r.id}, r.lastUpdated); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, s.sql(`INSERT INTO {p}audit_events (tenant_id, recorded, action, type, id, body)
		VALUES (?, ?, ?, 'Communication', ?, ?)`), tenant, r.lastUpdated, action, r.id, audit)
	return err
}

// insertTokens writes the token rows of rows.
func (s *sqliteDB) insertTokens(ctx context.Context, tx *sql.Tx, rows []row) error {
	b := importBundle{tables: importLayouts()}
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.id
		b.addIndex(i, "Communication", search.Index{Tokens: r.index.Tokens})
	}
	return s.insertTables(ctx, tx, b.tables[tokenTable:tokenTable+1], ids, 0)
}

// sqliteChunk bounds the rows of one INSERT, well under SQLite's limit on
// bound parameters (32,766).
const sqliteChunk = 500

// insertRows writes n rows into table with multi-row INSERTs of up to
// sqliteChunk rows; row appends row i's values, one per column.
func (s *sqliteDB) insertRows(ctx context.Context, tx *sql.Tx, table string, cols []string, n int,
	row func(args []any, i int) []any) error {
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
	head := s.sql("INSERT INTO {p}"+table) + " (" + strings.Join(cols, ", ") + ") VALUES "
	for lo := 0; lo < n; lo += sqliteChunk {
		hi := min(lo+sqliteChunk, n)
		args := make([]any, 0, (hi-lo)*len(cols))
		for i := lo; i < hi; i++ {
			args = row(args, i)
		}
		if _, err := tx.ExecContext(ctx, head+strings.TrimSuffix(strings.Repeat(one+",", hi-lo), ","), args...); err != nil {
			return err
		}
	}
	return nil
}

// insertBundle writes the bundle's rows in one BEGIN IMMEDIATE
// transaction, multi-row INSERTs per table.
func (s *sqliteDB) insertBundle(ctx context.Context, b *importBundle, ids []string, now int64) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		return s.insertTables(ctx, tx, b.tables, ids, now)
	})
}

// insertTables writes the tables' rows, the resources under ids, now as
// their last_updated and audit time.
func (s *sqliteDB) insertTables(ctx context.Context, tx *sql.Tx, tables []importTable, ids []string, now int64) error {
	for i := range tables {
		t := &tables[i]
		cols := t.columns(ids, now)
		names := []string{"tenant_id"}
		for _, c := range t.cols {
			names = append(names, c.name)
		}
		err := s.insertRows(ctx, tx, t.name, names, len(t.res), func(args []any, i int) []any {
			args = append(args, tenant)
			for _, c := range cols {
				args = append(args, element(c, i))
			}
			return args
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// element is value i of a column slice of importTable.columns.
func element(col any, i int) any {
	switch c := col.(type) {
	case []string:
		return c[i]
	case []int64:
		return c[i]
	case []float64:
		return c[i]
	case []bool:
		return c[i]
	case [][]byte:
		return c[i]
	}
	panic(fmt.Sprintf("raw: column of %T", col))
}

func (s *sqliteDB) create(ctx context.Context, r row, audit []byte) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.sql(`INSERT INTO {p}resources
			(tenant_id, type, id, version, last_updated, deleted, body) VALUES (?, 'Communication', ?, ?, ?, 0, ?)`),
			tenant, r.id, r.version, r.lastUpdated, r.body); err != nil {
			return err
		}
		return s.sideWrites(ctx, tx, r, audit, "C")
	})
}

func (s *sqliteDB) update(ctx context.Context, r row, audit []byte) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.sql(`UPDATE {p}resources SET version = ?, last_updated = ?, deleted = 0, body = ?
			WHERE tenant_id = ? AND type = 'Communication' AND id = ? AND version = ?`),
			r.version, r.lastUpdated, r.body, tenant, r.id, r.version-1)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return errors.Join(err, fmt.Errorf("update of %s version %d matched no row", r.id, r.version))
		}
		for _, t := range importLayouts()[tokenTable:auditTable] {
			if _, err := tx.ExecContext(ctx, s.sql(`DELETE FROM {p}`+t.name+` WHERE tenant_id = ? AND type = 'Communication' AND id = ?`),
				tenant, r.id); err != nil {
				return err
			}
		}
		return s.sideWrites(ctx, tx, r, audit, "U")
	})
}

// querier is the reader pool or the write transaction.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// audited runs op on the reader, or, given an audit row, in one write
// transaction with the row's insert: SQLite has no round trips to save, so
// the audited form differs by the insert and the commit.
func (s *sqliteDB) audited(ctx context.Context, audit []byte, action, what string, op func(querier) error) error {
	if audit == nil {
		if err := op(s.reader); err != nil {
			return dbError{err}
		}
		return nil
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		if err := op(tx); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, s.sql(`INSERT INTO {p}audit_events (tenant_id, recorded, action, type, id, body)
			VALUES (?, ?, ?, 'Communication', ?, ?)`), tenant, time.Now().UnixMicro(), action, what, audit)
		return err
	})
}

func (s *sqliteDB) read(ctx context.Context, id string, audit []byte) error {
	return s.audited(ctx, audit, "R", id, func(q querier) error {
		var (
			version, lastUpdated int64
			deleted              bool
			body                 []byte
		)
		return q.QueryRowContext(ctx, s.sql(`SELECT version, last_updated, deleted, body FROM {p}resources
			WHERE tenant_id = ? AND type = 'Communication' AND id = ?`), tenant, id).Scan(&version, &lastUpdated, &deleted, &body)
	})
}

// search joins token_idx to resources for a rare status; for a common one
// it walks resources newest first and probes each resource's status, as
// Hearth's SQLite store does, since SQLite would collect and sort every
// match of a status half the resources hold.
func (s *sqliteDB) search(ctx context.Context, status string, common bool, audit []byte) (int, error) {
	query := `SELECT r.id, r.version, r.last_updated, r.body
			FROM {p}token_idx t JOIN {p}resources r ON r.tenant_id = t.tenant_id AND r.type = t.type AND r.id = t.id
			WHERE t.tenant_id = ? AND t.type = 'Communication' AND t.param = 'status' AND t.code = ? AND NOT r.deleted
			ORDER BY r.last_updated DESC, r.id LIMIT 20`
	if common {
		query = `SELECT r.id, r.version, r.last_updated, r.body FROM {p}resources r
			WHERE r.tenant_id = ?1 AND r.type = 'Communication' AND NOT r.deleted AND EXISTS (SELECT 1 FROM {p}token_idx t
				WHERE t.tenant_id = r.tenant_id AND t.type = r.type AND t.id = r.id AND t.param = 'status' AND t.code = ?2)
			ORDER BY r.last_updated DESC, r.id LIMIT 20`
	}
	n := 0
	err := s.audited(ctx, audit, "E", "?status="+status, func(q querier) error {
		rows, err := q.QueryContext(ctx, s.sql(query), tenant, status)
		if err != nil {
			return err
		}
		defer rows.Close()
		n, err = scanPage(rows)
		return err
	})
	return n, err
}

func (s *sqliteDB) load(ctx context.Context, rows []row) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		ins, err := tx.PrepareContext(ctx, s.sql(`INSERT INTO {p}resources
			(tenant_id, type, id, version, last_updated, deleted, body) VALUES (?, 'Communication', ?, ?, ?, 0, ?)`))
		if err != nil {
			return err
		}
		defer ins.Close()
		for _, r := range rows {
			if _, err := ins.ExecContext(ctx, tenant, r.id, r.version, r.lastUpdated, r.body); err != nil {
				return err
			}
		}
		return s.insertTokens(ctx, tx, rows)
	})
}

func (s *sqliteDB) analyze(ctx context.Context) error {
	for _, t := range scratchTables() {
		if _, err := s.writer.ExecContext(ctx, "ANALYZE "+s.prefix+t); err != nil {
			return err
		}
	}
	// A connection keeps the statistics it loaded when it opened: close
	// the idle readers so that the next searches plan with the new ones
	// (as Hearth's SQLite store does).
	s.reader.SetMaxIdleConns(0)
	s.reader.SetMaxIdleConns(max(4, runtime.NumCPU()))
	return nil
}

func (s *sqliteDB) drop(ctx context.Context) error {
	var errs []error
	for _, t := range scratchTables() {
		if _, err := s.writer.ExecContext(ctx, "DROP TABLE IF EXISTS "+s.prefix+t); err != nil {
			errs = append(errs, err)
		}
	}
	// ANALYZE left rows for the scratch tables in sqlite_stat1; DROP TABLE removes them.
	errs = append(errs, s.reader.Close(), s.writer.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("raw: drop scratch tables %s*: %w", s.prefix, err)
	}
	return nil
}

func (s *sqliteDB) scratch() string { return s.prefix }

func (s *sqliteDB) notes() []string {
	return []string{
		"raw-sqlite: Hearth's store settings (WAL, synchronous=FULL, one write connection with BEGIN IMMEDIATE, read-only pool); a write is one transaction: the resource row, its history row, one multi-row INSERT per search index table with rows and the audit row (an update deletes the old index rows first); raw-import writes a bundle in one transaction of multi-row INSERTs (500 rows each)",
		"raw-sqlite: scratch tables " + s.prefix + "* with the shape of migrations/sqlite (resources, history, the search index tables) plus audit_events, dropped at the end",
	}
}
