package audit_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/hearth-fhir/hearth/audit"
	"github.com/hearth-fhir/hearth/store"
	"github.com/hearth-fhir/hearth/store/postgres"
	"github.com/hearth-fhir/hearth/store/postgres/pgtest"
	"github.com/hearth-fhir/hearth/store/sqlite"
)

// BenchmarkIndex is the background cost of the audit index: ns/op is per
// AuditEvent (a user's read: nine values) taken from the log and indexed,
// in Index's batches. Appends themselves pay nothing for it.
func BenchmarkIndex(b *testing.B) {
	ctx := context.Background()
	l := audit.NewLog(audit.ServerRef{Name: "hearth"})
	ev := audit.Event{Interaction: "read", Subject: "u1", FhirUser: "Practitioner/p1", ClientID: "app", IsUser: true,
		Address: "192.0.2.7", Entities: []audit.Ref{{"Communication", "m1", 3}}, Patients: []string{"Patient/pat1"}}
	for _, backend := range []string{"sqlite", "postgres"} {
		b.Run(backend, func(b *testing.B) {
			var st interface {
				store.Store
				store.AuditLog
			}
			var err error
			if backend == "sqlite" {
				st, err = sqlite.Open(ctx, filepath.Join(b.TempDir(), "hearth.db"))
			} else {
				st, err = postgres.Open(ctx, pgtest.URL(b))
			}
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			if err := st.Migrate(ctx); err != nil {
				b.Fatal(err)
			}
			tenant := fmt.Sprintf("t%d", b.N)
			for i := 0; i < b.N; i += 100 {
				recs := make([]audit.Record, min(100, b.N-i))
				for j := range recs {
					if recs[j], err = l.Record(ev); err != nil {
						b.Fatal(err)
					}
				}
				if err := st.Tx(ctx, tenant, func(tx store.Tx) error { return audit.Append(ctx, tx, recs...) }); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			n, err := audit.Index(ctx, st, tenant, "")
			if err != nil || n != b.N {
				b.Fatalf("Index = %d, %v; want %d", n, err, b.N)
			}
		})
	}
}
