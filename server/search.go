package server

import (
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/hearth-fhir/hearth/engine"
	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/store"
)

// search handles GET /fhir/{type}, POST /fhir/{type}/_search and the
// system-level GET /fhir?_type=… and POST /fhir/_search.
func (s *Server) search(w http.ResponseWriter, r *http.Request) {
	if err := negotiate(r); err != nil {
		s.writeError(w, r, err)
		return
	}
	query, err := searchQuery(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	req := engine.SearchRequest{Type: chi.URLParam(r, "type"), Query: query, Strict: preferHandling(r) == "strict"}
	res, err := s.engine.Search(r.Context(), principal(r), req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, s.searchBundle(r, req, res))
}

// searchQuery is the query string of a search: the URL's, and for POST
// that of the form body too.
func searchQuery(r *http.Request) (string, error) {
	query := r.URL.RawQuery
	if r.Method != http.MethodPost {
		return query, nil
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); r.ContentLength != 0 &&
		(err != nil || mt != "application/x-www-form-urlencoded") {
		return "", fhir.Errorf(fhir.KindUnsupportedMedia, "a POST _search body must be application/x-www-form-urlencoded")
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var maxErr *http.MaxBytesError
		if errorsAs(err, &maxErr) {
			return "", fhir.Errorf(fhir.KindTooLarge, "body is larger than %d bytes", maxErr.Limit)
		}
		return "", fhir.Errorf(fhir.KindInvalid, "could not read the body")
	}
	if form := strings.TrimSpace(string(body)); form != "" {
		if query != "" {
			query += "&"
		}
		query += form
	}
	return query, nil
}

// preferHandling reads handling=… from the Prefer header ("" when absent).
func preferHandling(r *http.Request) string {
	for _, h := range r.Header.Values("Prefer") {
		for _, part := range strings.Split(h, ",") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(part), "handling="); ok {
				return strings.Trim(v, `"`)
			}
		}
	}
	return ""
}

// entryOverhead is about what a Bundle entry adds to its resource and
// fullUrl: the search mode, or a history entry's request and response.
const entryOverhead = 256

// entriesSize is about the size of the Bundle entries of recs, so that
// the Bundle is written into one buffer instead of doubling into it.
func entriesSize(base string, recs []store.Record) int {
	n := 0
	for _, rec := range recs {
		n += len(rec.Body) + len(base) + len(rec.Type) + len(rec.ID) + entryOverhead
	}
	return n
}

// searchBundle renders a page as a searchset Bundle: self, next and
// previous links (GET URLs, also for a POST search), the matches and the
// included resources byte for byte, and an OperationOutcome entry for
// parameters that were ignored.
func (s *Server) searchBundle(r *http.Request, req engine.SearchRequest, res engine.SearchResult) []byte {
	base := s.base(r)
	path := base
	if req.Type != "" {
		path += "/" + req.Type
	}
	total := -1
	if res.Page.Total >= 0 {
		total = int(res.Page.Total)
	}
	b := fhir.NewBundle("searchset", total)
	b.Grow(entriesSize(base, res.Page.Records) + entriesSize(base, res.Page.Included))
	b.Link("self", linkURL(path, req.Query, res.Query.Cursor))
	if res.Next != "" {
		b.Link("next", linkURL(path, req.Query, res.Next))
	}
	if res.Prev != "" {
		b.Link("previous", linkURL(path, req.Query, res.Prev))
	}
	for _, rec := range res.Page.Records {
		b.Entry(fhir.BundleEntry{FullURL: base + "/" + rec.Type + "/" + rec.ID, Resource: rec.Body,
			Search: &fhir.BundleSearch{Mode: "match"}})
	}
	for _, rec := range res.Page.Included {
		b.Entry(fhir.BundleEntry{FullURL: base + "/" + rec.Type + "/" + rec.ID, Resource: rec.Body,
			Search: &fhir.BundleSearch{Mode: "include"}})
	}
	if ignored := res.Query.Ignored; len(ignored) > 0 {
		issues := make([]fhir.Issue, len(ignored))
		for i, ig := range ignored {
			issues[i] = fhir.Issue{Severity: "warning", Code: "not-supported",
				Diagnostics: "parameter " + ig.Name + " was ignored: " + ig.Reason, Expression: []string{ig.Name}}
		}
		b.Entry(fhir.BundleEntry{Resource: fhir.NewOutcome(issues...).JSON(), Search: &fhir.BundleSearch{Mode: "outcome"}})
	}
	return b.Bytes()
}

// linkURL is path with the search's query, its _cursor replaced by cursor
// (or removed, for self).
func linkURL(path, query, cursor string) string {
	var parts []string
	for _, p := range strings.Split(query, "&") {
		if p != "" && !strings.HasPrefix(p, "_cursor=") {
			parts = append(parts, p)
		}
	}
	if cursor != "" {
		parts = append(parts, "_cursor="+url.QueryEscape(cursor))
	}
	if len(parts) == 0 {
		return path
	}
	return path + "?" + strings.Join(parts, "&")
}
