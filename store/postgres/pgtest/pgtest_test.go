package pgtest

import "testing"

func TestWithSearchPath(t *testing.T) {
	for _, tc := range []struct{ base, want string }{
		{"postgres://u@h:5432/db?sslmode=disable", "postgres://u@h:5432/db?search_path=t_1&sslmode=disable"},
		{"postgresql://h/db", "postgresql://h/db?search_path=t_1"},
		{"host=h dbname=db", "host=h dbname=db search_path=t_1"},
	} {
		if got := withSearchPath(tc.base, "t_1"); got != tc.want {
			t.Errorf("withSearchPath(%q) = %q, want %q", tc.base, got, tc.want)
		}
	}
}

func TestRedact(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"postgres://u:secret@h/db", "postgres://u:xxxxx@h/db"},
		{"host=h password=secret dbname=db", "host=h password=xxxxx dbname=db"},
	} {
		if got := redact(tc.in); got != tc.want {
			t.Errorf("redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// URL must give a schema that exists and is empty; the contract suite
// covers using it.
func TestURL(t *testing.T) {
	u := URL(t)
	if u == "" {
		t.Fatal("empty URL")
	}
}
