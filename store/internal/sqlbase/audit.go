package sqlbase

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/hearth-fhir/hearth/store"
)

// Audit statements, with ? placeholders (Dollar turns them into $n).
const (
	AuditHeadSQL = `SELECT seq, hash, anchor_seq, anchor_hash FROM audit_chain WHERE tenant_id = ?`
	AuditInitSQL = `INSERT INTO audit_chain (tenant_id, seq, hash, anchor_seq, anchor_hash)
		VALUES (?, 0, ?, 0, ?) ON CONFLICT DO NOTHING`
	// AuditMoveHeadSQL moves the head only from the one the entries
	// continue, sequence and hash: an append prepared on a head that a
	// failed group predicted has the right sequence but not the hash.
	AuditMoveHeadSQL = `UPDATE audit_chain SET seq = ?, hash = ? WHERE tenant_id = ? AND seq = ? AND hash = ?`
	AuditColumns     = `seq, id, recorded, prev_hash, hash, body`
	AuditReadSQL     = `SELECT ` + AuditColumns + ` FROM audit_events WHERE tenant_id = ? AND id = ?`
	AuditTenantsSQL  = `SELECT tenant_id FROM audit_chain ORDER BY tenant_id`
	// AuditPurgeEndSQL finds the last entry a purge removes.
	AuditPurgeEndSQL = `SELECT seq, hash FROM audit_events WHERE tenant_id = ? AND seq =
		(SELECT max(seq) FROM audit_events WHERE tenant_id = ? AND recorded < ?)`
	AuditPurgeSQL = `DELETE FROM audit_events WHERE tenant_id = ? AND seq <= ?`
	// AuditPurgeIndexSQL removes the index values of the purged entries.
	AuditPurgeIndexSQL = `DELETE FROM audit_index WHERE tenant_id = ? AND seq <= ?`
	// The index position of a tenant (audit_index_state).
	AuditIndexedSQL   = `SELECT seq FROM audit_index_state WHERE tenant_id = ?`
	AuditIndexInitSQL = `INSERT INTO audit_index_state (tenant_id, seq) VALUES (?, 0) ON CONFLICT DO NOTHING`
	AuditIndexMoveSQL = `UPDATE audit_index_state SET seq = ? WHERE tenant_id = ? AND seq = ?`
	AuditAnchorSeqSQL = `SELECT anchor_seq FROM audit_chain WHERE tenant_id = ?`
	// AuditIndexColumns are the columns of audit_index after tenant_id.
	AuditIndexColumns = `seq, recorded, param, system, value`
	AuditAnchorSQL    = `UPDATE audit_chain SET anchor_seq = ?, anchor_hash = ? WHERE tenant_id = ?`
)

// DefaultAuditLimit bounds ScanAudit when the query sets no limit.
const DefaultAuditLimit = 1000

// AuditScanSQL builds the query of ScanAudit.
func AuditScanSQL(tenant string, q store.AuditQuery) (string, []any) {
	var b strings.Builder
	b.WriteString(`SELECT ` + AuditColumns + ` FROM audit_events WHERE tenant_id = ? AND seq > ?`)
	args := []any{tenant, q.After}
	if !q.From.IsZero() {
		b.WriteString(` AND recorded >= ?`)
		args = append(args, Micros(q.From))
	}
	if !q.To.IsZero() {
		b.WriteString(` AND recorded < ?`)
		args = append(args, Micros(q.To))
	}
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultAuditLimit
	}
	b.WriteString(` ORDER BY seq LIMIT ` + strconv.Itoa(limit))
	return b.String(), args
}

// AuditIndexBatch is the audit_index rows of some entries, by column
// (AuditIndexColumns).
type AuditIndexBatch struct {
	Seqs, Recorded          []int64
	Params, Systems, Values []string
}

