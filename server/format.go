package server

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/hearth-fhir/hearth/fhir"
)

const fhirJSON = "application/fhir+json"

// negotiate checks that the client accepts JSON (from _format or Accept).
// Hearth speaks FHIR JSON only; XML and Turtle get 406.
func negotiate(r *http.Request) error {
	if f := r.URL.Query().Get("_format"); f != "" {
		switch strings.TrimSpace(strings.SplitN(f, ";", 2)[0]) {
		case "json", "application/json", fhirJSON, "application/json+fhir":
			return nil
		}
		return fhir.Errorf(fhir.KindNotAcceptable, "only JSON is supported (_format=json)")
	}
	accept := r.Header.Get("Accept")
	if accept == "" {
		return nil
	}
	for _, part := range strings.Split(accept, ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		if mt == "*/*" || mt == "application/*" || strings.Contains(mt, "json") {
			return nil
		}
	}
	return fhir.Errorf(fhir.KindNotAcceptable, "only JSON is supported (Accept: %s)", fhirJSON)
}

// readBody reads a request body of one of the allowed media types. A missing
// Content-Type is taken as FHIR JSON, which is what clients mean by it.
func readBody(r *http.Request, allowed ...string) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || !contains(allowed, mt) {
			return nil, fhir.Errorf(fhir.KindUnsupportedMedia, "Content-Type must be one of %s", strings.Join(allowed, ", "))
		}
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var maxErr *http.MaxBytesError
		if errorsAs(err, &maxErr) {
			return nil, fhir.Errorf(fhir.KindTooLarge, "body is larger than %d bytes", maxErr.Limit)
		}
		return nil, fhir.Errorf(fhir.KindInvalid, "could not read the body")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, fhir.Errorf(fhir.KindInvalid, "body is empty")
	}
	return body, nil
}

// negotiatedBody does what every write handler starts with: format
// negotiation, then the body in one of the allowed media types. It answers
// a failure itself and reports ok=false.
func (s *Server) negotiatedBody(w http.ResponseWriter, r *http.Request, allowed ...string) ([]byte, bool) {
	if err := negotiate(r); err != nil {
		s.writeError(w, r, err)
		return nil, false
	}
	body, err := readBody(r, allowed...)
	if err != nil {
		s.writeError(w, r, err)
		return nil, false
	}
	return body, true
}

var resourceMedia = []string{fhirJSON, "application/json", "application/json+fhir"}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// writeJSON writes a JSON body with the FHIR media type, indented when the
// client asked for _pretty=true.
func (s *Server) writeJSON(w http.ResponseWriter, r *http.Request, status int, body []byte) {
	if pretty, _ := strconv.ParseBool(r.URL.Query().Get("_pretty")); pretty {
		var buf bytes.Buffer
		if json.Indent(&buf, body, "", "  ") == nil {
			body = buf.Bytes()
		}
	}
	h := w.Header()
	h.Set("Content-Type", fhirJSON+"; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
