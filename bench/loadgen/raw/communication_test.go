package raw

import (
	"slices"
	"testing"
	"time"

	"github.com/hearth-fhir/hearth/bench/loadgen"
	"github.com/hearth-fhir/hearth/fhir/search"
)

// The rows a raw write stores beside a Communication are those Hearth's
// extractor makes of its body, apart from the values drawn at random
// (identifier, reference targets): the same parameters and, for the dates
// each message has of its own, the same values.
func TestCommunicationRowsMatchExtractor(t *testing.T) {
	reg, err := search.NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	ix, err := reg.Index("Communication", loadgen.SampleCommunication("template", loadgen.BackgroundStatus, time.Unix(1700000000, 0)), "")
	if err != nil {
		t.Fatal(err)
	}
	r := &Runner{template: ix, patients: []string{"p"}, practitioners: []string{"q"}}
	row := r.communication("c1", 1, "completed")
	want, err := reg.Index("Communication", row.body, "")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(row.index.Dates, want.Dates) || len(want.Dates) != 2 {
		t.Errorf("date rows %v, the extractor's %v", row.index.Dates, want.Dates)
	}
	if !slices.Equal(row.index.Strings, want.Strings) {
		t.Errorf("string rows %v, the extractor's %v", row.index.Strings, want.Strings)
	}
	params := func(ix search.Index) (out []string) {
		for _, t := range ix.Tokens {
			out = append(out, "token "+t.Param)
		}
		for _, r := range ix.References {
			out = append(out, "reference "+r.Param+" "+r.TargetType)
		}
		return out
	}
	if got, want := params(row.index), params(want); !slices.Equal(got, want) || len(want) != 8 {
		t.Errorf("token and reference rows %v, the extractor's %v", got, want)
	}
	for _, tok := range row.index.Tokens {
		if tok.Param == "status" && tok.Code != "completed" {
			t.Errorf("status row %v, want completed", tok)
		}
	}
	if tmpl := r.template.Dates; tmpl[0].Low == row.index.Dates[0].Low {
		t.Errorf("the row kept the template's date %v", tmpl[0])
	}
}
