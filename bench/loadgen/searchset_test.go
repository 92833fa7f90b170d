package loadgen

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hearth-fhir/hearth/hearthtest"
)

// TestSearchSetReused: a second run against the same server uses the W3/W4
// set the first seeded instead of seeding it again, with the first run's
// practitioners for W4, and refuses a set of another size.
func TestSearchSetReused(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.OpenStore(t, "sqlite"))
	ctx := context.Background()
	c := NewClient(srv.FHIR(), StaticToken(srv.Token("default", "system/*.cruds")), 2, time.Minute)
	const n = 40
	opt := Options{SeedCount: n, SeedConcurrency: 2}

	first := NewSuite(c, opt)
	if err := first.seedSearch(ctx); err != nil {
		t.Fatal(err)
	}
	second := NewSuite(c, opt)
	if err := second.seedSearch(ctx); err != nil {
		t.Fatal(err)
	}
	for _, sel := range Selectivities() {
		got, ok, err := second.count(ctx, "Communication?status="+sel.Status)
		if err != nil || !ok {
			t.Fatalf("count %s: %d %v %v", sel.Status, got, ok, err)
		}
		want := 0
		for _, st := range SeedStatuses(n, second.rng(-2).IntN) {
			if st == sel.Status {
				want++
			}
		}
		if got != want {
			t.Errorf("%s: %d Communications after two runs, want the one set's %d", sel.Status, got, want)
		}
	}
	if len(second.searchPractitioners) == 0 {
		t.Fatal("second run found no practitioners for W4")
	}
	for _, p := range second.searchPractitioners {
		if !slices.Contains(first.searchPractitioners, p) {
			t.Errorf("W4 practitioner %s is not one of the %d the set was seeded with", p, len(first.searchPractitioners))
		}
	}

	other := NewSuite(c, Options{SeedCount: 2 * n, SeedConcurrency: 2})
	err := other.seedSearch(ctx)
	if err == nil || !strings.Contains(err.Error(), "not a seeded set of 80") {
		t.Errorf("a run with another --seed-count: %v, want a refusal", err)
	}
}
