package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/hearth-fhir/hearth/hearthtest"
)

// client issues FHIR requests against a test server with one token.
type client struct {
	t     *testing.T
	srv   *hearthtest.Server
	token string
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (c client) do(method, path, body string, headers ...string) response {
	c.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	url := path
	if !strings.HasPrefix(path, "http") {
		url = c.srv.FHIR() + path
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/fhir+json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// json decodes the body into a generic map.
func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body is not JSON (%v): %s", err, r.body)
	}
	return m
}

// expect fails the test unless the status matches.
func (r response) expect(t *testing.T, status int) response {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
	return r
}

// outcome checks the body is an OperationOutcome in FHIR JSON and returns
// its first issue.
func (r response) outcome(t *testing.T) map[string]any {
	t.Helper()
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/fhir+json") {
		t.Fatalf("Content-Type %q, want application/fhir+json", ct)
	}
	m := r.json(t)
	if m["resourceType"] != "OperationOutcome" {
		t.Fatalf("not an OperationOutcome: %s", r.body)
	}
	issues, _ := m["issue"].([]any)
	if len(issues) == 0 {
		t.Fatalf("OperationOutcome without issues: %s", r.body)
	}
	return issues[0].(map[string]any)
}

// expression returns the first expression of an issue, or "".
func expression(issue map[string]any) string {
	ex, _ := issue["expression"].([]any)
	if len(ex) == 0 {
		return ""
	}
	s, _ := ex[0].(string)
	return s
}

func compact(t *testing.T, b []byte) string {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// forEachBackend runs fn against a fresh server on every store backend.
func forEachBackend(t *testing.T, fn func(t *testing.T, srv *hearthtest.Server)) {
	for _, backend := range hearthtest.Backends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			srv := hearthtest.Start(t, hearthtest.OpenStore(t, backend))
			fn(t, srv)
		})
	}
}
