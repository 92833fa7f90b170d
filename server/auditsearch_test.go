package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/hearth-fhir/hearth/hearthtest"
)

// AuditEvent searches over HTTP on both stores: a searchset of the audit
// log's entries, each readable at its fullUrl, next links, POST _search,
// and OperationOutcomes for what is refused.
func TestAuditEventSearchHTTP(t *testing.T) {
	forEachBackend(t, func(t *testing.T, srv *hearthtest.Server) {
		c := client{t: t, srv: srv, token: srv.Token("acme", "system/*.cruds")}
		var made []string
		for _, status := range []string{"completed", "in-progress", "completed"} {
			r := c.do("POST", "/Communication", `{"resourceType":"Communication","status":"`+status+`"}`).expect(t, http.StatusCreated)
			loc := r.header.Get("Location")
			made = append(made, loc[strings.Index(loc, "/Communication/")+1:strings.Index(loc, "/_history")])
		}
		c.do("GET", "/"+made[0], "").expect(t, http.StatusOK)

		creates := c.search(t, "GET", "/AuditEvent?subtype=create&_sort=date", "")
		if got := creates.ids("match"); len(got) != 3 {
			t.Fatalf("create AuditEvents: %v", got)
		}
		for i, e := range creates.Entry {
			// Each names the Communication it created, oldest first, and
			// reads back byte for byte at its fullUrl.
			if !strings.Contains(string(e.Resource), `"reference":"`+made[i]+`/_history/1"`) {
				t.Errorf("entry %d does not name %s: %s", i, made[i], e.Resource)
			}
			read := c.do("GET", e.FullURL, "").expect(t, http.StatusOK)
			if compact(t, read.body) != compact(t, e.Resource) {
				t.Errorf("%s reads %s, the search found %s", e.FullURL, read.body, e.Resource)
			}
		}
		if self := creates.link("self"); !strings.HasSuffix(self, "/fhir/AuditEvent?subtype=create&_sort=date") {
			t.Errorf("self link %q", self)
		}
		reads := c.search(t, "POST", "/AuditEvent/_search", "entity="+url.QueryEscape(made[0])+"&subtype=read")
		if got := reads.ids("match"); len(got) != 1 {
			t.Errorf("the read of %s: %v", made[0], got)
		}

		// Paging by next links, newest first.
		var paged []string
		next := "/AuditEvent?subtype=create&_count=2"
		for pages := 0; next != ""; pages++ {
			if pages > 3 {
				t.Fatal("paging does not end")
			}
			b := c.search(t, "GET", next, "")
			paged = append(paged, b.ids("match")...)
			next = b.link("next")
		}
		want := creates.ids("match")
		if len(paged) != 3 || paged[0] != want[2] || paged[2] != want[0] {
			t.Errorf("pages %v, want %v reversed", paged, want)
		}

		for _, tc := range []struct {
			query  string
			status int
			expr   string
		}{
			{"foo=bar", http.StatusBadRequest, "foo"},
			{"address=127.0.0.1", http.StatusBadRequest, "address"},
			{"date=2025-02-30", http.StatusBadRequest, "date"},
			{"_sort=outcome", http.StatusBadRequest, "_sort"},
			{"outcome:not=0", http.StatusBadRequest, "outcome"},
			{"_cursor=bm9wZQ", http.StatusBadRequest, "_cursor"},
		} {
			r := c.do("GET", "/AuditEvent?"+tc.query, "")
			if r.status != tc.status {
				t.Errorf("%s: %d, want %d: %s", tc.query, r.status, tc.status, r.body)
				continue
			}
			if issue := r.outcome(t); expression(issue) != tc.expr {
				t.Errorf("%s: issue %v, want expression %q", tc.query, issue, tc.expr)
			}
		}
		narrow := client{t: t, srv: srv, token: srv.Token("acme", "system/Communication.rs")}
		if r := narrow.do("GET", "/AuditEvent?subtype=read", ""); r.status != http.StatusForbidden {
			t.Errorf("search without an AuditEvent scope: %d %s", r.status, r.body)
		} else {
			r.outcome(t)
		}
		// The searches above are on the record, refused ones included.
		searches := c.search(t, "GET", "/AuditEvent?subtype=search-type&outcome=4&_count=50", "")
		if n := len(searches.ids("match")); n != 7 {
			t.Errorf("%d refused searches audited, want 7", n)
		}
	})
}
