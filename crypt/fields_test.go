package crypt_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/hearth-fhir/hearth/crypt"
	"github.com/hearth-fhir/hearth/fhir"
)

// stored returns body as the engine stores it: top level parsed, stamped,
// compacted.
func stored(t testing.TB, body string) []byte {
	t.Helper()
	obj, err := fhir.ParseObject([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	return obj.Bytes()
}

func mustElements(t testing.TB, paths ...string) *crypt.Elements {
	t.Helper()
	e, err := crypt.ParseElements(paths)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// markedResources hold a marker string in every default encrypted element
// (and in primitive extensions beside them).
var markedResources = []struct{ typ, body string }{
	{"Patient", `{"resourceType":"Patient","id":"p1","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">MARK-text</div>"},
		"identifier":[{"system":"urn:mrn","value":"MARK-identifier"}],"active":true,
		"name":[{"family":"MARK-family","given":["MARK-given"]}],"telecom":[{"system":"phone","value":"MARK-phone"}],
		"gender":"female","birthDate":"1974-12-25","_birthDate":{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/patient-birthTime","valueDateTime":"1974-12-25T14:35:45-05:00"}]},
		"address":[{"line":["MARK-line"],"city":"MARK-city"}],"photo":[{"data":"TUFSSy1waG90bw=="}],
		"contact":[{"name":{"family":"MARK-contact"}}]}`},
	{"Communication", `{"resourceType":"Communication","id":"c1","status":"completed",
		"payload":[{"contentString":"MARK-payload-1"},{"contentString":"MARK-payload-2"}],"note":[{"text":"MARK-note"}]}`},
	{"DocumentReference", `{"resourceType":"DocumentReference","id":"d1","status":"current","description":"MARK-description",
		"content":[{"attachment":{"contentType":"text/plain","data":"TUFSSy1kb2MtMQ=="}},{"attachment":{"url":"http://example.org/x"}},
		{"attachment":{"contentType":"text/plain","data":"TUFSSy1kb2MtMw=="}}]}`},
	{"QuestionnaireResponse", `{"resourceType":"QuestionnaireResponse","id":"q1","status":"completed",
		"item":[{"linkId":"1","answer":[{"valueString":"MARK-answer"}]}]}`},
	{"Practitioner", `{"resourceType":"Practitioner","id":"pr1","name":[{"family":"Public"}],
		"telecom":[{"system":"email","value":"MARK-email"}],"address":[{"city":"MARK-prac-city"}]}`},
	{"Binary", `{"resourceType":"Binary","id":"b1","contentType":"text/plain","data":"TUFSSy1iaW5hcnk="}`},
	{"AuditEvent", `{"resourceType":"AuditEvent","id":"a1","entity":[{"query":"TUFSSy1xdWVyeQ=="},{"name":"kept"}]}`},
	{"RelatedPerson", `{"resourceType":"RelatedPerson","id":"r1","name":[{"family":"MARK-related"}]}`},
}

// Markers are gone from the stored form and back after decryption, byte
// for byte; what is not configured stays as it was.
func TestElementsRoundTrip(t *testing.T) {
	ctx := context.Background()
	r := newRing(t, newMemKeys())
	ensure(t, r, "t1", "t2", "default")
	els := crypt.DefaultElements()
	for _, tc := range markedResources {
		t.Run(tc.typ, func(t *testing.T) {
			body := stored(t, tc.body)
			id := mustString(t, body, "id")
			enc, err := r.EncryptElements(ctx, "t1", tc.typ, id, body, els)
			if err != nil {
				t.Fatal(err)
			}
			for _, marker := range []string{"MARK", "TUFSSy", "1974-12-25", "birthTime"} {
				if bytes.Contains(enc, []byte(marker)) {
					t.Errorf("stored form holds %q: %s", marker, enc)
				}
			}
			if !json.Valid(enc) {
				t.Fatalf("stored form is not JSON: %s", enc)
			}
			for _, kept := range []string{`"resourceType":"` + tc.typ + `"`, `"id":"` + id + `"`} {
				if !bytes.Contains(enc, []byte(kept)) {
					t.Errorf("stored form lost %s", kept)
				}
			}
			dec, err := r.DecryptElements(ctx, "t1", tc.typ, id, enc)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(dec, body) {
				t.Errorf("round trip differs:\n got %s\nwant %s", dec, body)
			}
			counts, err := crypt.ElementVersions(enc)
			if err != nil || counts[1] == 0 || len(counts) != 1 {
				t.Errorf("ElementVersions = %v, %v", counts, err)
			}
		})
	}
}

// Every official example survives encryption of the default elements and
// more, byte for byte.
func TestElementsExamples(t *testing.T) {
	ctx := context.Background()
	r := newRing(t, newMemKeys())
	ensure(t, r, "t1", "t2", "default")
	els := mustElements(t, append(crypt.DefaultElements().Paths("Patient"),
		"Practitioner.name", "Practitioner.qualification.code.coding", "Questionnaire.item", "Organization.address",
		"PractitionerRole.telecom", "Communication.payload.content[x]", "Practitioner.identifier.value")...)
	files, _ := filepath.Glob("../fhir/testdata/examples/*.json")
	if len(files) < 20 {
		t.Fatalf("found %d examples", len(files))
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		body := stored(t, string(raw))
		typ, id := mustString(t, body, "resourceType"), mustString(t, body, "id")
		enc, err := r.EncryptElements(ctx, "t1", typ, id, body, els)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		dec, err := r.DecryptElements(ctx, "t1", typ, id, enc)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if !bytes.Equal(dec, body) {
			t.Errorf("%s: round trip differs", filepath.Base(f))
		}
		if els.Encrypts(typ) && bytes.Equal(enc, body) && typ != "Communication" {
			t.Logf("%s: nothing encrypted", filepath.Base(f))
		}
	}
}

func TestChoiceAndNested(t *testing.T) {
	ctx := context.Background()
	r := newRing(t, newMemKeys())
	ensure(t, r, "t1", "t2", "default")
	els := mustElements(t, "Observation.value[x]", "Observation.component.value[x]")
	body := stored(t, `{"resourceType":"Observation","id":"o1","status":"final","code":{"text":"x"},
		"valueQuantity":{"value":120,"unit":"mmHg"},"_valueString":{"id":"MARK"},
		"component":[{"code":{"text":"a"},"valueString":"MARK-a"},{"code":{"text":"b"}},{"code":{"text":"c"},"valueInteger":7}]}`)
	enc, err := r.EncryptElements(ctx, "t1", "Observation", "o1", body, els)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(enc, []byte("MARK")) || bytes.Contains(enc, []byte("120")) || bytes.Contains(enc, []byte(":7")) {
		t.Errorf("stored form: %s", enc)
	}
	if !bytes.Contains(enc, []byte(`"code":{"text":"a"}`)) {
		t.Errorf("unconfigured sibling changed: %s", enc)
	}
	dec, err := r.DecryptElements(ctx, "t1", "Observation", "o1", enc)
	if err != nil || !bytes.Equal(dec, body) {
		t.Errorf("round trip: %v\n got %s\nwant %s", err, dec, body)
	}
}

// envelopes returns the envelope strings of a stored body in order.
func envelopes(body []byte) [][]byte {
	var out [][]byte
	rest := body
	for {
		i := bytes.Index(rest, []byte(`{"_enc":"`))
		if i < 0 {
			return out
		}
		rest = rest[i:]
		j := bytes.IndexByte(rest, '}')
		out = append(out, rest[:j+1])
		rest = rest[j+1:]
	}
}

// Envelopes swapped between resources, elements or array positions, or
// damaged, fail: an error, never wrong or empty data.
func TestElementsTamper(t *testing.T) {
	ctx := context.Background()
	r := newRing(t, newMemKeys())
	ensure(t, r, "t1", "t2", "default")
	els := crypt.DefaultElements()
	enc := func(typ, id, body string) []byte {
		out, err := r.EncryptElements(ctx, "t1", typ, id, stored(t, body), els)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	p1 := enc("Patient", "p1", `{"resourceType":"Patient","id":"p1","name":[{"family":"One"}],"birthDate":"2001-01-01"}`)
	p2 := enc("Patient", "p2", `{"resourceType":"Patient","id":"p2","name":[{"family":"Two"}],"birthDate":"2002-02-02"}`)
	doc := enc("DocumentReference", "d1", `{"resourceType":"DocumentReference","id":"d1","status":"current",
		"content":[{"attachment":{"data":"AAAA"}},{"attachment":{"data":"BBBB"}}]}`)
	e1, e2, ed := envelopes(p1), envelopes(p2), envelopes(doc)
	if len(e1) != 2 || len(e2) != 2 || len(ed) != 2 {
		t.Fatalf("envelopes: %d %d %d", len(e1), len(e2), len(ed))
	}
	fails := func(what, typ, id string, body []byte) {
		t.Helper()
		out, err := r.DecryptElements(ctx, "t1", typ, id, body)
		if err == nil {
			t.Errorf("%s: decrypted to %s", what, out)
		} else if out != nil {
			t.Errorf("%s: data came with the error", what)
		}
		if err != nil && (strings.Contains(err.Error(), "One") || strings.Contains(err.Error(), "2001")) {
			t.Errorf("%s: error reveals plaintext: %v", what, err)
		}
	}
	fails("name from another resource", "Patient", "p1", bytes.Replace(p1, e1[0], e2[0], 1))
	fails("name and birthDate swapped", "Patient", "p1",
		bytes.Replace(bytes.Replace(p1, e1[0], []byte("X"), 1), e1[1], e1[0], 1))
	fails("the body under another id", "Patient", "p2", p1)
	fails("the body under another type", "RelatedPerson", "p1", p1)
	swapped := bytes.Replace(bytes.Replace(doc, ed[0], []byte("#0#"), 1), ed[1], ed[0], 1)
	fails("attachments swapped within one resource", "DocumentReference", "d1", bytes.Replace(swapped, []byte("#0#"), ed[1], 1))
	env := e1[0]
	inner := env[len(`{"_enc":"`) : len(env)-2]
	for _, bad := range []string{
		string(inner[:len(inner)-1]),                              // truncated
		string(inner[:10]),                                        // badly truncated
		flip(inner[0]) + string(inner[1:]),                        // altered first character
		string(inner[:20]) + flip(inner[20]) + string(inner[21:]), // altered in the middle
		string(inner[:len(inner)-1]) + flip(inner[len(inner)-1]),  // altered last character
		string(inner) + "AA",                                      // extended
		"not base64!",                                             // malformed
		"",                                                        // empty
	} {
		fails("damaged envelope "+bad[:min(len(bad), 8)], "Patient", "p1",
			bytes.Replace(p1, env, []byte(`{"_enc":"`+bad+`"}`), 1))
	}
	if _, err := r.DecryptElements(ctx, "t2", "Patient", "p1", p1); err == nil {
		t.Error("decrypted in another tenant")
	}
	fails("envelope with a number", "Patient", "p1", bytes.Replace(p1, env, []byte(`{"_enc":1}`), 1))
	fails("envelope with company", "Patient", "p1", bytes.Replace(p1, env, append(env[:len(env)-1:len(env)-1], `,"x":1}`...), 1))
	if _, err := r.DecryptElements(ctx, "t1", "Patient", "p1", p1); err != nil {
		t.Errorf("the untouched body: %v", err)
	}
}

func TestReencryptElements(t *testing.T) {
	ctx := context.Background()
	r := newRing(t, newMemKeys())
	ensure(t, r, "t1", "t2", "default")
	body := stored(t, markedResources[0].body)
	v1, err := r.EncryptElements(ctx, "t1", "Patient", "p1", body, crypt.DefaultElements())
	if err != nil {
		t.Fatal(err)
	}
	if same, changed, err := r.ReencryptElements(ctx, "t1", "Patient", "p1", v1); err != nil || changed || !bytes.Equal(same, v1) {
		t.Fatalf("re-encrypt on the current version: changed=%v, %v", changed, err)
	}
	if _, err := r.Rotate(ctx, "t1"); err != nil {
		t.Fatal(err)
	}
	v2, changed, err := r.ReencryptElements(ctx, "t1", "Patient", "p1", v1)
	if err != nil || !changed {
		t.Fatalf("re-encrypt after rotation: changed=%v, %v", changed, err)
	}
	counts, _ := crypt.ElementVersions(v2)
	before, _ := crypt.ElementVersions(v1)
	if counts[2] != before[1] || counts[1] != 0 {
		t.Errorf("versions before %v, after %v", before, counts)
	}
	dec, err := r.DecryptElements(ctx, "t1", "Patient", "p1", v2)
	if err != nil || !bytes.Equal(dec, body) {
		t.Errorf("after re-encryption: %v", err)
	}
	// A damaged row fails re-encryption rather than being rewritten.
	bad := bytes.Replace(v1, envelopes(v1)[0], envelopes(v1)[1], 1)
	if _, _, err := r.ReencryptElements(ctx, "t1", "Patient", "p1", bad); err == nil {
		t.Error("re-encrypted a body with a moved envelope")
	}
}

func TestParseElements(t *testing.T) {
	e := mustElements(t, "Patient.name", " Patient.name.family ", "Patient.name", "", "Observation.value[x]",
		"DocumentReference.content.attachment.data")
	if got := strings.Join(e.Paths("Patient"), ","); got != "Patient.name" {
		t.Errorf("Patient paths %q: the covered and repeated ones should go", got)
	}
	for path, want := range map[string]bool{
		"Patient.name": true, "Patient.name.family": true, "Patient.gender": false, "Patient": false,
		"Observation.valueQuantity": true, "Observation.valueQuantity.value": true, "Observation.value[x]": true,
		"Observation.code": false, "DocumentReference.content.attachment.data": true,
		"DocumentReference.content.attachment.url": false, "Practitioner.name": false,
	} {
		if e.Covers(path) != want {
			t.Errorf("Covers(%s) = %v", path, !want)
		}
	}
	for path, want := range map[string]bool{"Patient.name": true, "Patient": false, "DocumentReference.content": true,
		"DocumentReference.content.attachment": true, "DocumentReference.content.attachment.url": false, "Observation.code": false} {
		if e.Touches(path) != want {
			t.Errorf("Touches(%s) = %v", path, !want)
		}
	}
	for _, bad := range []string{"name", "patient.name", "Patient.", "Patient.Name", "Patient.na-me", "Observation.value[x].unit", "Patient..name"} {
		if _, err := crypt.ParseElements([]string{bad}); err == nil {
			t.Errorf("ParseElements(%q) succeeded", bad)
		}
	}
	read, err := crypt.ReadElements(strings.NewReader("# PHI\nPatient.name, Patient.telecom\n\nBinary.data # raw\n"))
	if err != nil || strings.Join(read.Types(), ",") != "Binary,Patient" || len(read.Paths("Patient")) != 2 {
		t.Errorf("ReadElements: %v %v", read.Types(), err)
	}
	def := crypt.DefaultElements()
	for _, p := range []string{"Communication.payload", "Communication.note", "Patient.name", "Patient.telecom", "Patient.address",
		"Patient.birthDate", "Patient.identifier", "Practitioner.telecom", "Practitioner.address", "QuestionnaireResponse.item",
		"Binary.data", "DocumentReference.content.attachment.data", "AuditEvent.entity.query"} {
		if !def.Covers(p) {
			t.Errorf("the default set misses %s, which the issue lists", p)
		}
	}
}

func mustString(t testing.TB, body []byte, key string) string {
	t.Helper()
	obj, err := fhir.ParseObject(body)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := obj.String(key)
	return s
}

// flip returns another base64url character than c.
func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

var _ = errors.Is

// Decrypting reuses scratch space from one body to the next; no result
// may point into it. Every body is decrypted, its result kept, and after
// many more decryptions (in parallel too) each kept result must still be
// its plaintext — the resources with encrypted elements, and a body that
// is an envelope as a whole, whose result is the plaintext itself.
func TestDecryptElementsResultsOwnTheirBytes(t *testing.T) {
	ctx := context.Background()
	r := newRing(t, newMemKeys())
	ensure(t, r, "t1")
	type kept struct {
		typ, id    string
		enc, plain []byte
	}
	var all []kept
	for _, tc := range markedResources {
		body := stored(t, tc.body)
		id := mustString(t, body, "id")
		enc, err := r.EncryptElements(ctx, "t1", tc.typ, id, body, crypt.DefaultElements())
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, kept{tc.typ, id, enc, body})
	}
	// The whole body as one envelope, sealed to the path a body has.
	plain := []byte(`{"resourceType":"Patient","id":"w1","name":[{"family":"Whole"}]}`)
	ct, err := r.Encrypt(ctx, "t1", crypt.AAD("Patient", "w1", "Patient"), plain)
	if err != nil {
		t.Fatal(err)
	}
	whole := []byte(`{"_enc":"` + base64.RawURLEncoding.EncodeToString(ct) + `"}`)
	all = append(all, kept{"Patient", "w1", whole, plain})

	results := make([][]byte, len(all))
	for i, k := range all {
		out, err := r.DecryptElements(ctx, "t1", k.typ, k.id, k.enc)
		if err != nil {
			t.Fatalf("%s/%s: %v", k.typ, k.id, err)
		}
		if !bytes.Equal(out, k.plain) {
			t.Fatalf("%s/%s: got %s, want %s", k.typ, k.id, out, k.plain)
		}
		results[i] = out
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for n := range 50 {
				for i := range all {
					k := all[(i+n)%len(all)]
					if _, err := r.DecryptElements(ctx, "t1", k.typ, k.id, k.enc); err != nil {
						t.Error(err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	for i, k := range all {
		if !bytes.Equal(results[i], k.plain) {
			t.Errorf("%s/%s changed after later decryptions: %s", k.typ, k.id, results[i])
		}
	}
}
