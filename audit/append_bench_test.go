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

// BenchmarkAppend appends a read's AuditEvent, one per transaction (a
// write's) and 64 per transaction (a group commit), with its index values
// and without them, for the cost of the index on the hot path. ns/op is
// per AuditEvent.
func BenchmarkAppend(b *testing.B) {
	ctx := context.Background()
	l := audit.NewLog(audit.ServerRef{Name: "hearth"})
	ev := audit.Event{Interaction: "read", Subject: "u1", FhirUser: "Practitioner/p1", ClientID: "app", IsUser: true,
		Address: "192.0.2.7", Entities: []audit.Ref{{"Communication", "m1", 3}}, Patients: []string{"Patient/pat1"}}
	for _, backend := range []string{"sqlite", "postgres"} {
		b.Run(backend, func(b *testing.B) {
			var st store.Store
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
			for _, batch := range []int{1, 64} {
				for _, indexed := range []bool{false, true} {
					b.Run(fmt.Sprintf("batch%d/indexed=%v", batch, indexed), func(b *testing.B) {
						for i := 0; i < b.N; i += batch {
							recs := make([]audit.Record, batch)
							for j := range recs {
								if recs[j], err = l.Record(ev); err != nil {
									b.Fatal(err)
								}
								if !indexed {
									recs[j].Index = nil
								}
							}
							if err := st.Tx(ctx, "t", func(tx store.Tx) error { return audit.Append(ctx, tx, recs...) }); err != nil {
								b.Fatal(err)
							}
						}
					})
				}
			}
		})
	}
}
