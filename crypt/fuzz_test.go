package crypt_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/hearth-fhir/hearth/crypt"
)

// FuzzDecrypt feeds arbitrary bytes to Decrypt: it must never panic, and
// must return an error for anything but an untouched ciphertext it made.
func FuzzDecrypt(f *testing.F) {
	ctx := context.Background()
	r := newRing(f, newMemKeys())
	ensure(f, r, "t1", "t2", "default")
	aad := crypt.AAD("Patient", "p1", "Patient.name")
	valid := map[string]string{}
	for _, pt := range []string{"", "Peter", `[{"family":"Chalmers"}]`} {
		ct := encrypt(f, r, "t1", aad, pt)
		valid[string(ct)] = pt
		f.Add(ct)
	}
	if _, err := r.Rotate(ctx, "t1"); err != nil {
		f.Fatal(err)
	}
	ct := encrypt(f, r, "t1", aad, "v2")
	valid[string(ct)] = "v2"
	f.Add(ct)
	f.Add([]byte{})
	f.Add([]byte{0x01})
	f.Add([]byte{0x01, 0x80})
	f.Add(append([]byte{0x01, 0x01}, make([]byte, 28)...))
	f.Fuzz(func(t *testing.T, ct []byte) {
		pt, err := r.Decrypt(ctx, "t1", aad, ct)
		want, ok := valid[string(ct)]
		switch {
		case ok && (err != nil || !bytes.Equal(pt, []byte(want))):
			t.Fatalf("valid ciphertext: %q, %v; want %q", pt, err, want)
		case !ok && err == nil:
			t.Fatalf("forged ciphertext %x decrypted to %q", ct, pt)
		case !ok && pt != nil:
			t.Fatalf("error %v came with %d bytes", err, len(pt))
		}
		crypt.VersionOf(ct) // must not panic either
	})
}

// FuzzDecryptElements feeds arbitrary stored bodies to DecryptElements: no
// panic, and a body without envelopes comes back as it was.
func FuzzDecryptElements(f *testing.F) {
	ctx := context.Background()
	r := newRing(f, newMemKeys())
	ensure(f, r, "t1", "t2", "default")
	for _, tc := range markedResources {
		enc, err := r.EncryptElements(ctx, "t1", tc.typ, "p1", stored(f, tc.body), crypt.DefaultElements())
		if err != nil {
			f.Fatal(err)
		}
		f.Add(tc.typ, enc)
	}
	f.Add("Patient", []byte(`{"a":{"_enc":"AQ"},"b":[{"_enc":1},{"_enc":"x","y":2}]}`))
	f.Add("Patient", []byte(`{"_enc"`))
	f.Fuzz(func(t *testing.T, typ string, body []byte) {
		out, err := r.DecryptElements(ctx, "t1", typ, "p1", body)
		if err == nil && !bytes.Contains(body, []byte(`"_enc"`)) && !bytes.Equal(out, body) {
			t.Fatalf("a body without envelopes changed")
		}
		if err != nil && out != nil {
			t.Fatalf("error %v came with data", err)
		}
		crypt.ElementVersions(body)
	})
}

// FuzzElementsRoundTrip: any compact JSON object encrypts and decrypts back
// to itself, byte for byte.
func FuzzElementsRoundTrip(f *testing.F) {
	ctx := context.Background()
	r := newRing(f, newMemKeys())
	ensure(f, r, "t1", "t2", "default")
	els := mustElements(f, "Patient.name", "Patient.birthDate", "Patient.contact.name", "Patient.value[x]", "Patient.a.b.c")
	for _, tc := range markedResources {
		f.Add(stored(f, tc.body))
	}
	f.Add([]byte(`{"name":1,"_name":[],"contact":[{"name":"x"},3,[],{"_name":{}}],"valueX":null,"value":2,"a":{"b":[[{"c":1}]]}}`))
	f.Add([]byte(`{"resourceType":"Patient","name":"\"_enc\"","birthDate":{"_enc":"AQ"}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var compact bytes.Buffer
		if json.Compact(&compact, body) != nil || !bytes.Equal(compact.Bytes(), body) || len(body) == 0 || body[0] != '{' {
			return
		}
		enc, err := r.EncryptElements(ctx, "t1", "Patient", "p1", body, els)
		if err != nil {
			t.Fatalf("EncryptElements: %v", err)
		}
		if !json.Valid(enc) {
			t.Fatalf("stored form is not JSON: %s", enc)
		}
		dec, err := r.DecryptElements(ctx, "t1", "Patient", "p1", enc)
		if bytes.Contains(body, []byte(`"_enc"`)) {
			return // a body holding envelope look-alikes may well be refused
		}
		if err != nil || !bytes.Equal(dec, body) {
			t.Fatalf("round trip: %v\n got %s\nwant %s", err, dec, body)
		}
	})
}
