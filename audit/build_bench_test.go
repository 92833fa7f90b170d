package audit

import (
	"testing"
	"time"
)

// BenchmarkBuild builds the AuditEvent of a read and of a search (which
// records its query, not what it returned), as every request does before
// its group commit.
func BenchmarkBuild(b *testing.B) {
	base := Event{
		ID: "01a20828-9869-74a7-b964-7dddc13cc861", Recorded: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		Outcome: Success, Subject: "client-1", ClientID: "client-1", Address: "127.0.0.1",
		Server: ServerRef{Name: "hearth", BaseURL: "https://fhir.example.org/fhir"},
	}
	read := base
	read.Interaction = "read"
	read.Entities = []Ref{{Type: "Communication", ID: "01a20828-805d-73f5-81c6-3e554e325bb7", Version: 1}}
	read.Patients = []string{"Patient/01a20828-7f81-7564-b873-37b91af91671"}
	search := base
	search.Interaction = "search-type"
	search.Query = "Communication?status=completed&_sort=-_lastUpdated&_count=20"
	for _, bc := range []struct {
		name string
		ev   Event
	}{{"read", read}, {"search", search}} {
		if _, err := Build(bc.ev); err != nil {
			b.Fatal(err)
		}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Build(bc.ev); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
