package postgres

import (
	"context"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hearth-fhir/hearth/store"
	"github.com/hearth-fhir/hearth/store/internal/sqlbase"
)

// dialect renders PostgreSQL's numbered placeholders.
var dialect = sqlbase.Dialect{Placeholder: func(n int) string { return "$" + strconv.Itoa(n) }}

// searcher runs search statements on a pool (pool set) or a transaction's
// connection (conn set). Every one runs as an unnamed statement that
// PostgreSQL plans for the values at hand: a cached generic plan, chosen
// for average values, is hundreds of times slower on skewed token and
// reference data. pgx's QueryExecModeExec does that but, not knowing the
// result types, asks for text results, in which a body (bytea) travels
// hex-encoded: twice its size, encoded by the server and decoded here
// (7 % of the server's CPU in a search of 20 resources). The searcher
// sends the same messages in one round trip with binary results instead;
// the portal's description gives their types.
type searcher struct {
	pool *pgxpool.Pool
	conn *pgx.Conn
}

// binaryResults asks for every result column in binary.
var binaryResults = []int16{pgx.BinaryFormatCode}

func (s searcher) Query(ctx context.Context, sql string, args []any, fn func(sqlbase.Scanner) error) error {
	conn := s.conn
	if conn == nil {
		c, err := s.pool.Acquire(ctx)
		if err != nil {
			return err
		}
		defer c.Release()
		conn = c.Conn()
	}
	// Parameters go as text of unknown type, as in QueryExecModeExec: the
	// server infers their types from the statement.
	var params pgx.ExtendedQueryBuilder
	if err := params.Build(conn.TypeMap(), nil, args); err != nil {
		return err
	}
	rows := pgx.RowsFromResultReader(conn.TypeMap(),
		conn.PgConn().ExecParams(ctx, sql, params.ParamValues, nil, params.ParamFormats, binaryResults))
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Search runs a search. A search of several statements (a total, includes)
// runs them in one read-only REPEATABLE READ transaction, so that they see
// the same snapshot; a single statement needs none.
func (db *DB) Search(ctx context.Context, tenant string, q store.SearchQuery) (store.SearchPage, error) {
	const op = "postgres.Search"
	if !q.Total && len(q.Include) == 0 {
		page, err := sqlbase.Search(ctx, searcher{pool: db.pool}, dialect, tenant, q)
		return page, wrap(op, err, "")
	}
	ptx, err := db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return store.SearchPage{}, wrap(op, err, "")
	}
	defer rollback(ctx, ptx)
	page, err := sqlbase.Search(ctx, searcher{conn: ptx.Conn()}, dialect, tenant, q)
	return page, wrap(op, err, "")
}

// Search runs a search inside the transaction, seeing its writes.
func (t *tx) Search(ctx context.Context, q store.SearchQuery) (store.SearchPage, error) {
	page, err := sqlbase.Search(ctx, searcher{conn: t.tx.Conn()}, dialect, t.tenant, q)
	return page, wrap("postgres.Tx.Search", err, "")
}

var _ store.Analyzer = (*DB)(nil)

// Analyze refreshes the planner statistics of the tables searches read,
// and their visibility maps (VACUUM), which index-only scans need.
func (db *DB) Analyze(ctx context.Context) error {
	_, err := db.pool.Exec(ctx, `VACUUM (ANALYZE) resources, token_idx, string_idx, date_idx, number_idx, quantity_idx, reference_idx, uri_idx`)
	return wrap("postgres.Analyze", err, "")
}
