package raw

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/hearth-fhir/hearth/bench/loadgen"
	"github.com/hearth-fhir/hearth/fhir/search"
)

// importSet is raw-import's data: the rows of every Bundle W5 posts.
type importSet struct {
	bundles   []importBundle
	resources int
	indexRows int
}

func (s *importSet) note() string {
	return fmt.Sprintf("raw-import: %d bundles, %d resources, %d search index rows (%.1f per resource) besides the resource, history and audit rows",
		len(s.bundles), s.resources, s.indexRows, float64(s.indexRows)/float64(max(s.resources, 1)))
}

// importWorkload is W5's ceiling: one Synthea Bundle's rows (resource,
// history, search index and audit rows of every entry), computed in setup,
// inserted in one transaction. Its rate counts resources, as W5's does.
func (r *Runner) importWorkload() loadgen.Workload {
	var next atomic.Uint64
	return loadgen.Workload{
		Name: "raw-import", Title: "insert a Synthea Bundle's resource+history+index+audit rows, one transaction", Unit: "res/s",
		Setup: r.prepareImport,
		NewWorker: func(ctx context.Context, i, n int) (loadgen.Op, error) {
			return func(ctx context.Context) (int, error) {
				b := &r.imports.bundles[(next.Add(1)-1)%uint64(len(r.imports.bundles))]
				// Every pass creates new resources, as W5's second pass does.
				ids := make([]string, b.resources)
				for k := range ids {
					ids[k] = newID()
				}
				if err := r.b.insertBundle(ctx, b, ids, time.Now().UnixMicro()); err != nil {
					return 0, err
				}
				return b.resources, nil
			}, nil
		},
	}
}

// prepareImport reads the Bundles and computes their rows, once: the
// parsing and index extraction are Hearth's work, not the database's.
func (r *Runner) prepareImport(ctx context.Context) error {
	if r.imports != nil {
		return nil
	}
	entries, err := loadgen.SyntheaBundles(r.opt.SyntheaDir)
	if err != nil {
		return err
	}
	reg, err := search.NewRegistry()
	if err != nil {
		return err
	}
	set := &importSet{}
	for _, es := range entries {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		b, err := buildImport(reg, es)
		if err != nil {
			return err
		}
		set.bundles = append(set.bundles, b)
		set.resources += b.resources
		set.indexRows += b.indexRows()
	}
	r.imports = set
	if r.opt.Progress != nil {
		fmt.Fprintf(r.opt.Progress, "  %s\n", set.note())
	}
	return nil
}
