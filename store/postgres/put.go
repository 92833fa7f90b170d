package postgres

import "strings"

// The two statements behind Tx.Put. Each is one round trip. The first CTE
// (r) either writes the resource row or matches nothing; every other part
// reads from r, so when r is empty nothing is written and no error aborts
// the transaction. All parts see the same snapshot, which is why the index
// DELETEs cannot remove the rows the index INSERTs add.
//
// Parameters: $1 tenant, $2 type, $3 id, $4 version, $5 last_updated,
// $6 deleted, $7 body, $8..$29 the index rows as parallel arrays (see
// index.go), $30 (update only) the previous version.
//
// A create uses INSERT … ON CONFLICT DO NOTHING: a concurrent create of the
// same id waits for the first to commit and then matches nothing. An update
// is conditional on the previous version: a concurrent update waits on the
// row lock, re-checks the version and matches nothing.
const (
	putHistory = `
, h AS (
	INSERT INTO resource_history (tenant_id, type, id, version, last_updated, deleted, body)
	SELECT $1, $2, $3, $4, $5, $6, $7 FROM r
)`

	createSQL = `
WITH r AS (
	INSERT INTO resources (tenant_id, type, id, version, last_updated, deleted, body)
	VALUES ($1::text, $2::text, $3::text, $4::bigint, $5::bigint, $6::boolean, $7::bytea)
	ON CONFLICT DO NOTHING
	RETURNING 1
)` + putHistory + putIndex + putCount

	updateSQL = `
WITH r AS (
	UPDATE resources SET version = $4::bigint, last_updated = $5::bigint, deleted = $6::boolean, body = $7::bytea
	WHERE tenant_id = $1::text AND type = $2::text AND id = $3::text AND version = $30::bigint
	RETURNING 1
)` + deleteIndex + putHistory + putIndex + putCount

	// putCount answers 1 when the version was written, 0 when it lost its
	// race.
	putCount = `
SELECT count(*) FROM r`
)

// The strict forms fail instead of answering 0 (division by zero, mapped to
// KindConflict), so that a lost race aborts the implicit transaction of a
// pipelined group and nothing of the group is written (see group.go).
var (
	createStrictSQL = strings.TrimSuffix(createSQL, putCount) + strictCount
	updateStrictSQL = strings.TrimSuffix(updateSQL, putCount) + strictCount
)

const strictCount = `
SELECT 1 / count(*)::int FROM r`
