package postgres

import (
	"github.com/hearth-fhir/hearth/fhir/search"
)

// The search index part of Put's statement: one CTE per index table that
// inserts the rows passed as parallel arrays ($8…$29), and on update one
// that deletes the resource's old rows first. Like the token CTE before it,
// each reads from r, so a lost optimistic race writes no rows.
const (
	putIndex = `
, t AS (
	INSERT INTO token_idx (tenant_id, type, id, param, system, code)
	SELECT $1, $2, $3, u.param, u.system, u.code
	FROM r, unnest($8::text[], $9::text[], $10::text[]) AS u(param, system, code)
), s AS (
	INSERT INTO string_idx (tenant_id, type, id, param, value, exact)
	SELECT $1, $2, $3, u.param, u.value, u.exact
	FROM r, unnest($11::text[], $12::text[], $13::text[]) AS u(param, value, exact)
), dt AS (
	INSERT INTO date_idx (tenant_id, type, id, param, low, high)
	SELECT $1, $2, $3, u.param, u.low, u.high
	FROM r, unnest($14::text[], $15::bigint[], $16::bigint[]) AS u(param, low, high)
), n AS (
	INSERT INTO number_idx (tenant_id, type, id, param, value)
	SELECT $1, $2, $3, u.param, u.value
	FROM r, unnest($17::text[], $18::float8[]) AS u(param, value)
), q AS (
	INSERT INTO quantity_idx (tenant_id, type, id, param, value, system, code, canonical)
	SELECT $1, $2, $3, u.param, u.value, u.system, u.code, u.canonical
	FROM r, unnest($19::text[], $20::float8[], $21::text[], $22::text[], $23::boolean[])
		AS u(param, value, system, code, canonical)
), rf AS (
	INSERT INTO reference_idx (tenant_id, type, id, param, target_type, target_id, url)
	SELECT $1, $2, $3, u.param, u.target_type, u.target_id, u.url
	FROM r, unnest($24::text[], $25::text[], $26::text[], $27::text[]) AS u(param, target_type, target_id, url)
), ur AS (
	INSERT INTO uri_idx (tenant_id, type, id, param, value)
	SELECT $1, $2, $3, u.param, u.value
	FROM r, unnest($28::text[], $29::text[]) AS u(param, value)
)`

	// deleteIndex removes the rows of the version being replaced.
	deleteIndex = `
, d1 AS (DELETE FROM token_idx WHERE tenant_id = $1 AND type = $2 AND id = $3 AND EXISTS (SELECT 1 FROM r))
, d2 AS (DELETE FROM string_idx WHERE tenant_id = $1 AND type = $2 AND id = $3 AND EXISTS (SELECT 1 FROM r))
, d3 AS (DELETE FROM date_idx WHERE tenant_id = $1 AND type = $2 AND id = $3 AND EXISTS (SELECT 1 FROM r))
, d4 AS (DELETE FROM number_idx WHERE tenant_id = $1 AND type = $2 AND id = $3 AND EXISTS (SELECT 1 FROM r))
, d5 AS (DELETE FROM quantity_idx WHERE tenant_id = $1 AND type = $2 AND id = $3 AND EXISTS (SELECT 1 FROM r))
, d6 AS (DELETE FROM reference_idx WHERE tenant_id = $1 AND type = $2 AND id = $3 AND EXISTS (SELECT 1 FROM r))
, d7 AS (DELETE FROM uri_idx WHERE tenant_id = $1 AND type = $2 AND id = $3 AND EXISTS (SELECT 1 FROM r))`
)

// indexArgs renders a resource's index rows as the parallel arrays of
// putIndex, $8 to $29 in order.
func indexArgs(ix search.Index) []any {
	var args []any
	for _, cols := range indexColumns(ix) {
		args = append(args, cols...)
	}
	return args
}

// indexColumns renders a resource's index rows as parallel arrays, one
// group per index table in putIndex's order (token, string, date, number,
// quantity, reference, uri).
func indexColumns(ix search.Index) [][]any {
	tp, ts, tc := cols3(ix.Tokens, func(r search.TokenRow) (string, string, string) { return r.Param, r.System, r.Code })
	sp, sv, se := cols3(ix.Strings, func(r search.StringRow) (string, string, string) { return r.Param, r.Value, r.Exact })
	dp, dl, dh := make([]string, len(ix.Dates)), make([]int64, len(ix.Dates)), make([]int64, len(ix.Dates))
	for i, r := range ix.Dates {
		dp[i], dl[i], dh[i] = r.Param, r.Low, r.High
	}
	np, nv := make([]string, len(ix.Numbers)), make([]float64, len(ix.Numbers))
	for i, r := range ix.Numbers {
		np[i], nv[i] = r.Param, r.Value
	}
	n := len(ix.Quantities)
	qp, qv, qs, qc, qk := make([]string, n), make([]float64, n), make([]string, n), make([]string, n), make([]bool, n)
	for i, r := range ix.Quantities {
		qp[i], qv[i], qs[i], qc[i], qk[i] = r.Param, r.Value, r.System, r.Code, r.Canonical
	}
	n = len(ix.References)
	rp, rt, ri, ru := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	for i, r := range ix.References {
		rp[i], rt[i], ri[i], ru[i] = r.Param, r.TargetType, r.TargetID, r.URL
	}
	up, uv := make([]string, len(ix.URIs)), make([]string, len(ix.URIs))
	for i, r := range ix.URIs {
		up[i], uv[i] = r.Param, r.Value
	}
	return [][]any{{tp, ts, tc}, {sp, sv, se}, {dp, dl, dh}, {np, nv}, {qp, qv, qs, qc, qk}, {rp, rt, ri, ru}, {up, uv}}
}

func cols3[T any](rows []T, f func(T) (string, string, string)) ([]string, []string, []string) {
	a, b, c := make([]string, len(rows)), make([]string, len(rows)), make([]string, len(rows))
	for i, r := range rows {
		a[i], b[i], c[i] = f(r)
	}
	return a, b, c
}
