package fhirpath

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The official FHIRPath suite's inputs are mostly FHIR XML. xmlToJSON turns
// them into the FHIR JSON the evaluator reads, using the embedded type
// table for what XML leaves implicit: which elements repeat, and which
// primitives are booleans and numbers. The results are committed in
// testdata/suite and checked against a fresh conversion; -update rewrites
// them.

var update = flag.Bool("update", false, "rewrite the converted suite inputs in testdata/suite")

const xhtmlNS = "http://www.w3.org/1999/xhtml"

// xmlElem is an element of a FHIR XML document.
type xmlElem struct {
	name     string
	value    *string // the value attribute
	url      string  // Extension's url attribute
	id       string
	children []*xmlElem
	raw      string // for xhtml div: the element as written
}

func readXML(data []byte) (*xmlElem, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	var stack []*xmlElem
	var root *xmlElem
	for {
		off := d.InputOffset()
		tok, err := d.Token()
		if err == io.EOF {
			return root, nil
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			e := &xmlElem{name: t.Name.Local}
			if t.Name.Space == xhtmlNS {
				if err := d.Skip(); err != nil {
					return nil, err
				}
				e.raw = string(data[off:d.InputOffset()])
				stack[len(stack)-1].children = append(stack[len(stack)-1].children, e)
				continue
			}
			for _, a := range t.Attr {
				switch a.Name.Local {
				case "value":
					v := a.Value
					e.value = &v
				case "url":
					e.url = a.Value
				case "id":
					e.id = a.Value
				}
			}
			if len(stack) > 0 {
				stack[len(stack)-1].children = append(stack[len(stack)-1].children, e)
			} else {
				root = e
			}
			stack = append(stack, e)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		}
	}
}

// xmlToJSON converts a FHIR XML resource to FHIR JSON.
func xmlToJSON(m *model, data []byte) (map[string]any, error) {
	root, err := readXML(data)
	if err != nil {
		return nil, err
	}
	return resourceJSON(m, root)
}

func resourceJSON(m *model, e *xmlElem) (map[string]any, error) {
	t := m.resource(e.name)
	if t == nil {
		return nil, fmt.Errorf("unknown resource type %s", e.name)
	}
	obj, err := objectJSON(m, e, t)
	if err != nil {
		return nil, err
	}
	obj["resourceType"] = e.name
	return obj, nil
}

// findElement finds the definition of an XML child, choice elements
// included (valueQuantity is value[x] with type Quantity).
func findElement(t *typeInfo, name string) (*element, int) {
	if el := t.element(name); el != nil && !el.choice {
		return el, 0
	}
	for b := t; b != nil; b = b.base {
		for _, el := range b.elems {
			for i, key := range el.keys {
				if key == name {
					return el, i
				}
			}
		}
	}
	return nil, 0
}

func objectJSON(m *model, e *xmlElem, t *typeInfo) (map[string]any, error) {
	obj := map[string]any{}
	if e.id != "" {
		obj["id"] = e.id
	}
	if e.url != "" {
		obj["url"] = e.url
	}
	type member struct {
		many       bool
		vals, exts []any
	}
	members := map[string]*member{}
	var order []string
	for _, c := range e.children {
		el, i := findElement(t, c.name)
		if el == nil {
			return nil, fmt.Errorf("%s has no element %s", t.name, c.name)
		}
		ct, key := el.types[i], el.keys[i]
		var val, ext any
		switch {
		case c.raw != "":
			val = c.raw
		case ct.kind == kindResource:
			if len(c.children) != 1 {
				return nil, fmt.Errorf("%s.%s must hold one resource", t.name, c.name)
			}
			r, err := resourceJSON(m, c.children[0])
			if err != nil {
				return nil, err
			}
			val = r
		case ct.kind == kindPrimitive:
			if c.value != nil {
				val = primitiveJSON(ct, *c.value)
			}
			if c.id != "" || len(c.children) > 0 {
				x, err := objectJSON(m, &xmlElem{id: c.id, children: c.children}, m.types["Element"])
				if err != nil {
					return nil, err
				}
				ext = x
			}
		default:
			o, err := objectJSON(m, c, ct)
			if err != nil {
				return nil, err
			}
			val = o
		}
		mb := members[key]
		if mb == nil {
			mb = &member{many: el.many}
			members[key] = mb
			order = append(order, key)
		}
		mb.vals = append(mb.vals, val)
		mb.exts = append(mb.exts, ext)
	}
	for _, key := range order {
		mb := members[key]
		hasExt := false
		for _, x := range mb.exts {
			hasExt = hasExt || x != nil
		}
		switch {
		case mb.many:
			allNil := true
			for _, v := range mb.vals {
				allNil = allNil && v == nil
			}
			if !allNil {
				obj[key] = mb.vals
			}
			if hasExt {
				obj["_"+key] = mb.exts
			}
		default:
			if mb.vals[0] != nil {
				obj[key] = mb.vals[0]
			}
			if hasExt {
				obj["_"+key] = mb.exts[0]
			}
		}
	}
	return obj, nil
}

// primitiveJSON writes a primitive's value as JSON does: booleans and
// numbers unquoted.
func primitiveJSON(t *typeInfo, v string) any {
	switch t.sys {
	case sysBoolean:
		return v == "true"
	case sysInteger, sysDecimal:
		return json.Number(v)
	}
	return v
}

// TestSuiteInputs converts the suite's XML inputs and checks the committed
// JSON, which TestOfficialSuite reads, is what the conversion gives.
func TestSuiteInputs(t *testing.T) {
	files, err := filepath.Glob("testdata/suite/*.xml")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasPrefix(filepath.Base(f), "tests-") {
			continue
		}
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			obj, err := xmlToJSON(r4(), data)
			if err != nil {
				t.Fatal(err)
			}
			got, err := json.MarshalIndent(obj, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden := strings.TrimSuffix(f, ".xml") + ".json"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -run TestSuiteInputs -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from a fresh conversion; run go test -run TestSuiteInputs -update", golden)
			}
		})
	}
}
