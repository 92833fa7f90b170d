package audit_test

import (
	"encoding/json"
	"errors"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/hearth-fhir/hearth/audit"
	"github.com/hearth-fhir/hearth/fhir/search"
	"github.com/hearth-fhir/hearth/store"
)

// valuesByDecoding is the implementation ValuesOf replaced, which decoded
// the body with encoding/json: the oracle its scanner must agree with on
// every input, JSON or not.
func valuesByDecoding(body []byte, base string) []store.AuditValue {
	var ae decodedEvent
	// A sealed envelope where a string or an array belongs is a type
	// error: encoding/json skips that element and fills the others.
	var typeErr *json.UnmarshalTypeError
	if err := json.Unmarshal(body, &ae); err != nil && !errors.As(err, &typeErr) {
		return nil
	}
	var ix decodedValues
	ix.add(audit.ParamOutcome, "", ae.Outcome)
	ix.add(audit.ParamType, ae.Type.System, ae.Type.Code)
	for _, c := range ae.Subtype {
		ix.add(audit.ParamSubtype, c.System, c.Code)
	}
	ix.add(audit.ParamSource, audit.SourceType, ae.Source.Observer.Display)
	for _, a := range ae.Agent {
		ix.reference(audit.ParamAgent, a.Who.Reference, base)
		ix.add(audit.ParamAgentIdentifier, a.Who.Identifier.System, a.Who.Identifier.Value)
	}
	for _, e := range ae.Entity {
		ix.reference(audit.ParamEntity, e.What.Reference, base)
	}
	return ix.rows
}

type decodedEvent struct {
	Outcome string          `json:"outcome"`
	Type    decodedCoding   `json:"type"`
	Subtype []decodedCoding `json:"subtype"`
	Source  struct {
		Observer struct {
			Display string `json:"display"`
		} `json:"observer"`
	} `json:"source"`
	Agent []struct {
		Who struct {
			Reference  string `json:"reference"`
			Identifier struct {
				System string `json:"system"`
				Value  string `json:"value"`
			} `json:"identifier"`
		} `json:"who"`
	} `json:"agent"`
	Entity []struct {
		What struct {
			Reference string `json:"reference"`
		} `json:"what"`
	} `json:"entity"`
}

type decodedCoding struct {
	System string `json:"system"`
	Code   string `json:"code"`
}

type decodedValues struct{ rows []store.AuditValue }

func (ix *decodedValues) add(param, system, value string) {
	if value == "" {
		return
	}
	v := store.AuditValue{Param: param, System: system, Value: value}
	for _, r := range ix.rows {
		if r == v {
			return
		}
	}
	ix.rows = append(ix.rows, v)
}

func (ix *decodedValues) reference(param, ref, base string) {
	if ref == "" {
		return
	}
	typ, id, url := search.SplitReference(ref, base)
	if url != "" {
		ix.add(param, "", url)
		return
	}
	ix.add(param, typ, id)
}

