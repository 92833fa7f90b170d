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
