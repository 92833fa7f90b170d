package postgres

// The two statements behind Tx.Put. Each is one round trip. The first CTE
// (r) either writes the resource row or matches nothing; every other part
// reads from r, so when r is empty nothing is written and no error aborts
// the transaction. All parts see the same snapshot, which is why the token
// DELETE cannot remove the rows the token INSERT adds.
//
// Parameters: $1 tenant, $2 type, $3 id, $4 version, $5 last_updated,
// $6 deleted, $7 body, $8..$10 token params, systems and codes as parallel
// arrays, $11 (update only) the previous version.
//
// A create uses INSERT … ON CONFLICT DO NOTHING: a concurrent create of the
// same id waits for the first to commit and then matches nothing. An update
// is conditional on the previous version: a concurrent update waits on the
// row lock, re-checks the version and matches nothing.
const (
	putHistoryAndTokens = `
, h AS (
	INSERT INTO resource_history (tenant_id, type, id, version, last_updated, deleted, body)
	SELECT $1, $2, $3, $4, $5, $6, $7 FROM r
), t AS (
	INSERT INTO token_idx (tenant_id, type, id, param, system, code)
	SELECT $1, $2, $3, u.param, u.system, u.code
	FROM r, unnest($8::text[], $9::text[], $10::text[]) AS u(param, system, code)
)`

	createSQL = `
WITH r AS (
	INSERT INTO resources (tenant_id, type, id, version, last_updated, deleted, body)
	VALUES ($1::text, $2::text, $3::text, $4::bigint, $5::bigint, $6::boolean, $7::bytea)
	ON CONFLICT DO NOTHING
	RETURNING 1
)` + putHistoryAndTokens + `
SELECT count(*) FROM r`

	updateSQL = `
WITH r AS (
	UPDATE resources SET version = $4::bigint, last_updated = $5::bigint, deleted = $6::boolean, body = $7::bytea
	WHERE tenant_id = $1::text AND type = $2::text AND id = $3::text AND version = $11::bigint
	RETURNING 1
), d AS (
	DELETE FROM token_idx
	WHERE tenant_id = $1 AND type = $2 AND id = $3 AND EXISTS (SELECT 1 FROM r)
)` + putHistoryAndTokens + `
SELECT count(*) FROM r`
)
