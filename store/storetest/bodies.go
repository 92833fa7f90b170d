package storetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/hearth-fhir/hearth/crypt"
	"github.com/hearth-fhir/hearth/store"
)

// testBodies checks crypt.BodyStore: every stored body of a tenant (history
// and current rows, no delete markers, no other tenant) in pages of any
// size, and in-place replacement that yields to concurrent writes.
func testBodies(t *testing.T, s store.Store, bs crypt.BodyStore) {
	t.Parallel()
	ctx := context.Background()
	tenant, other := newTenant(t), newTenant(t)
	body := func(id string, v int64) string {
		return fmt.Sprintf(`{"resourceType":"Basic","id":"%s","v":%d}`, id, v)
	}
	want := map[string]bool{} // "current|history type/id vN"
	for i := range 7 {
		id := fmt.Sprintf("b%d", i)
		versions := int64(i%3 + 1)
		for v := int64(1); v <= versions; v++ {
			mustPut(t, s, tenant, store.Write{Record: rec("Basic", id, v, at(int(v)), body(id, v)), PrevVersion: v - 1})
			want[fmt.Sprintf("history Basic/%s v%d", id, v)] = true
		}
		want[fmt.Sprintf("current Basic/%s v%d", id, versions)] = true
	}
	mustPut(t, s, tenant, store.Write{Record: rec("Patient", "gone", 1, at(0), "")})
	mustPut(t, s, tenant, store.Write{Record: marker("Patient", "gone", 2, at(1)), PrevVersion: 1})
	want["history Patient/gone v1"] = true
	mustPut(t, s, other, store.Write{Record: rec("Basic", "b0", 1, at(0), "")})

	n, err := bs.CountBodies(ctx, tenant)
	if err != nil || n != len(want) {
		t.Errorf("CountBodies = %d, %v; want %d", n, err, len(want))
	}
	for _, limit := range []int{1, 2, 5, 100} {
		got := map[string]bool{}
		var rows []crypt.BodyRow
		cursor := ""
		for range 1000 {
			page, next, err := bs.ScanBodies(ctx, tenant, cursor, limit)
			if err != nil {
				t.Fatalf("ScanBodies limit %d: %v", limit, err)
			}
			if len(page) > limit {
				t.Fatalf("page of %d rows, limit %d", len(page), limit)
			}
			rows = append(rows, page...)
			if next == "" {
				break
			}
			cursor = next
		}
		for _, r := range rows {
			kind := "history"
			if r.Current {
				kind = "current"
			}
			k := fmt.Sprintf("%s %s/%s v%d", kind, r.Type, r.ID, r.Version)
			if got[k] {
				t.Errorf("limit %d: %s twice", limit, k)
			}
			got[k] = true
			if r.Type == "Basic" && string(r.Body) != body(r.ID, r.Version) {
				t.Errorf("limit %d: %s body %s", limit, k, r.Body)
			}
		}
		if len(got) != len(want) {
			t.Errorf("limit %d: scanned %d bodies, want %d: %v", limit, len(got), len(want), got)
		}
		for k := range want {
			if !got[k] {
				t.Errorf("limit %d: %s missing", limit, k)
			}
		}
	}
	if _, _, err := bs.ScanBodies(ctx, tenant, "forged", 10); err == nil {
		t.Error("ScanBodies took a forged cursor")
	}

	// Replace b1's current body and one history row; a replacement whose
	// old body is stale (a writer got there first) does nothing.
	cur := crypt.BodyRow{Current: true, Type: "Basic", ID: "b1", Version: 2, Body: []byte(body("b1", 2))}
	hist := crypt.BodyRow{Type: "Basic", ID: "b1", Version: 1, Body: []byte(body("b1", 1))}
	stale := crypt.BodyRow{Current: true, Type: "Basic", ID: "b2", Version: 3, Body: []byte(`{"not":"what is stored"}`)}
	wrongTenant := crypt.BodyRow{Current: true, Type: "Basic", ID: "b0", Version: 1, Body: []byte(`{"resourceType":"Basic","id":"b0"}`)}
	replaced, err := bs.ReplaceBodies(ctx, tenant, []crypt.BodyReplacement{
		{Row: cur, New: []byte(`{"new":"current"}`)}, {Row: hist, New: []byte(`{"new":"history"}`)},
		{Row: stale, New: []byte(`{"new":"stale"}`)}, {Row: wrongTenant, New: []byte(`{"new":"other"}`)},
	})
	if err != nil || replaced != 2 {
		t.Fatalf("ReplaceBodies = %d, %v; want 2", replaced, err)
	}
	got, err := s.Read(ctx, tenant, "Basic", "b1")
	if err != nil || string(got.Body) != `{"new":"current"}` || got.Version != 2 {
		t.Errorf("current after replacement: v%d %s, %v", got.Version, got.Body, err)
	}
	if got, _ := s.ReadVersion(ctx, tenant, "Basic", "b1", 1); string(got.Body) != `{"new":"history"}` {
		t.Errorf("history after replacement: %s", got.Body)
	}
	if got, _ := s.ReadVersion(ctx, tenant, "Basic", "b1", 2); string(got.Body) != body("b1", 2) {
		t.Errorf("history row of the current version changed with the current row: %s", got.Body)
	}
	if got, _ := s.Read(ctx, tenant, "Basic", "b2"); string(got.Body) != body("b2", 3) {
		t.Errorf("stale replacement applied: %s", got.Body)
	}
	if got, _ := s.Read(ctx, other, "Basic", "b0"); string(got.Body) != `{"resourceType":"Basic","id":"b0"}` {
		t.Errorf("other tenant's body changed: %s", got.Body)
	}
	// A write after the replacement works on top of it as usual.
	mustPut(t, s, tenant, store.Write{Record: rec("Basic", "b1", 3, at(9), body("b1", 3)), PrevVersion: 2})
}
