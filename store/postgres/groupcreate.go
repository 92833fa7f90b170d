package postgres

import (
	"strings"

	"github.com/hearth-fhir/hearth/store"
	"github.com/hearth-fhir/hearth/store/internal/sqlbase"
)

// createManySQL writes several new resources in one statement: their
// resource and history rows and every index row, as parallel arrays. A
// create statement's cost is mostly fixed (executor start, one insert per
// table), so a group of creates pays it once instead of once per create.
// Like createStrictSQL it fails (division by zero, a conflict) unless
// every resource was written: an id that exists sinks the group, and the
// committer then writes its requests one by one.
//
// Parameters: $1 tenant; $2..$7 the resources (type, id, version,
// last_updated, deleted, body); then per index table the owner's type and
// id followed by the columns of putIndex; last, the number of resources.
const createManySQL = `
WITH v AS (
	SELECT * FROM unnest($2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::boolean[], $7::bytea[])
		AS v(type, id, version, last_updated, deleted, body)
), r AS (
	INSERT INTO resources (tenant_id, type, id, version, last_updated, deleted, body)
	SELECT $1, type, id, version, last_updated, deleted, body FROM v
	ON CONFLICT DO NOTHING
	RETURNING type, id
), h AS (
	INSERT INTO resource_history (tenant_id, type, id, version, last_updated, deleted, body)
	SELECT $1, v.type, v.id, v.version, v.last_updated, v.deleted, v.body FROM v JOIN r USING (type, id)
), t AS (
	INSERT INTO token_idx (tenant_id, type, id, param, system, code)
	SELECT $1, u.type, u.id, u.param, u.system, u.code
	FROM unnest($8::text[], $9::text[], $10::text[], $11::text[], $12::text[]) AS u(type, id, param, system, code)
	JOIN r USING (type, id)
), s AS (
	INSERT INTO string_idx (tenant_id, type, id, param, value, exact)
	SELECT $1, u.type, u.id, u.param, u.value, u.exact
	FROM unnest($13::text[], $14::text[], $15::text[], $16::text[], $17::text[]) AS u(type, id, param, value, exact)
	JOIN r USING (type, id)
), dt AS (
	INSERT INTO date_idx (tenant_id, type, id, param, low, high)
	SELECT $1, u.type, u.id, u.param, u.low, u.high
	FROM unnest($18::text[], $19::text[], $20::text[], $21::bigint[], $22::bigint[]) AS u(type, id, param, low, high)
	JOIN r USING (type, id)
), n AS (
	INSERT INTO number_idx (tenant_id, type, id, param, value)
	SELECT $1, u.type, u.id, u.param, u.value
	FROM unnest($23::text[], $24::text[], $25::text[], $26::float8[]) AS u(type, id, param, value)
	JOIN r USING (type, id)
), q AS (
	INSERT INTO quantity_idx (tenant_id, type, id, param, value, system, code, canonical)
	SELECT $1, u.type, u.id, u.param, u.value, u.system, u.code, u.canonical
	FROM unnest($27::text[], $28::text[], $29::text[], $30::float8[], $31::text[], $32::text[], $33::boolean[])
		AS u(type, id, param, value, system, code, canonical)
	JOIN r USING (type, id)
), rf AS (
	INSERT INTO reference_idx (tenant_id, type, id, param, target_type, target_id, url)
	SELECT $1, u.type, u.id, u.param, u.target_type, u.target_id, u.url
	FROM unnest($34::text[], $35::text[], $36::text[], $37::text[], $38::text[], $39::text[])
		AS u(type, id, param, target_type, target_id, url)
	JOIN r USING (type, id)
), ur AS (
	INSERT INTO uri_idx (tenant_id, type, id, param, value)
	SELECT $1, u.type, u.id, u.param, u.value
	FROM unnest($40::text[], $41::text[], $42::text[], $43::text[]) AS u(type, id, param, value)
	JOIN r USING (type, id)
)
SELECT 1 / (CASE WHEN count(*) = $44 THEN 1 ELSE 0 END) FROM r`

// createManyListSQL is createManySQL answering the resources it wrote
// instead of failing, so that inside a transaction (Tx.PutAll) the caller
// can name the create that lost. ($44, the count, stays in the text because
// the arguments are the same.)
var createManyListSQL = strings.TrimSuffix(createManySQL, "SELECT 1 / (CASE WHEN count(*) = $44 THEN 1 ELSE 0 END) FROM r") +
	"SELECT type, id FROM r WHERE $44::int > 0"

// indexTableCount is how many index tables createManySQL writes.
const indexTableCount = 7

// createManyArgs renders creates (PrevVersion 0) as createManySQL's
// arguments.
func createManyArgs(op, tenant string, ws []store.Write) ([]any, error) {
	n := len(ws)
	types, ids, versions, updated := make([]string, n), make([]string, n), make([]int64, n), make([]int64, n)
	deleted, bodies := make([]bool, n), make([][]byte, n)
	tables := make([][]any, indexTableCount) // per table: owner types, owner ids, then its columns
	for i, w := range ws {
		if err := sqlbase.CheckWrite(op, w); err != nil {
			return nil, err
		}
		r := w.Record
		types[i], ids[i], versions[i], updated[i] = r.Type, r.ID, r.Version, sqlbase.Micros(r.LastUpdated)
		deleted[i], bodies[i] = r.Deleted, sqlbase.StoredBody(r)
		for k, cols := range indexColumns(sqlbase.IndexRows(w)) {
			if tables[k] == nil {
				tables[k] = make([]any, 2+len(cols))
			}
			rows := arrayLen(cols[0])
			tables[k][0], tables[k][1] = appendN(tables[k][0], r.Type, rows), appendN(tables[k][1], r.ID, rows)
			for c, col := range cols {
				tables[k][2+c] = appendArray(tables[k][2+c], col)
			}
		}
	}
	args := []any{tenant, types, ids, versions, updated, deleted, bodies}
	for _, t := range tables {
		args = append(args, t...) // a column no resource has rows in stays nil: NULL, unnested to nothing
	}
	return append(args, n), nil
}

func arrayLen(a any) int {
	switch a := a.(type) {
	case []string:
		return len(a)
	case []int64:
		return len(a)
	case []float64:
		return len(a)
	case []bool:
		return len(a)
	}
	return 0
}

func appendN(dst any, v string, n int) any {
	out, _ := dst.([]string)
	for range n {
		out = append(out, v)
	}
	return out
}

// appendArray appends src, one of indexArgs' arrays, to dst of the same
// type (nil at first).
func appendArray(dst, src any) any {
	switch s := src.(type) {
	case []string:
		d, _ := dst.([]string)
		return append(d, s...)
	case []int64:
		d, _ := dst.([]int64)
		return append(d, s...)
	case []float64:
		d, _ := dst.([]float64)
		return append(d, s...)
	case []bool:
		d, _ := dst.([]bool)
		return append(d, s...)
	}
	return dst
}
