package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"

	"github.com/hearth-fhir/hearth/auth/scope"
	"github.com/hearth-fhir/hearth/engine"
	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/store"
)

// ndjsonChunk is how many NDJSON lines go into one transaction.
const ndjsonChunk = 500

// importFlags are the import command's settings.
type importFlags struct {
	storage    storageFlags
	encryption encryptionFlags
	tenant     string
}

// importer loads files through the engine, counting what happened.
type importer struct {
	eng      *engine.Engine
	p        engine.Principal
	progress *progress
	created  map[string]int // by resource type
	updated  int
	failures []string
}

// runImport handles "hearth import PATH…": transaction and batch Bundles
// (.json) and NDJSON files (.ndjson, one resource per line, as bulk export
// writes them), through the same engine as the HTTP API.
func runImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	var f importFlags
	f.storage.register(fs)
	f.encryption.register(fs)
	fs.StringVar(&f.tenant, "tenant", defaultTenant, "tenant to import into")
	if err := fs.Parse(args); err != nil {
		return err
	}
	paths := fs.Args()
	if len(paths) == 0 {
		return fmt.Errorf("usage: hearth import [--tenant T] [--data-dir DIR | --database-url URL] FILE…")
	}
	total, err := countEntries(paths)
	if err != nil {
		return err
	}
	st, kr, err := openEncrypted(ctx, f.storage, f.encryption)
	if err != nil {
		return err
	}
	defer st.Close()
	log := slog.New(slog.NewTextHandler(stderr, nil))
	kr.warn(log)
	eng, err := kr.engine(ctx, st, log)
	if err != nil {
		return err
	}
	all, _ := scope.Parse("system/*.cruds")
	im := &importer{
		eng:      eng,
		p:        engine.Principal{Tenant: f.tenant, Subject: "hearth-import", ClientID: "hearth-import", Scopes: all},
		progress: newProgress(stderr, total),
		created:  map[string]int{},
	}
	for _, path := range paths {
		if err := im.file(ctx, path); err != nil {
			im.failures = append(im.failures, fmt.Sprintf("%s: %v", path, err))
		}
	}
	im.progress.done()
	// Search plans need statistics of the tables just filled; autovacuum
	// would get there, but searches right after an import must not wait.
	if a, ok := st.(store.Analyzer); ok {
		if err := a.Analyze(ctx); err != nil {
			im.failures = append(im.failures, fmt.Sprintf("analyze: %v", err))
		}
	}
	im.summary(stdout)
	if len(im.failures) > 0 {
		return fmt.Errorf("%d failures", len(im.failures))
	}
	return nil
}

// file imports one Bundle or NDJSON file.
func (im *importer) file(ctx context.Context, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if strings.HasSuffix(path, ".ndjson") {
		return im.ndjson(ctx, path, b)
	}
	var bundle struct {
		ResourceType string          `json:"resourceType"`
		Type         string          `json:"type"`
		Entry        []bundleEntryIn `json:"entry"`
	}
	if err := json.Unmarshal(b, &bundle); err != nil || bundle.ResourceType != "Bundle" {
		return fmt.Errorf("not a Bundle (NDJSON files must end in .ndjson)")
	}
	entries := make([]engine.BundleEntry, len(bundle.Entry))
	for i, e := range bundle.Entry {
		entries[i] = e.engineEntry()
	}
	switch bundle.Type {
	case "transaction":
		res, err := im.eng.Transaction(ctx, im.p, entries)
		if err != nil {
			im.progress.add(len(entries))
			return err
		}
		im.count(res, func(int) string { return path })
	case "batch":
		res, err := im.eng.Batch(ctx, im.p, entries)
		if err != nil {
			return err
		}
		im.count(res, func(i int) string { return fmt.Sprintf("%s entry %d", path, i) })
	default:
		return fmt.Errorf("Bundle.type %q: only transaction and batch Bundles can be imported", bundle.Type)
	}
	return nil
}