// AuditIndexValues lists the index rows of entries, leaving out those at
// or before anchor, which a purge removed while they were being indexed.
func AuditIndexValues(entries []store.AuditEntry, anchor int64) AuditIndexBatch {
	var b AuditIndexBatch
	for _, e := range entries {
		if e.Seq <= anchor {
			continue
		}
		for _, v := range e.Index {
			b.Seqs, b.Recorded = append(b.Seqs, e.Seq), append(b.Recorded, Micros(e.Recorded))
			b.Params, b.Systems, b.Values = append(b.Params, v.Param), append(b.Systems, v.System), append(b.Values, v.Value)
		}
	}
	return b
}

// Rows returns the batch row by row.
func (b AuditIndexBatch) Rows() [][]any {
	rows := make([][]any, len(b.Seqs))
	for i := range rows {
		rows[i] = []any{b.Seqs[i], b.Recorded[i], b.Params[i], b.Systems[i], b.Values[i]}
	}
	return rows
}

// AuditSearchSQL builds the statement of SearchAudit. It asks for one row
// more than the page, for AuditSearchPage to tell whether another follows.
// The order, and the position a page continues from, is (recorded, seq).
//
// A condition that is one value (agent=X, outcome=4) drives the search:
// its rows of audit_index, which carry the entry's recorded time, are read
// in the order of audit_index_value, so a page costs a page's worth of
// rows however many match, and a time range narrows that scan. Other
// conditions are semi-joins on the entry's values. Without such a
// condition the search walks audit_events by time.
func AuditSearchSQL(tenant string, q store.AuditSearch) (string, []any) {
	var b strings.Builder
	var args []any
	// A default value has no rows for the entries that hold it only
	// (store.AuditDefaults), so it cannot drive.
	driver := -1
	for i, c := range q.Where {
		if len(c) == 1 && c[0].Value != "" && !c[0].CoversDefault() {
			driver = i
			break
		}
	}
	// t is the table whose recorded and seq order the result.
	t := "e"
	if driver < 0 {
		b.WriteString(`SELECT ` + auditColumnsOf("e") + ` FROM audit_events e WHERE e.tenant_id = ?`)
		args = append(args, tenant)
	} else {
		t = "d"
		m := q.Where[driver][0]
		b.WriteString(`SELECT ` + auditColumnsOf("e") + ` FROM audit_index d
			JOIN audit_events e ON e.tenant_id = d.tenant_id AND e.seq = d.seq
			WHERE d.tenant_id = ? AND `)
		args = append(args, tenant)
		args = auditMatchSQL(&b, args, "d.", m)
	}
	for _, w := range q.When {
		b.WriteString(` AND (`)
		for i, r := range w {
			if i > 0 {
				b.WriteString(` OR `)
			}
			if r.Outside {
				b.WriteString(t + `.recorded NOT BETWEEN ? AND ?`)
			} else {
				b.WriteString(t + `.recorded BETWEEN ? AND ?`)
			}
			args = append(args, r.Low, r.High)
		}
		if len(w) == 0 {
			b.WriteString(`1 = 0`)
		}
		b.WriteString(`)`)
	}
	for i, c := range q.Where {
		if i == driver {
			continue
		}
		b.WriteString(` AND (EXISTS (SELECT 1 FROM audit_index c WHERE c.tenant_id = e.tenant_id AND c.seq = e.seq AND (`)
		var defaults []string // parameters whose default a match covers
		for j, m := range c {
			if j > 0 {
				b.WriteString(` OR `)
			}
			b.WriteString(`(`)
			args = auditMatchSQL(&b, args, "c.", m)
			b.WriteString(`)`)
			if m.CoversDefault() && !slices.Contains(defaults, m.Param) {
				defaults = append(defaults, m.Param)
			}
		}
		if len(c) == 0 {
			b.WriteString(`1 = 0`)
		}
		b.WriteString(`))`)
		for _, param := range defaults {
			b.WriteString(` OR NOT EXISTS (SELECT 1 FROM audit_index c WHERE c.tenant_id = e.tenant_id AND c.seq = e.seq AND c.param = ?)`)
			args = append(args, param)
		}
		b.WriteString(`)`)
		if len(defaults) > 0 {
			// An entry not indexed yet has no rows either: it is not
			// known to hold the default.
			b.WriteString(` AND e.seq <= (SELECT s.seq FROM audit_index_state s WHERE s.tenant_id = e.tenant_id)`)
		}
	}
	order, cmp := ` DESC`, `<`
	if q.Oldest {
		order, cmp = ``, `>`
	}
	if q.After != nil {
		b.WriteString(` AND (` + t + `.recorded, ` + t + `.seq) ` + cmp + ` (?, ?)`)
		args = append(args, q.After.Recorded, q.After.Seq)
	}
	b.WriteString(` ORDER BY ` + t + `.recorded` + order + `, ` + t + `.seq` + order + ` LIMIT ` + strconv.Itoa(max(q.Count, 0)+1))
	return b.String(), args
}

