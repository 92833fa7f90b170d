package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Client speaks standard FHIR R4 REST to one base URL and nothing else: no
// server-specific endpoint, so the same workloads run against Hearth, HAPI,
// Medplum or Blaze.
type Client struct {
	base  string // FHIR base URL without a trailing slash
	token TokenSource
	http  *http.Client
}

// NewClient returns a client for the FHIR base URL (e.g.
// http://127.0.0.1:8080/fhir). token may be nil for open servers.
// conns is the most connections kept open, the highest concurrency.
func NewClient(base string, token TokenSource, conns int, timeout time.Duration) *Client {
	if token == nil {
		token = StaticToken("")
	}
	tr := &http.Transport{
		MaxIdleConns:        conns * 2,
		MaxIdleConnsPerHost: conns * 2,
		IdleConnTimeout:     90 * time.Second,
	}
	return &Client{base: strings.TrimSuffix(base, "/"), token: token,
		http: &http.Client{Transport: tr, Timeout: timeout}}
}

// Base is the FHIR base URL.
func (c *Client) Base() string { return c.base }

// StatusError is a response with an unexpected HTTP status.
type StatusError struct {
	Method, Path string
	Status       int
	Body         string // the start of the body, usually an OperationOutcome
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s %s: status %d: %.200s", e.Method, e.Path, e.Status, e.Body)
}

// Response is what a workload needs of an answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte // nil unless asked for
}

// request is one FHIR interaction.
type request struct {
	method, path string // path relative to the base, "" for the base itself
	body         []byte
	header       map[string]string
	want         []int // accepted statuses
	keepBody     bool  // read the body into Response.Body (else discarded)
}

// do sends r and checks the status. Bodies are always read to the end so
// that connections are reused.
func (c *Client) do(ctx context.Context, r request) (Response, error) {
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	u := c.base
	if r.path != "" {
		u += "/" + r.path
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u, body)
	if err != nil {
		return Response{}, err
	}
	req.Header.Set("Accept", "application/fhir+json")
	if r.body != nil {
		req.Header.Set("Content-Type", "application/fhir+json")
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	tok, err := c.token.Token(ctx)
	if err != nil {
		return Response{}, err
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return Response{}, transportError{err}
	}
	defer resp.Body.Close()
	out := Response{Status: resp.StatusCode, Header: resp.Header}
	ok := false
	for _, s := range r.want {
		ok = ok || s == resp.StatusCode
	}
	if r.keepBody || !ok {
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			return out, transportError{err}
		}
		out.Body = b
	} else if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return out, transportError{err}
	}
	if !ok {
		return out, &StatusError{Method: r.method, Path: r.path, Status: resp.StatusCode, Body: string(out.Body)}
	}
	return out, nil
}

// transportError is a failure below HTTP (connection refused, reset …).
type transportError struct{ err error }

func (e transportError) Error() string { return e.err.Error() }
func (e transportError) Unwrap() error { return e.err }

// Class names the error bucket in reports.
func (e transportError) Class() string { return "transport" }

// Created is the identity of a resource a write returned.
type Created struct {
	Type, ID string
	Version  string // "" when the server did not say
}

// Create POSTs a resource and returns its id and version, read from
// Location (or, failing that, from the body).
func (c *Client) Create(ctx context.Context, typ string, body []byte) (Created, error) {
	resp, err := c.do(ctx, request{method: http.MethodPost, path: typ, body: body,
		header: map[string]string{"Prefer": "return=minimal"}, want: []int{http.StatusCreated, http.StatusOK},
		keepBody: true})
	if err != nil {
		return Created{}, err
	}
	if cr, ok := parseLocation(resp.Header.Get("Location")); ok {
		if cr.Version == "" {
			cr.Version = etagVersion(resp.Header.Get("ETag"))
		}
		return cr, nil
	}
	return c.identify(ctx, typ, resp)
}

// identify finds the id of a created resource in a server that sent no
// Location: from the body, asking for it if the body was minimal.
func (c *Client) identify(ctx context.Context, typ string, resp Response) (Created, error) {
	var m struct {
		ID   string `json:"id"`
		Meta struct {
			VersionID string `json:"versionId"`
		} `json:"meta"`
	}
	if json.Unmarshal(resp.Body, &m) == nil && m.ID != "" {
		return Created{Type: typ, ID: m.ID, Version: m.Meta.VersionID}, nil
	}
	return Created{}, fmt.Errorf("create %s: the answer names no id (no Location header, no body)", typ)
}