// ndjson imports resources line by line, in transactions of ndjsonChunk
// lines. A resource with an id keeps it (update-as-create), so a bulk export
// imports as it was. A chunk that fails is retried entry by entry, so one bad
// line costs only itself.
func (im *importer) ndjson(ctx context.Context, path string, b []byte) error {
	var chunk []engine.BundleEntry
	var lines []int
	flush := func() {
		if len(chunk) == 0 {
			return
		}
		res, err := im.eng.Transaction(ctx, im.p, chunk)
		if err != nil {
			res, _ = im.eng.Batch(ctx, im.p, chunk)
		}
		im.count(res, func(i int) string { return fmt.Sprintf("%s line %d", path, lines[i]) })
		chunk, lines = chunk[:0], lines[:0]
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		chunk = append(chunk, ndjsonEntry(append([]byte(nil), line...)))
		lines = append(lines, n)
		if len(chunk) == ndjsonChunk {
			flush()
		}
	}
	flush()
	return sc.Err()
}

// ndjsonEntry turns one resource into a create (no id) or a PUT to its id.
func ndjsonEntry(line []byte) engine.BundleEntry {
	var head struct {
		ResourceType string `json:"resourceType"`
		ID           string `json:"id"`
	}
	_ = json.Unmarshal(line, &head)
	if head.ID == "" {
		return engine.BundleEntry{Method: "POST", URL: head.ResourceType, Resource: line}
	}
	return engine.BundleEntry{Method: "PUT", URL: head.ResourceType + "/" + head.ID, Resource: line}
}

// count records entry results; where names the i-th entry in failures.
func (im *importer) count(res []engine.EntryResult, where func(i int) string) {
	for i, r := range res {
		switch {
		case r.Err != nil:
			im.failures = append(im.failures, fmt.Sprintf("%s: %s", where(i), fhir.OutcomeFor(r.Err).Issue[0].Diagnostics))
		case r.Created:
			im.created[r.Record.Type]++
		case !r.NoOp:
			im.updated++
		}
	}
	im.progress.add(len(res))
}

func (im *importer) summary(w io.Writer) {
	types := make([]string, 0, len(im.created))
	sum := 0
	for t, n := range im.created {
		types = append(types, t)
		sum += n
	}
	sort.Strings(types)
	fmt.Fprintf(w, "created %d resources, updated %d, %d failures\n", sum, im.updated, len(im.failures))
	for _, t := range types {
		fmt.Fprintf(w, "  %-28s %d\n", t, im.created[t])
	}
	for i, f := range im.failures {
		if i == 20 {
			fmt.Fprintf(w, "  … and %d more failures\n", len(im.failures)-20)
			break
		}
		fmt.Fprintf(w, "  FAILED %s\n", f)
	}
}

// bundleEntryIn is a Bundle entry as a file holds it.
type bundleEntryIn struct {
	FullURL  string          `json:"fullUrl"`
	Resource json.RawMessage `json:"resource"`
	Request  struct {
		Method      string `json:"method"`
		URL         string `json:"url"`
		IfNoneExist string `json:"ifNoneExist"`
		IfMatch     string `json:"ifMatch"`
	} `json:"request"`
}

func (e bundleEntryIn) engineEntry() engine.BundleEntry {
	return engine.BundleEntry{FullURL: e.FullURL, Method: e.Request.Method, URL: e.Request.URL,
		Resource: e.Resource, IfNoneExist: e.Request.IfNoneExist, IfMatch: e.Request.IfMatch}
}

// countEntries totals the entries of every file, for the progress bar.
func countEntries(paths []string) (int, error) {
	total := 0
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return 0, err
		}
		if strings.HasSuffix(p, ".ndjson") {
			for _, line := range bytes.Split(b, []byte("\n")) {
				if len(bytes.TrimSpace(line)) > 0 {
					total++
				}
			}
			continue
		}
		var bundle struct {
			Entry []json.RawMessage `json:"entry"`
		}
		_ = json.Unmarshal(b, &bundle)
		total += len(bundle.Entry)
	}
	return total, nil
}