// auditMatchSQL writes the condition of one match on the audit_index
// columns prefixed by p.
func auditMatchSQL(b *strings.Builder, args []any, p string, m store.AuditMatch) []any {
	b.WriteString(p + `param = ?`)
	args = append(args, m.Param)
	if m.Value != "" {
		b.WriteString(` AND ` + p + `value = ?`)
		args = append(args, m.Value)
	}
	if len(m.Systems) > 0 {
		b.WriteString(` AND ` + p + `system IN (?` + strings.Repeat(`, ?`, len(m.Systems)-1) + `)`)
		for _, s := range m.Systems {
			args = append(args, s)
		}
	}
	return args
}

// auditColumnsOf is AuditColumns of table alias a.
func auditColumnsOf(a string) string {
	cols := strings.Split(AuditColumns, ", ")
	for i, c := range cols {
		cols[i] = a + "." + c
	}
	return strings.Join(cols, ", ")
}

// AuditSearchPage cuts the rows of AuditSearchSQL to the page and sets
// where the next one starts. An entry that holds the driving value under
// several systems (agent=p1 on an entry naming Practitioner/p1 and
// Patient/p1) comes once per system, side by side: it is kept once, and
// the page may then be short of Count with a next page still to come.
func AuditSearchPage(rows []store.AuditEntry, q store.AuditSearch) store.AuditPage {
	count := max(q.Count, 0)
	more := len(rows) > count
	rows = slices.CompactFunc(rows, func(a, b store.AuditEntry) bool { return a.Seq == b.Seq })
	if !more {
		return store.AuditPage{Entries: rows}
	}
	page := store.AuditPage{Entries: rows[:min(count, len(rows))]}
	if n := len(page.Entries); n > 0 {
		last := page.Entries[n-1]
		page.Next = &store.AuditPosition{Recorded: Micros(last.Recorded), Seq: last.Seq}
	}
	return page
}

// Dollar numbers the ? placeholders of query for PostgreSQL ($1, $2 …).
func Dollar(query string) string {
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// CheckAudit refuses entries that do not continue head: seqs without gaps
// and each entry linking to the one before.
func CheckAudit(op string, head store.AuditHead, entries []store.AuditEntry) error {
	prevSeq, prevHash := head.Seq, head.Hash
	for _, e := range entries {
		if e.Seq != prevSeq+1 || !bytes.Equal(e.PrevHash, prevHash) {
			return Conflict(op, fmt.Sprintf("audit entry %d does not continue the chain at %d", e.Seq, prevSeq), nil)
		}
		if e.ID == "" || len(e.Hash) == 0 || len(e.Body) == 0 {
			return Internalf(op, "audit entry %d lacks id, hash or body", e.Seq)
		}
		prevSeq, prevHash = e.Seq, e.Hash
	}
	return nil
}

// AuditScanner is what database rows offer.
type AuditScanner interface {
	Scan(dest ...any) error
}

// ScanAuditEntry reads the AuditColumns of one row.
func ScanAuditEntry(row AuditScanner) (store.AuditEntry, error) {
	var e store.AuditEntry
	var recorded int64
	err := row.Scan(&e.Seq, &e.ID, &recorded, &e.PrevHash, &e.Hash, &e.Body)
	e.Recorded = Time(recorded)
	return e, err
}
