package hearthtest

import (
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"testing"
)

// SyntheaBundle is one Synthea transaction Bundle from testdata/synthea.
type SyntheaBundle struct {
	Name string
	JSON []byte
}

// SyntheaBundles returns the Synthea sample transaction Bundles shipped in
// the repository's testdata (gzip-compressed there), sorted by name.
func SyntheaBundles(t testing.TB) []SyntheaBundle {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "testdata", "synthea")
	paths, err := filepath.Glob(filepath.Join(dir, "*.json.gz"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no Synthea bundles in %s", dir)
	}
	sort.Strings(paths)
	out := make([]SyntheaBundle, 0, len(paths))
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		b, err := io.ReadAll(zr)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		out = append(out, SyntheaBundle{Name: filepath.Base(p), JSON: b})
	}
	return out
}
