package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hearth-fhir/hearth/hearthtest"
)

// syntheaResource is one resource of the Synthea bundles, for the raw run.
type syntheaResource struct {
	typ, id string
	body    []byte
}

func syntheaResources(b *testing.B, bundles []hearthtest.SyntheaBundle) []syntheaResource {
	var out []syntheaResource
	for _, bu := range bundles {
		var parsed struct {
			Entry []struct {
				Resource json.RawMessage `json:"resource"`
			} `json:"entry"`
		}
		if err := json.Unmarshal(bu.JSON, &parsed); err != nil {
			b.Fatal(err)
		}
		for _, e := range parsed.Entry {
			var head struct{ ResourceType string }
			_ = json.Unmarshal(e.Resource, &head)
			out = append(out, syntheaResource{typ: head.ResourceType, id: rawID(), body: e.Resource})
		}
	}
	return out
}

// BenchmarkSyntheaImport: every Synthea transaction Bundle posted to Hearth
// (validation, reference rewriting, indexing, history), against the raw
// driver bulk-inserting the same resources as resource and history rows
// (COPY on PostgreSQL, one transaction of prepared inserts on SQLite).
// Reported in resources/s.
func BenchmarkSyntheaImport(b *testing.B) {
	bundles := hearthtest.SyntheaBundles(b)
	resources := syntheaResources(b, bundles)
	for _, backend := range hearthtest.Backends {
		b.Run(backend, func(b *testing.B) {
			t := newTarget(b, backend)
			var hearth, raw float64
			b.Run("hearth", func(b *testing.B) {
				start := time.Now()
				for i := 0; i < b.N; i++ {
					for _, bu := range bundles {
						if err := t.transaction(bu.JSON); err != nil {
							b.Fatal(err)
						}
					}
				}
				hearth = float64(b.N*len(resources)) / time.Since(start).Seconds()
				b.ReportMetric(hearth, "resources/s")
			})
			b.Run("raw", func(b *testing.B) {
				start := time.Now()
				for i := 0; i < b.N; i++ {
					for j := range resources {
						resources[j].id = rawID()
					}
					if err := t.raw.bulk(context.Background(), resources); err != nil {
						b.Fatal(err)
					}
				}
				raw = float64(b.N*len(resources)) / time.Since(start).Seconds()
				b.ReportMetric(raw, "resources/s")
			})
			report("synthea-import", backend, hearth, raw)
		})
	}
}

// transaction posts one Bundle and checks it succeeded.
func (t *target) transaction(bundle []byte) error {
	req, _ := http.NewRequest("POST", t.srv.FHIR(), strings.NewReader(string(bundle)))
	req.Header.Set("Authorization", "Bearer "+t.token)
	req.Header.Set("Content-Type", "application/fhir+json")
	req.Header.Set("Prefer", "return=minimal")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("transaction: status %d", resp.StatusCode)
	}
	return nil
}

func (r rawPostgres) bulk(ctx context.Context, rs []syntheaResource) error {
	tx, err := r.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	rows := make([][]any, len(rs))
	for i, x := range rs {
		rows[i] = []any{"default", x.typ, x.id, int64(1), int64(0), x.body}
	}
	cols := []string{"tenant_id", "type", "id", "version", "last_updated", "body"}
	for _, table := range []string{"raw_resources", "raw_history"} {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromRows(rows)); err != nil {
			return err
		}
	}
	return tx.Commit(ctx)
}

func (r rawSQLite) bulk(ctx context.Context, rs []syntheaResource) error {
	tx, err := r.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, table := range []string{"raw_resources", "raw_history"} {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO `+table+` VALUES ('default',?,?,1,0,?)`)
		if err != nil {
			return err
		}
		for _, x := range rs {
			if _, err := stmt.ExecContext(ctx, x.typ, x.id, x.body); err != nil {
				stmt.Close()
				return err
			}
		}
		stmt.Close()
	}
	return tx.Commit()
}
