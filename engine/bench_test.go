package engine_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/hearth-fhir/hearth/audit"
	"github.com/hearth-fhir/hearth/engine"
	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/policy"
	"github.com/hearth-fhir/hearth/store/sqlite"
)

// BenchmarkRead reads one Communication from concurrent goroutines with
// the audit log off and on (durable group commit), under the default
// policy, as a system client and as a practitioner. Compare ns/op of the
// off and on runs for the cost of auditing.
func BenchmarkRead(b *testing.B) {
	for _, auditOn := range []bool{false, true} {
		name := "audit-off"
		if auditOn {
			name = "audit-on"
		}
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "hearth.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			if err := st.Migrate(ctx); err != nil {
				b.Fatal(err)
			}
			v, _ := fhir.NewValidator()
			pol, err := policy.New(ctx)
			if err != nil {
				b.Fatal(err)
			}
			opts := []engine.Option{engine.WithPolicy(pol)}
			if auditOn {
				opts = append(opts, engine.WithAudit(audit.NewLog(audit.ServerRef{Name: "hearth"})))
			}
			w := world{eng: engine.New(st, v, engine.DefaultConfig(), opts...), st: st}
			defer w.eng.Close()
			w.load(b)
			for _, who := range []struct {
				name string
				p    engine.Principal
			}{{"client", w.client(b)}, {"practitioner", w.user(b, "Practitioner/p1", "practitioner")}} {
				b.Run(who.name, func(b *testing.B) {
					b.ReportAllocs()
					b.SetParallelism(8)
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							if _, err := w.eng.Read(ctx, who.p, "Communication", "m1"); err != nil {
								b.Error(err)
								return
							}
						}
					})
				})
			}
		})
	}
}
