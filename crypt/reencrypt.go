package crypt

import (
	"context"
	"fmt"
	"time"
)

// BodyRow is one stored body as re-encryption sees it.
type BodyRow struct {
	Current bool // the current-version row; else a history row
	Type    string
	ID      string
	Version int64
	Body    []byte
}

// BodyRef names a stored body without its bytes.
type BodyRef struct {
	Current bool // the current-version row; else a history row
	Type    string
	ID      string
	Version int64
}

// BodyReplacement replaces Row.Body by New, provided the row still holds
// Row.Body.
type BodyReplacement struct {
	Row BodyRow
	New []byte
}

// BodyStore is what re-encryption needs from a store: its stored bodies
// (current versions and history, delete markers excepted) page by page,
// and replacing bodies in place. store/sqlite and store/postgres implement
// it; store/storetest checks both.
type BodyStore interface {
	// CountBodies counts the tenant's stored bodies.
	CountBodies(ctx context.Context, tenant string) (int, error)
	// ScanBodies returns up to limit bodies after cursor ("" starts) and
	// the cursor of the next page ("" after the last).
	ScanBodies(ctx context.Context, tenant, cursor string, limit int) ([]BodyRow, string, error)
	// ReplaceBodies applies the replacements in one transaction, each only
	// if its row is unchanged (a concurrent write wins), and returns how
	// many it applied. The version and everything else stay as they are.
	ReplaceBodies(ctx context.Context, tenant string, rs []BodyReplacement) (int, error)
}

// ReencryptProgress says how far Reencrypt has come.
type ReencryptProgress struct {
	Version   int // the DEK version everything moves to
	Pass      int // 1, then further passes for rows written meanwhile
	Total     int // bodies in the store when the pass began (or Scanned, when more came)
	Scanned   int // bodies looked at in this pass
	Rewritten int // bodies re-encrypted, over all passes
	Failed    int // bodies that did not decrypt (damaged): left as they are
	// Failures names the first of them (up to maxFailures).
	Failures []BodyRef
}

// maxFailures bounds ReencryptProgress.Failures: a tenant whose every body
// is damaged needs no list of them all.
const maxFailures = 100

// reencryptBatch is how many bodies one transaction replaces.
const reencryptBatch = 200

// Reencrypt moves every stored body of tenant to the current DEK version,
// in batches, while the server keeps reading and writing: a body a writer
// changed meanwhile is left to the writer. It repeats passes until one,
// starting at least a refresh interval after Reencrypt began (so every
// process encrypts with the new version by then), finds nothing left to
// do. report, when set, hears of progress after every batch. A body that
// fails to decrypt is counted in Failed and makes Reencrypt return an
// error at the end; nothing is written for it.
func (r *Ring) Reencrypt(ctx context.Context, bs BodyStore, tenant string, report func(ReencryptProgress)) (ReencryptProgress, error) {
	start := r.now()
	var p ReencryptProgress
	failed := map[string]bool{}
	for p.Pass = 1; ; p.Pass++ {
		passStart := r.now()
		version, err := r.CurrentVersion(ctx, tenant)
		if err != nil {
			return p, err
		}
		if version == 0 {
			return p, nil // no keys: nothing was ever encrypted
		}
		p.Version = version
		if p.Total, err = bs.CountBodies(ctx, tenant); err != nil {
			return p, fmt.Errorf("crypt: re-encrypt: %w", err)
		}
		p.Scanned = 0
		changed, err := r.reencryptPass(ctx, bs, tenant, version, &p, failed, report)
		if err != nil {
			return p, err
		}
		if changed == 0 && passStart.Sub(start) >= r.refresh {
			break
		}
		if wait := r.refresh - r.now().Sub(start); wait > 0 {
			select {
			case <-ctx.Done():
				return p, ctx.Err()
			case <-time.After(wait):
			}
		}
	}
	if p.Failed > 0 {
		return p, fmt.Errorf("crypt: re-encrypt: %d stored bodies did not decrypt and keep their old key version: %w", p.Failed, ErrDecrypt)
	}
	return p, nil
}

// reencryptPass scans every body once and returns how many bodies needed
// work (re-encrypted, or lost to a concurrent write and to be seen again).
func (r *Ring) reencryptPass(ctx context.Context, bs BodyStore, tenant string, version int, p *ReencryptProgress,
	failed map[string]bool, report func(ReencryptProgress)) (int, error) {
	changed := 0
	cursor := ""
	for {
		rows, next, err := bs.ScanBodies(ctx, tenant, cursor, reencryptBatch)
		if err != nil {
			return 0, fmt.Errorf("crypt: re-encrypt: %w", err)
		}
		var batch []BodyReplacement
		for _, row := range rows {
			key := fmt.Sprintf("%v/%s/%s/%d", row.Current, row.Type, row.ID, row.Version)
			if failed[key] || !needsReencrypt(row.Body, version) {
				continue
			}
			fresh, ok, err := r.ReencryptElements(ctx, tenant, row.Type, row.ID, row.Body)
			if err != nil {
				if isDecryptFailure(err) {
					failed[key] = true
					p.Failed++
					if len(p.Failures) < maxFailures {
						p.Failures = append(p.Failures, BodyRef{Current: row.Current, Type: row.Type, ID: row.ID, Version: row.Version})
					}
					continue
				}
				return 0, err
			}
			if ok {
				batch = append(batch, BodyReplacement{Row: row, New: fresh})
			}
		}
		if len(batch) > 0 {
			n, err := bs.ReplaceBodies(ctx, tenant, batch)
			if err != nil {
				return 0, fmt.Errorf("crypt: re-encrypt: %w", err)
			}
			p.Rewritten += n
			changed += len(batch) // replaced, or changed by a writer: look again
		}
		p.Scanned += len(rows)
		p.Total = max(p.Total, p.Scanned) // rows written during the pass count too
		if report != nil {
			report(*p)
		}
		if next == "" {
			return changed, nil
		}
		cursor = next
	}
}

// needsReencrypt reports whether a body holds envelopes under another DEK
// version than current.
func needsReencrypt(body []byte, current int) bool {
	counts, err := ElementVersions(body)
	if err != nil {
		return true // let ReencryptElements report the damage
	}
	for v := range counts {
		if v != current {
			return true
		}
	}
	return false
}

// Census counts a tenant's encrypted elements per DEK version, and the
// bodies that hold at least one, over every stored body. Bodies whose
// envelopes do not even parse (damaged) are counted under version 0, which
// no key has, rather than failing the count.
func Census(ctx context.Context, bs BodyStore, tenant string) (elements map[int]int, bodies map[int]int, err error) {
	elements, bodies = map[int]int{}, map[int]int{}
	cursor := ""
	for {
		rows, next, err := bs.ScanBodies(ctx, tenant, cursor, 500)
		if err != nil {
			return nil, nil, fmt.Errorf("crypt: census: %w", err)
		}
		for _, row := range rows {
			counts, err := ElementVersions(row.Body)
			if err != nil {
				bodies[0]++
				continue
			}
			for v, n := range counts {
				elements[v] += n
				bodies[v]++
			}
		}
		if next == "" {
			return elements, bodies, nil
		}
		cursor = next
	}
}
