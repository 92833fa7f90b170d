package loadgen

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
)

// maxBundleBytes skips files too large to be a sensible request.
const maxBundleBytes = 64 << 20

// txBundle is one transaction Bundle file ready to post.
type txBundle struct {
	name    string
	body    []byte
	entries int
}

// loadBundles reads the transaction Bundles of dir, as .json files or
// gzip-compressed .json.gz (the repository's testdata/synthea): hospital
// and practitioner bundles first (Synthea's own import order), then
// patients, by name. Other JSON files are skipped.
func loadBundles(dir string) ([]txBundle, error) {
	plain, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	zipped, err := filepath.Glob(filepath.Join(dir, "*.json.gz"))
	if err != nil {
		return nil, err
	}
	names := append(plain, zipped...)
	sort.SliceStable(names, func(i, j int) bool {
		return shared(names[i]) && !shared(names[j]) || shared(names[i]) == shared(names[j]) && names[i] < names[j]
	})
	var out []txBundle
	for _, n := range names {
		b, err := readBundleFile(n)
		if err != nil {
			return nil, err
		}
		if b == nil {
			continue
		}
		var head struct {
			ResourceType string            `json:"resourceType"`
			Type         string            `json:"type"`
			Entry        []json.RawMessage `json:"entry"`
		}
		if json.Unmarshal(b, &head) != nil || head.ResourceType != "Bundle" || head.Type != "transaction" {
			continue
		}
		out = append(out, txBundle{name: strings.TrimSuffix(filepath.Base(n), ".gz"), body: b, entries: len(head.Entry)})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no transaction Bundles in %s", dir)
	}
	return out, nil
}

// BundleEntry is one resource of a transaction Bundle: its fullUrl (the
// name other entries refer to it by), type and JSON as written.
type BundleEntry struct {
	FullURL  string
	Type     string
	Resource json.RawMessage
}

// SyntheaBundles reads the transaction Bundles of dir as W5 posts them,
// in the same order, each as its entries' resources. The raw import
// ceiling writes the rows these resources make.
func SyntheaBundles(dir string) ([][]BundleEntry, error) {
	bundles, err := loadBundles(dir)
	if err != nil {
		return nil, err
	}
	out := make([][]BundleEntry, len(bundles))
	for i, b := range bundles {
		var doc struct {
			Entry []struct {
				FullURL  string          `json:"fullUrl"`
				Resource json.RawMessage `json:"resource"`
			} `json:"entry"`
		}
		if err := json.Unmarshal(b.body, &doc); err != nil {
			return nil, fmt.Errorf("%s: %w", b.name, err)
		}
		for _, e := range doc.Entry {
			var head struct {
				ResourceType string `json:"resourceType"`
			}
			if err := json.Unmarshal(e.Resource, &head); err != nil || head.ResourceType == "" {
				return nil, fmt.Errorf("%s: an entry without a resource type", b.name)
			}
			out[i] = append(out[i], BundleEntry{FullURL: e.FullURL, Type: head.ResourceType, Resource: e.Resource})
		}
	}
	return out, nil
}

// readBundleFile reads one Bundle file, decompressing a .gz; nil when it
// is larger than maxBundleBytes.
func readBundleFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(name, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		r = zr
	}
	b, err := io.ReadAll(io.LimitReader(r, maxBundleBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(b) > maxBundleBytes {
		return nil, nil
	}
	return b, nil
}

// shared tells Synthea's hospital and practitioner bundles apart.
func shared(path string) bool {
	b := filepath.Base(path)
	return strings.HasPrefix(b, "hospitalInformation") || strings.HasPrefix(b, "practitionerInformation")
}

// synthea is W5: post the Synthea transaction Bundles, each a patient's
// whole record, and count resources per second. Workers take the bundles
// in turn and start over when all have been posted (every entry is a plain
// POST, so a second pass creates copies).
func (s *Suite) synthea() Workload {
	var (
		bundles []txBundle
		next    atomic.Uint64
	)
	return Workload{
		Name: "W5", Title: "import Synthea transaction Bundles", Unit: "res/s", Ceiling: "raw-import",
		Setup: func(ctx context.Context) error {
			var err error
			if bundles, err = loadBundles(s.opt.SyntheaDir); err != nil {
				return err
			}
			return s.transactionSupport(ctx)
		},
		NewWorker: func(ctx context.Context, i, n int) (Op, error) {
			return func(ctx context.Context) (int, error) {
				b := bundles[(next.Add(1)-1)%uint64(len(bundles))]
				if _, err := s.c.Transaction(ctx, b.body); err != nil {
					return 0, fmt.Errorf("%s: %w", b.name, err)
				}
				return b.entries, nil
			}, nil
		},
	}
}
