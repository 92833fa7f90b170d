package crypt_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/hearth-fhir/hearth/crypt"
)

// FuzzDecrypt feeds arbitrary bytes to Decrypt: it must never panic, and
// must return an error for anything but an untouched ciphertext it made.
func FuzzDecrypt(f *testing.F) {
	ctx := context.Background()
	r := newRing(f, newMemKeys())
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
