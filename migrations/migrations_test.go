package migrations

import (
	"strings"
	"testing"
)

func TestList(t *testing.T) {
	for _, tc := range []struct {
		dialect string
		first   string
	}{
		{Postgres, "0001_init.sql"},
		{SQLite, "0001_init.sql"},
	} {
		t.Run(tc.dialect, func(t *testing.T) {
			ms, err := List(tc.dialect)
			if err != nil {
				t.Fatal(err)
			}
			if len(ms) == 0 || ms[0].Name != tc.first || ms[0].Version != 1 {
				t.Fatalf("first migration = %+v, want %s", ms, tc.first)
			}
			// Versions ascend; numbers are reserved per branch (0005 is the
			// SMART issue's), so a gap may exist until every branch lands.
			for i, m := range ms {
				if i > 0 && m.Version <= ms[i-1].Version {
					t.Errorf("%s: version %d does not follow %d", m.Name, m.Version, ms[i-1].Version)
				}
				if strings.TrimSpace(m.SQL) == "" {
					t.Errorf("%s: empty", m.Name)
				}
			}
		})
	}
}

// The two dialects must describe the same schema steps.
func TestDialectsInStep(t *testing.T) {
	pg, err := List(Postgres)
	if err != nil {
		t.Fatal(err)
	}
	lite, err := List(SQLite)
	if err != nil {
		t.Fatal(err)
	}
	if len(pg) != len(lite) {
		t.Fatalf("postgres has %d migrations, sqlite %d", len(pg), len(lite))
	}
	for i := range pg {
		if pg[i].Name != lite[i].Name {
			t.Errorf("migration %d: postgres %s, sqlite %s", i, pg[i].Name, lite[i].Name)
		}
	}
}

func TestListUnknownDialect(t *testing.T) {
	if _, err := List("oracle"); err == nil {
		t.Fatal("List(oracle) succeeded")
	}
}
