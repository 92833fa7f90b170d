package sqlbase

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/store"
)

func dollar(n int) string { return fmt.Sprintf("$%d", n) }

func TestHistorySQL(t *testing.T) {
	since := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name      string
		q         store.HistoryQuery
		where     string
		nargs     int
		limit     int
		wantError bool
	}{
		{"system", store.HistoryQuery{}, "WHERE tenant_id = $1 ORDER BY seq DESC LIMIT 101", 1, 100, false},
		{"type", store.HistoryQuery{Type: "Patient", Count: 5}, "tenant_id = $1 AND type = $2 ORDER BY seq DESC LIMIT 6", 2, 5, false},
		{"instance, since, before", store.HistoryQuery{Type: "Patient", ID: "a", Since: since, Before: 9, Count: 2},
			"tenant_id = $1 AND type = $2 AND id = $3 AND last_updated >= $4 AND seq < $5 ORDER BY seq DESC LIMIT 3", 5, 2, false},
		{"count capped", store.HistoryQuery{Count: 1 << 20}, "LIMIT 1001", 1, MaxHistoryCount, false},
		{"id without type", store.HistoryQuery{ID: "a"}, "", 0, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sql, args, limit, err := HistorySQL("test", "t1", tc.q, dollar)
			if tc.wantError {
				if fhir.KindOf(err) != fhir.KindInternal || err == nil {
					t.Fatalf("err = %v, want internal", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(sql, tc.where) || len(args) != tc.nargs || limit != tc.limit {
				t.Errorf("HistorySQL = %q %v limit %d, want %q with %d args, limit %d", sql, args, limit, tc.where, tc.nargs, tc.limit)
			}
		})
	}
}

func TestPage(t *testing.T) {
	rows := func(seqs ...int64) []HistoryRow {
		out := make([]HistoryRow, len(seqs))
		for i, s := range seqs {
			out[i] = HistoryRow{Seq: s, Record: store.Record{Version: s}}
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		rows  []HistoryRow
		limit int
		n     int
		next  int64
	}{
		{"empty", nil, 2, 0, 0},
		{"short", rows(9, 8), 3, 2, 0},
		{"exact", rows(9, 8), 2, 2, 0},
		{"more", rows(9, 8, 7), 2, 2, 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := Page(tc.rows, tc.limit)
			if len(p.Records) != tc.n || p.Next != tc.next {
				t.Errorf("Page = %d records, next %d; want %d, %d", len(p.Records), p.Next, tc.n, tc.next)
			}
		})
	}
}

func TestCheckWrite(t *testing.T) {
	body := []byte("{}")
	for _, tc := range []struct {
		name string
		w    store.Write
		ok   bool
	}{
		{"create", store.Write{Record: store.Record{Type: "P", ID: "a", Version: 1, Body: body}}, true},
		{"update skipping versions", store.Write{Record: store.Record{Type: "P", ID: "a", Version: 5, Body: body}, PrevVersion: 2}, true},
		{"delete without body", store.Write{Record: store.Record{Type: "P", ID: "a", Version: 2, Deleted: true}, PrevVersion: 1}, true},
		{"no type", store.Write{Record: store.Record{ID: "a", Version: 1, Body: body}}, false},
		{"same version", store.Write{Record: store.Record{Type: "P", ID: "a", Version: 1, Body: body}, PrevVersion: 1}, false},
		{"negative previous", store.Write{Record: store.Record{Type: "P", ID: "a", Version: 1, Body: body}, PrevVersion: -1}, false},
		{"empty body", store.Write{Record: store.Record{Type: "P", ID: "a", Version: 1, Body: []byte{}}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := CheckWrite("test", tc.w); (err == nil) != tc.ok {
				t.Errorf("CheckWrite = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestUniqueTokens(t *testing.T) {
	a := store.Token{Param: "p", System: "s", Code: "a"}
	b := store.Token{Param: "p", Code: "a"}
	got := UniqueTokens(store.Write{Tokens: []store.Token{a, b, a, b}})
	if len(got) != 2 || got[0] != a || got[1] != b {
		t.Errorf("UniqueTokens = %v", got)
	}
	if got := UniqueTokens(store.Write{Record: store.Record{Deleted: true}, Tokens: []store.Token{a}}); got != nil {
		t.Errorf("delete keeps tokens %v", got)
	}
}

func TestWrap(t *testing.T) {
	driver := errors.New("pq: syntax error at SELECT secret")
	for _, tc := range []struct {
		name string
		err  error
		kind fhir.Kind
	}{
		{"driver error", driver, fhir.KindInternal},
		{"cancelled", fmt.Errorf("q: %w", context.Canceled), fhir.KindUnavailable},
		{"already classified", NotFound("x", "Patient/1"), fhir.KindNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Wrap("op", tc.err)
			if fhir.KindOf(err) != tc.kind {
				t.Errorf("kind %v, want %v", fhir.KindOf(err), tc.kind)
			}
			var fe *fhir.Error
			if errors.As(err, &fe) && strings.Contains(fe.Message, "SELECT") {
				t.Errorf("message leaks SQL: %q", fe.Message)
			}
		})
	}
	if Wrap("op", nil) != nil {
		t.Error("Wrap(nil) != nil")
	}
}

func TestMicros(t *testing.T) {
	in := time.Date(2024, 2, 29, 23, 59, 59, 123456789, time.FixedZone("X", -5*3600))
	got := Time(Micros(in))
	if !got.Equal(in.Truncate(time.Microsecond)) || got.Location() != time.UTC {
		t.Errorf("round trip = %v", got)
	}
}
