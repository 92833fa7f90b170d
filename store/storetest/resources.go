package storetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/store"
)

// testCRUD walks one resource through create, update and delete, checking
// reads and version reads after each step.
func testCRUD(t *testing.T, s store.Store) {
	t.Parallel()
	ctx := context.Background()
	tenant := newTenant(t)

	if _, err := read(t, s, tenant, "Patient", "p1"); !fhir.IsKind(err, fhir.KindNotFound) {
		t.Fatalf("Read before create: %v, want not-found", err)
	}

	v1 := rec("Patient", "p1", 1, at(0), `{"resourceType":"Patient","id":"p1","active":true}`)
	v2 := rec("Patient", "p1", 2, at(1), `{"resourceType":"Patient","id":"p1","active":false}`)
	v3 := marker("Patient", "p1", 3, at(2))
	steps := []struct {
		name string
		w    store.Write
	}{
		{"create", store.Write{Record: v1}},
		{"update", store.Write{Record: v2, PrevVersion: 1}},
		{"delete", store.Write{Record: v3, PrevVersion: 2}},
	}
	for _, st := range steps {
		mustPut(t, s, tenant, st.w)
		got, err := read(t, s, tenant, "Patient", "p1")
		if err != nil {
			t.Fatalf("%s: Read: %v", st.name, err)
		}
		checkRecord(t, st.name+": Read", got, st.w.Record)
	}

	// Every version stays readable, the delete marker included.
	for _, want := range []store.Record{v1, v2, v3} {
		got, err := s.ReadVersion(ctx, tenant, "Patient", "p1", want.Version)
		if err != nil {
			t.Fatalf("ReadVersion %d: %v", want.Version, err)
		}
		checkRecord(t, "ReadVersion", got, want)
	}
	recs, _ := allHistory(t, s, tenant, store.HistoryQuery{Type: "Patient", ID: "p1"})
	if len(recs) != 3 {
		t.Fatalf("history has %d versions, want 3", len(recs))
	}
	for i, want := range []store.Record{v3, v2, v1} {
		checkRecord(t, "history", recs[i], want)
	}

	// A deleted resource comes back with an update based on the marker.
	v4 := rec("Patient", "p1", 4, at(3), "")
	mustPut(t, s, tenant, store.Write{Record: v4, PrevVersion: 3})
	got, err := read(t, s, tenant, "Patient", "p1")
	if err != nil {
		t.Fatal(err)
	}
	checkRecord(t, "Read after undelete", got, v4)

	// Reads inside a transaction see the same thing.
	err = s.Tx(ctx, tenant, func(tx store.Tx) error {
		got, err := tx.Read(ctx, "Patient", "p1")
		if err != nil {
			return err
		}
		checkRecord(t, "Tx.Read", got, v4)
		got, err = tx.ReadVersion(ctx, "Patient", "p1", 2)
		if err != nil {
			return err
		}
		checkRecord(t, "Tx.ReadVersion", got, v2)
		_, err = tx.Read(ctx, "Patient", "nope")
		checkKind(t, "Tx.Read unknown", err, fhir.KindNotFound)
		_, err = tx.ReadVersion(ctx, "Patient", "p1", 9)
		checkKind(t, "Tx.ReadVersion unknown", err, fhir.KindNotFound)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name    string
		typ, id string
		version int64
	}{
		{"unknown version", "Patient", "p1", 5},
		{"version zero", "Patient", "p1", 0},
		{"unknown id", "Patient", "p2", 1},
		{"other type", "Observation", "p1", 1},
	} {
		_, err := s.ReadVersion(ctx, tenant, tc.typ, tc.id, tc.version)
		checkKind(t, "ReadVersion "+tc.name, err, fhir.KindNotFound)
	}
}

// testPutConflicts checks that every write based on the wrong version fails
// with KindConflict and changes nothing.
func testPutConflicts(t *testing.T, s store.Store) {
	t.Parallel()
	ctx := context.Background()
	tenant := newTenant(t)
	mustPut(t, s, tenant, store.Write{Record: rec("Patient", "live", 1, at(0), "")})
	mustPut(t, s, tenant, store.Write{Record: rec("Patient", "live", 2, at(1), ""), PrevVersion: 1})
	mustPut(t, s, tenant, store.Write{Record: rec("Patient", "gone", 1, at(0), "")})
	mustPut(t, s, tenant, store.Write{Record: marker("Patient", "gone", 2, at(1)), PrevVersion: 1})

	for _, tc := range []struct {
		name string
		w    store.Write
	}{
		{"create existing", store.Write{Record: rec("Patient", "live", 1, at(5), "")}},
		{"create existing with next version", store.Write{Record: rec("Patient", "live", 3, at(5), "")}},
		{"create over delete marker", store.Write{Record: rec("Patient", "gone", 3, at(5), "")}},
		{"stale update", store.Write{Record: rec("Patient", "live", 2, at(5), ""), PrevVersion: 1}},
		{"future update", store.Write{Record: rec("Patient", "live", 4, at(5), ""), PrevVersion: 3}},
		{"update missing", store.Write{Record: rec("Patient", "missing", 2, at(5), ""), PrevVersion: 1}},
		{"stale delete", store.Write{Record: marker("Patient", "live", 2, at(5)), PrevVersion: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkKind(t, "Put", put(ctx, s, tenant, tc.w), fhir.KindConflict)
		})
	}

	got, err := read(t, s, tenant, "Patient", "live")
	if err != nil {
		t.Fatal(err)
	}
	checkRecord(t, "Read after conflicts", got, rec("Patient", "live", 2, at(1), ""))
	if _, err := read(t, s, tenant, "Patient", "missing"); !fhir.IsKind(err, fhir.KindNotFound) {
		t.Errorf("failed update created the resource: %v", err)
	}
	recs, _ := allHistory(t, s, tenant, store.HistoryQuery{})
	if len(recs) != 4 {
		t.Errorf("history has %d versions after conflicts, want 4", len(recs))
	}
}

// testInvalidWrites checks that malformed writes, which only a bug in the
// caller produces, are refused before they reach the database.
func testInvalidWrites(t *testing.T, s store.Store) {
	t.Parallel()
	ctx := context.Background()
	tenant := newTenant(t)
	for _, tc := range []struct {
		name string
		w    store.Write
	}{
		{"no type", store.Write{Record: rec("", "a", 1, at(0), "{}")}},
		{"no id", store.Write{Record: rec("Patient", "", 1, at(0), "")}},
		{"version not after previous", store.Write{Record: rec("Patient", "a", 1, at(0), ""), PrevVersion: 1}},
		{"version zero", store.Write{Record: rec("Patient", "a", 0, at(0), "")}},
		{"no body", store.Write{Record: store.Record{Type: "Patient", ID: "a", Version: 1, LastUpdated: at(0)}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := put(ctx, s, tenant, tc.w)
			checkKind(t, "Put", err, fhir.KindInternal)
			if _, ok := err.(*fhir.Error); !ok {
				t.Errorf("error is %T, want *fhir.Error", err)
			}
		})
	}
	if recs, _ := allHistory(t, s, tenant, store.HistoryQuery{}); len(recs) != 0 {
		t.Errorf("invalid writes left %d history rows", len(recs))
	}
}

// testBodyRoundTrip checks that bodies come back byte for byte from every
// read path: they are served without re-encoding.
func testBodyRoundTrip(t *testing.T, s store.Store) {
	t.Parallel()
	ctx := context.Background()
	tenant := newTenant(t)
	big := `{"resourceType":"Binary","data":"` + strings.Repeat("QUJD", 256*1024) + `"}`
	for i, tc := range []struct {
		name string
		body string
	}{
		{"compact", `{"resourceType":"Patient","id":"a"}`},
		{"whitespace kept", "{\n  \"resourceType\" : \"Patient\",\t\"id\":\"a\"\n}\n"},
		{"non-ASCII", `{"resourceType":"Patient","name":[{"text":"Zoë Ørsted 山田 太郎 🩺"}]}`},
		{"escapes kept", `{"resourceType":"Patient","name":[{"text":"Zo\u00eb \"q\" \\ \/"}]}`},
		{"NUL and high bytes", "{\"x\":\"\x00\xff\xfe\"}"},
		{"about 1 MB", big},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := "b" + string(rune('a'+i))
			want := rec("Binary", id, 1, at(i), tc.body)
			mustPut(t, s, tenant, store.Write{Record: want})
			got, err := read(t, s, tenant, "Binary", id)
			if err != nil {
				t.Fatal(err)
			}
			checkRecord(t, "Read", got, want)
			got, err = s.ReadVersion(ctx, tenant, "Binary", id, 1)
			if err != nil {
				t.Fatal(err)
			}
			checkRecord(t, "ReadVersion", got, want)
			page, err := s.History(ctx, tenant, store.HistoryQuery{Type: "Binary", ID: id})
			if err != nil || len(page.Records) != 1 {
				t.Fatalf("History: %d records, %v", len(page.Records), err)
			}
			checkRecord(t, "History", page.Records[0], want)
		})
	}

	// LastUpdated keeps microseconds and drops what is finer.
	fine := time.Date(2024, 1, 2, 3, 4, 5, 987654321, time.FixedZone("X", 3600))
	mustPut(t, s, tenant, store.Write{Record: rec("Patient", "clock", 1, fine, "")})
	got, err := read(t, s, tenant, "Patient", "clock")
	if err != nil {
		t.Fatal(err)
	}
	checkRecord(t, "Read truncated time", got, rec("Patient", "clock", 1, fine.Truncate(time.Microsecond), ""))
}
