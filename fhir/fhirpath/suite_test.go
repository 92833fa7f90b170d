package fhirpath

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
)

// The official FHIRPath test suite for R4 (testdata/suite, see SOURCE.md).

type suiteFile struct {
	Groups []suiteGroup `xml:"group"`
}

type suiteGroup struct {
	Name  string      `xml:"name,attr"`
	Tests []suiteTest `xml:"test"`
}

type suiteTest struct {
	Name      string `xml:"name,attr"`
	InputFile string `xml:"inputfile,attr"`
	Predicate string `xml:"predicate,attr"`
	Mode      string `xml:"mode,attr"`
	Ordered   string `xml:"ordered,attr"`
	Expr      struct {
		Text    string `xml:",chardata"`
		Invalid string `xml:"invalid,attr"`
	} `xml:"expression"`
	Outputs []struct {
		Type string `xml:"type,attr"`
		Text string `xml:",chardata"`
	} `xml:"output"`
}

// minSuiteScore is the share of the suite that must pass.
const minSuiteScore = 0.90

// TestOfficialSuite runs every case of the official suite and fails when
// fewer than 90% pass. Cases marked invalid pass only when Parse or Eval
// returns an error. -v lists the failures.
func TestOfficialSuite(t *testing.T) {
	data, err := os.ReadFile("testdata/suite/tests-fhir-r4.xml")
	if err != nil {
		t.Fatal(err)
	}
	var suite suiteFile
	if err := xml.Unmarshal(data, &suite); err != nil {
		t.Fatal(err)
	}
	inputs := map[string]any{}
	passed, total := 0, 0
	failedByGroup := map[string][]string{}
	for _, g := range suite.Groups {
		for _, tc := range g.Tests {
			total++
			var input any
			if tc.InputFile != "" {
				if input, err = suiteInput(inputs, tc.InputFile); err != nil {
					t.Fatal(err)
				}
			}
			if why := runSuiteCase(tc, input); why != "" {
				if len(why) > 300 {
					why = why[:300] + "…"
				}
				failedByGroup[g.Name] = append(failedByGroup[g.Name], fmt.Sprintf("%s: %s\n\t\t%s", tc.Name, strings.TrimSpace(tc.Expr.Text), why))
				continue
			}
			passed++
		}
	}
	groups := make([]string, 0, len(failedByGroup))
	for g := range failedByGroup {
		groups = append(groups, g)
	}
	sort.Strings(groups)
	for _, g := range groups {
		t.Logf("group %s: %d failed", g, len(failedByGroup[g]))
		if testing.Verbose() {
			for _, f := range failedByGroup[g] {
				t.Logf("\t%s", f)
			}
		}
	}
	score := float64(passed) / float64(total)
	t.Logf("official FHIRPath R4 suite: %d/%d passed (%.1f%%)", passed, total, 100*score)
	if score < minSuiteScore {
		t.Errorf("suite score %.1f%% is below %.0f%%", 100*score, 100*minSuiteScore)
	}
}

func suiteInput(cache map[string]any, name string) (any, error) {
	if v, ok := cache[name]; ok {
		return v, nil
	}
	file := "testdata/suite/" + strings.TrimSuffix(strings.TrimSuffix(name, ".xml"), ".json") + ".json"
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	v, err := Decode(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	cache[name] = v
	return v, nil
}

// runSuiteCase returns why a case fails, or "" when it passes.
func runSuiteCase(tc suiteTest, input any) (why string) {
	defer func() {
		if r := recover(); r != nil {
			why = fmt.Sprintf("panic: %v", r)
		}
	}()
	invalid := tc.Expr.Invalid != ""
	expr, err := Parse(tc.Expr.Text)
	if err != nil {
		if invalid {
			return ""
		}
		return "parse: " + err.Error()
	}
	got, err := expr.Eval(input)
	if err != nil {
		if invalid {
			return ""
		}
		return "eval: " + err.Error()
	}
	if invalid {
		return fmt.Sprintf("want an error, got %s", formatItems(got))
	}
	if tc.Predicate == "true" {
		got = []Item{{Type: "System.Boolean", Value: len(got) > 0}}
	}
	if len(got) != len(tc.Outputs) {
		return fmt.Sprintf("got %s, want %d items", formatItems(got), len(tc.Outputs))
	}
	want := make([]string, len(tc.Outputs))
	for i, o := range tc.Outputs {
		want[i] = strings.TrimSpace(o.Text)
	}
	gotS := make([]string, len(got))
	for i, it := range got {
		gotS[i] = formatItem(it)
	}
	if tc.Ordered == "false" {
		sort.Strings(want)
		sort.Strings(gotS)
	}
	for i := range want {
		if !sameOutput(gotS[i], want[i], tc.Outputs[i].Type) {
			return fmt.Sprintf("got %s, want %q", formatItems(got), want)
		}
	}
	return ""
}

// sameOutput compares an item as formatted with an expected output;
// decimals of type decimal compare by value.
func sameOutput(got, want, typ string) bool {
	if got == want {
		return true
	}
	if typ == "decimal" {
		a, ok1 := parseDecimal(got)
		b, ok2 := parseDecimal(want)
		return ok1 && ok2 && a.cmp(b) == 0
	}
	return false
}

// formatItem writes an item the way the suite writes outputs: @ before
// dates and times, quantities as 4 'mg'.
func formatItem(it Item) string {
	switch it.Type {
	case "System.Date", "System.DateTime", "date", "dateTime", "instant":
		return "@" + fmt.Sprint(it.Value)
	case "System.Time", "time":
		return "@T" + fmt.Sprint(it.Value)
	case "System.Quantity", "Quantity":
		m, _ := it.Value.(map[string]any)
		unit := fmt.Sprint(m["unit"])
		if _, ok := calendarWord(unit); ok {
			return fmt.Sprintf("%v %s", m["value"], unit)
		}
		if code, ok := m["code"].(string); ok {
			unit = code
		}
		return fmt.Sprintf("%v '%s'", m["value"], unit)
	}
	switch v := it.Value.(type) {
	case string:
		return v
	case map[string]any, []any:
		b, _ := json.Marshal(v)
		return string(b)
	}
	return fmt.Sprint(it.Value)
}

func formatItems(items []Item) string {
	s := make([]string, len(items))
	for i, it := range items {
		s[i] = it.Type + ":" + formatItem(it)
	}
	return "[" + strings.Join(s, ", ") + "]"
}
