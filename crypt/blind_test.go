package crypt_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hearth-fhir/hearth/crypt"
)

func TestBlindIndex(t *testing.T) {
	ctx := context.Background()
	r := newRing(t, newMemKeys())
	ensure(t, r, "t1", "t2", "default")
	tok := func(tenant, param, value string) string {
		t.Helper()
		s, err := r.BlindIndex(ctx, tenant, param, value)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	a := tok("t1", "Patient.identifier", "urn:mrn|12345")
	if a != tok("t1", "Patient.identifier", "urn:mrn|12345") {
		t.Error("tokens of one value differ")
	}
	if strings.Contains(a, "12345") || len(a) != 22 {
		t.Errorf("token %q: want 22 opaque characters", a)
	}
	for name, other := range map[string]string{
		"other tenant": tok("t2", "Patient.identifier", "urn:mrn|12345"),
		"other param":  tok("t1", "Patient.telecom", "urn:mrn|12345"),
		"other value":  tok("t1", "Patient.identifier", "urn:mrn|12346"),
		"shifted":      tok("t1", "Patient.identifier|urn:mrn", "|12345"),
	} {
		if other == a {
			t.Errorf("%s gives the same token", name)
		}
	}
	// Another process over the same keys computes the same tokens.
	ks := newMemKeys()
	r1, r2 := newRing(t, ks), newRing(t, ks)
	ensure(t, r1, "t1")
	x, _ := r1.BlindIndex(ctx, "t1", "p", "v")
	y, _ := r2.BlindIndex(ctx, "t1", "p", "v")
	if x != y || x == "" {
		t.Error("two rings over one store disagree")
	}
}

func TestPrefixTokens(t *testing.T) {
	ctx := context.Background()
	r := newRing(t, newMemKeys(), crypt.WithMaxPrefix(8))
	ensure(t, r, "t1", "t2", "default")
	for _, value := range []string{"chalmers", "ch", "c", "", "müller-lüdenscheidt", "日本語", "\xff\xfebad"} {
		toks, err := r.PrefixTokens(ctx, "t1", "Patient.name", value)
		if err != nil {
			t.Fatal(err)
		}
		want := min(utf8.RuneCountInString(value), 8)
		if len(toks) != want {
			t.Errorf("%q: %d tokens, want %d", value, len(toks), want)
		}
		seen := map[string]bool{}
		for i, tok := range toks {
			prefix := string([]rune(value)[:i+1])
			if !utf8.ValidString(value) {
				prefix = value[:i+1] // invalid bytes count one each
			}
			q, err := r.PrefixToken(ctx, "t1", "Patient.name", prefix)
			if err != nil || q != tok {
				t.Errorf("%q: query token for %q = %q, %v; want the indexed %q", value, prefix, q, err, tok)
			}
			if seen[tok] {
				t.Errorf("%q: token repeated", value)
			}
			seen[tok] = true
		}
	}
	// Exact and prefix tokens of one string never coincide.
	eq, _ := r.BlindIndex(ctx, "t1", "Patient.name", "chalmers")
	pre, _ := r.PrefixToken(ctx, "t1", "Patient.name", "chalmers")
	if eq == pre {
		t.Error("exact and prefix token coincide")
	}
	if _, err := r.PrefixToken(ctx, "t1", "Patient.name", "chalmersx"); !errors.Is(err, crypt.ErrPrefixTooLong) {
		t.Errorf("9-character prefix with MaxPrefix 8: %v", err)
	}
	if _, err := r.PrefixToken(ctx, "t1", "Patient.name", ""); err == nil {
		t.Error("empty prefix has a token")
	}
	if r.MaxPrefix() != 8 {
		t.Errorf("MaxPrefix = %d", r.MaxPrefix())
	}
}