// Read GETs one resource; the body is read and dropped.
func (c *Client) Read(ctx context.Context, typ, id string) error {
	_, err := c.do(ctx, request{method: http.MethodGet, path: typ + "/" + id, want: []int{http.StatusOK}})
	return err
}

// Update PUTs a resource with If-Match on version and returns the new version.
func (c *Client) Update(ctx context.Context, typ, id, version string, body []byte) (string, error) {
	h := map[string]string{"Prefer": "return=minimal"}
	if version != "" {
		h["If-Match"] = `W/"` + version + `"`
	}
	resp, err := c.do(ctx, request{method: http.MethodPut, path: typ + "/" + id, body: body, header: h,
		want: []int{http.StatusOK, http.StatusCreated}})
	if err != nil {
		return "", err
	}
	if v := etagVersion(resp.Header.Get("ETag")); v != "" {
		return v, nil
	}
	if cr, ok := parseLocation(resp.Header.Get("Location")); ok && cr.Version != "" {
		return cr.Version, nil
	}
	return nextVersion(version), nil
}

// Delete DELETEs one resource.
func (c *Client) Delete(ctx context.Context, typ, id string) error {
	_, err := c.do(ctx, request{method: http.MethodDelete, path: typ + "/" + id,
		want: []int{http.StatusOK, http.StatusNoContent, http.StatusAccepted}})
	return err
}

// Search GETs a search URL (type?query) and returns the Bundle.
func (c *Client) Search(ctx context.Context, query string) ([]byte, error) {
	resp, err := c.do(ctx, request{method: http.MethodGet, path: query, want: []int{http.StatusOK}, keepBody: true})
	return resp.Body, err
}

// Transaction POSTs a transaction Bundle to the base and returns the
// response Bundle.
func (c *Client) Transaction(ctx context.Context, bundle []byte) ([]byte, error) {
	resp, err := c.do(ctx, request{method: http.MethodPost, body: bundle, want: []int{http.StatusOK}, keepBody: true})
	return resp.Body, err
}

// parseLocation reads [base/]Type/id[/_history/vid].
func parseLocation(loc string) (Created, bool) {
	if loc == "" {
		return Created{}, false
	}
	if i := strings.IndexAny(loc, "?#"); i >= 0 {
		loc = loc[:i]
	}
	parts := strings.Split(strings.TrimSuffix(loc, "/"), "/")
	n := len(parts)
	if n >= 4 && parts[n-2] == "_history" {
		return Created{Type: parts[n-4], ID: parts[n-3], Version: parts[n-1]}, true
	}
	if n >= 2 {
		return Created{Type: parts[n-2], ID: parts[n-1]}, true
	}
	return Created{}, false
}

// etagVersion reads W/"3" as "3".
func etagVersion(etag string) string {
	return strings.Trim(strings.TrimPrefix(strings.TrimSpace(etag), "W/"), `"`)
}

// nextVersion guesses the version after v when the server did not say.
func nextVersion(v string) string {
	n, err := strconv.Atoi(v)
	if err != nil {
		return ""
	}
	return strconv.Itoa(n + 1)
}

// Version reads the current version of a resource (ETag, else
// meta.versionId), for a writer whose If-Match went stale.
func (c *Client) Version(ctx context.Context, typ, id string) (string, error) {
	resp, err := c.do(ctx, request{method: http.MethodGet, path: typ + "/" + id, want: []int{http.StatusOK}, keepBody: true})
	if err != nil {
		return "", err
	}
	if v := etagVersion(resp.Header.Get("ETag")); v != "" {
		return v, nil
	}
	cr, err := c.identify(ctx, typ, resp)
	return cr.Version, err
}

// staleVersion tells an If-Match refusal (409 or 412) apart from other errors.
func staleVersion(err error) bool {
	var se *StatusError
	return errors.As(err, &se) && (se.Status == http.StatusConflict || se.Status == http.StatusPreconditionFailed)
}
