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

// readEvent is the AuditEvent of a user's read as the server stores it,
// cut to one agent and one entity.
const readEvent = `{"resourceType":"AuditEvent","id":"38177d23-6611-4127-a8a3-d42d73a019bd","meta":{"profile":["https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit.PatientRead"]},"type":{"system":"http://terminology.hl7.org/CodeSystem/audit-event-type","code":"rest","display":"RESTful Operation"},"subtype":[{"system":"http://hl7.org/fhir/restful-interaction","code":"read","display":"read"}],"action":"R","recorded":"2026-11-22T20:08:57.975451Z","outcome":"0","agent":[{"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"IRCP","display":"information recipient"}]},"who":{"reference":"Practitioner/p1","identifier":{"system":"https://hearth-fhir.dev/sid/subject","value":"u1"}},"requestor":true,"network":{"address":"192.0.2.7","type":"2"}}],"source":{"observer":{"display":"hearth"},"type":[{"system":"http://terminology.hl7.org/CodeSystem/security-source-type","code":"4","display":"Application Server"}]},"entity":[{"what":{"reference":"Patient/pat1/_history/3"},"type":{"system":"http://terminology.hl7.org/CodeSystem/audit-entity-type","code":"1","display":"Person"},"role":{"system":"http://terminology.hl7.org/CodeSystem/object-role","code":"1","display":"Patient"}}]}`

// BenchmarkValuesOf is the CPU side of BenchmarkIndex: reading one stored
// AuditEvent's index values, for the one-agent read above and for the
// full read the server records (three agents, two entities).
func BenchmarkValuesOf(b *testing.B) {
	l := audit.NewLog(audit.ServerRef{Name: "hearth", BaseURL: "http://hearth.test/fhir"})
	rec, err := l.Record(audit.Event{Interaction: "read", Subject: "u1", FhirUser: "Practitioner/p1", ClientID: "app", IsUser: true,
		Address: "192.0.2.7", Entities: []audit.Ref{{"Communication", "m1", 3}}, Patients: []string{"Patient/pat1"}})
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		body []byte
		n    int
	}{{"one-agent", []byte(readEvent), 7}, {"server-read", rec.Body, 9}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.body)))
			for b.Loop() {
				if vs := audit.ValuesOf(bc.body, "http://hearth.test/fhir"); len(vs) != bc.n {
					b.Fatalf("%d values, want %d", len(vs), bc.n)
				}
			}
		})
	}
}
