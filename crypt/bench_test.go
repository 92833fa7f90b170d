package crypt_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/hearth-fhir/hearth/crypt"
)

// BenchmarkEncryptDecrypt500 is one encrypt and one decrypt of 500 bytes,
// the size DESIGN.md measured (~1.7 M/s per core with a bare AEAD).
func BenchmarkEncryptDecrypt500(b *testing.B) {
	ctx := context.Background()
	r := newRing(b, newMemKeys())
	ensure(b, r, "t1", "t2", "default")
	aad := crypt.AAD("Communication", "0193a7c2-5b1e-7c3a-9f00-1234567890ab", "Communication.payload")
	pt := bytes.Repeat([]byte("x"), 500)
	b.SetBytes(int64(len(pt)))
	b.ReportAllocs()
	for b.Loop() {
		ct, err := r.Encrypt(ctx, "default", aad, pt)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := r.Decrypt(ctx, "default", aad, ct); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncryptDecrypt500Parallel(b *testing.B) {
	ctx := context.Background()
	r := newRing(b, newMemKeys())
	ensure(b, r, "t1", "t2", "default")
	aad := crypt.AAD("Communication", "c1", "Communication.payload")
	pt := bytes.Repeat([]byte("x"), 500)
	encrypt(b, r, "default", aad, "warm")
	b.SetBytes(int64(len(pt)))
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			ct, err := r.Encrypt(ctx, "default", aad, pt)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := r.Decrypt(ctx, "default", aad, ct); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkBlindIndex(b *testing.B) {
	ctx := context.Background()
	r := newRing(b, newMemKeys())
	ensure(b, r, "t1", "t2", "default")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.BlindIndex(ctx, "default", "Patient.identifier", "urn:oid:1.2.36.146.595.217.0.1|12345"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPrefixTokens(b *testing.B) {
	ctx := context.Background()
	r := newRing(b, newMemKeys())
	ensure(b, r, "t1", "t2", "default")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.PrefixTokens(ctx, "default", "Patient.name", "chalmers"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkElements encrypts and decrypts the elements of a Communication
// whose payload and note (about 700 bytes) are encrypted.
func BenchmarkElements(b *testing.B) {
	ctx := context.Background()
	r := newRing(b, newMemKeys())
	ensure(b, r, "default")
	body := stored(b, `{"resourceType":"Communication","id":"0193a7c2-5b1e-7c3a-9f00-1234567890ab","status":"completed",
"subject":{"reference":"Patient/example","display":"Peter James Chalmers"},"sent":"2024-03-14T10:32:00+01:00",
"payload":[{"contentString":"`+string(bytes.Repeat([]byte("Hello both, the HbA1c came back. "), 18))+`"},
{"contentString":"Attached: lab summary and the updated medication list are available in the chart."}],
"note":[{"text":"Patient consented to contact by phone; interpreter not needed."}]}`)
	els := crypt.DefaultElements()
	enc, err := r.EncryptElements(ctx, "default", "Communication", "c1", body, els)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("encrypt", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := r.EncryptElements(ctx, "default", "Communication", "c1", body, els); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decrypt", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := r.DecryptElements(ctx, "default", "Communication", "c1", enc); err != nil {
				b.Fatal(err)
			}
		}
	})
}