// valuesSeeds are bodies that take the scanner through what encoding/json
// does to a struct: the events the server records, sealed elements,
// escapes, repeated and case-folded names, nulls, wrong types, arrays read
// over arrays, and text that is not JSON.
func valuesSeeds(t testing.TB) []string {
	t.Helper()
	l := audit.NewLog(audit.ServerRef{Name: serverName, BaseURL: testBase})
	var seeds []string
	for _, name := range slices.Sorted(maps.Keys(indexEvents)) {
		rec, err := l.Record(indexEvents[name])
		if err != nil {
			t.Fatal(err)
		}
		body := string(rec.Body)
		seeds = append(seeds, body, body[:len(body)/2], body[:len(body)-1], body+"}", " \n"+body+"\t")
	}
	return append(seeds,
		// Sealed elements: the others are still read.
		`{"outcome":{"_enc":"AAAA"},"type":{"system":"s","code":"rest"},"subtype":{"_enc":"AAAA"},"agent":{"_enc":"AAAA"},"entity":[{"what":{"_enc":"AAAA"}},{"what":{"reference":"Patient/p"}}],"source":{"observer":{"display":{"_enc":"AAAA"}}}}`,
		`{"type":{"_enc":"AAAA"},"agent":[{"who":{"reference":{"_enc":"AAAA"},"identifier":{"system":"s","value":{"_enc":"AAAA"}}}}],"source":{"_enc":"AAAA"},"outcome":"4"}`,
		// Escapes, surrogates, bytes that are not UTF-8.
		`{"outcome":"\u0030","type":{"system":"http:\/\/x","code":"a\"b\\c\n\t\b\f\r"},"source":{"observer":{"display":"\ud83d\ude00 \ud83d x \ude00 \u00e9\u20ac"}}}`,
		"{\"outcome\":\"\xff\xfe\",\"source\":{\"observer\":{\"display\":\"a\xed\xa0\x80b\xc3\"}},\"agent\":[{\"who\":{\"reference\":\"Patient/\xe2\x82\xac\"}}]}",
		`{"\u006futcome":"1","t\u0079pe":{"\u0073ystem":"s","code":"c"},"\ud800":"x"}`,
		// Repeated names: the last string wins; objects and arrays are read
		// over what the first left.
		`{"outcome":"0","outcome":"4","outcome":null,"outcome":5,"type":{"system":"s1","code":"c1"},"type":{"code":"c2"},"type":[1]}`,
		`{"agent":[{"who":{"reference":"Patient/a"}},{"who":{"reference":"Patient/b","identifier":{"value":"v"}}}],"agent":[{"who":{"identifier":{"system":"s"}}}],"agent":[5,{},{"who":null}]}`,
		`{"entity":[{"what":{"reference":"Patient/a"}},{"what":{"reference":"Patient/b"}},{"what":{"reference":"Patient/c"}}],"entity":[],"entity":[{},{}]}`,
		`{"entity":[{"what":{"reference":"Patient/a"}},{"what":{"reference":"Patient/b"}}],"entity":null,"entity":[{},{}],"subtype":[{"code":"a"},{"code":"b"}],"subtype":"x","subtype":[{"system":"s"}]}`,
		`{"agent":[{},{},{},{},{"who":{"reference":"Patient/e"}}],"agent":[{}],"agent":[{},{},{},{},{},{}]}`,
		// Names matched without regard to case.
		`{"Outcome":"0","OUTCOME":"4","TYPE":{"SYSTEM":"s","Code":"c"},"ſubtype":[{"ſystem":"s","code":"K"}],"Source":{"OBSERVER":{"Display":"h"}},"AGENT":[{"WHO":{"Reference":"Patient/p","IDENTIFIER":{"System":"s","VALUE":"v"}}}],"Entity":[{"WHAT":{"REFERENCE":"Patient/q"}}],"İdentifier":1}`,
		`{"agent":[{"who":{"İdentifier":{"value":"v"},"reference":"Patient/x"}}],"outcome\u0000":"9","outcomeoutcomeoutcome":"8"}`,
		// Nulls and wrong types everywhere.
		`{"outcome":null,"type":null,"subtype":null,"source":null,"agent":null,"entity":null}`,
		`{"outcome":true,"type":"x","subtype":[null,1,"a",[],{"code":2}],"source":{"observer":[]},"agent":[{"who":1}],"entity":[{"what":[{"reference":"Patient/x"}]}]}`,
		`null`, `[]`, `"x"`, `0`, `{}`, ``, ` `, `{"outcome":"0"} x`, "{\"outcome\":\"0\"}\x00", `{"outcome":"0"}{}`,
		// Text encoding/json refuses.
		`{"outcome":"0","x":01}`, `{"outcome":"0","x":1.}`, `{"outcome":"0","x":-}`, `{"outcome":"0","x":1e}`,
		`{"outcome":"0","x":"\x"}`, `{"outcome":"0","x":"\u12"}`, "{\"outcome\":\"0\",\"x\":\"\t\"}",
		`{"outcome":"0",}`, `{"outcome":"0","x":[1,]}`, `{"outcome":"0","x":tru}`, `{"outcome" "0"}`, `{'outcome':'0'}`,
		"\ufeff{\"outcome\":\"0\"}", `{"outcome":"0","x":1.5e+3,"y":-0.0E-1,"z":[true,false,null]}`,
	)
}

// encoding/json refuses text nested deeper than 10000 levels, so ValuesOf
// does too. (Not a fuzz seed: mutating 20 KB of brackets slows the fuzzer
// down for nothing.)
func TestValuesOfDepth(t *testing.T) {
	for _, depth := range []int{9999, 10000, 10001} {
		t.Run(strconv.Itoa(depth), func(t *testing.T) {
			// The top-level object, pairs of levels, and one or two more.
			pairs := (depth - 2) / 2
			var body strings.Builder
			body.WriteString(`{"outcome":"0","x":`)
			body.WriteString(strings.Repeat(`[{"a":`, pairs))
			body.WriteString(strings.Repeat(`[`, depth-1-2*pairs))
			body.WriteString(strings.Repeat(`]`, depth-1-2*pairs))
			body.WriteString(strings.Repeat(`}]`, pairs))
			body.WriteString(`}`)
			got := audit.ValuesOf([]byte(body.String()), testBase)
			want := valuesByDecoding([]byte(body.String()), testBase)
			if !reflect.DeepEqual(got, want) || (len(want) == 0) != (depth > 10000) {
				t.Errorf("ValuesOf = %q, decoding gives %q", got, want)
			}
		})
	}
}

func FuzzValuesOf(f *testing.F) {
	for _, seed := range valuesSeeds(f) {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got := audit.ValuesOf(body, testBase)
		want := valuesByDecoding(body, testBase)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("ValuesOf(%q)\n = %q\ndecoding gives %q", body, got, want)
		}
	})
}
