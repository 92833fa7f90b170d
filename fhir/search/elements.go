package search

import (
	_ "embed"
	"encoding/json"
	"strings"

	"github.com/hearth-fhir/hearth/fhir"
)

//go:embed elements.txt
var elementsTxt string

// elementSets are a resource type's top-level elements that _summary=true
// keeps and those that are mandatory. Choice elements end in [x].
type elementSets struct {
	summary, mandatory []string
}

func parseElements(text string) map[string]elementSets {
	out := map[string]elementSets{}
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) != 3 || strings.HasPrefix(line, "#") {
			continue
		}
		split := func(s string) []string {
			if s == "-" {
				return nil
			}
			return strings.Split(s, ",")
		}
		out[f[0]] = elementSets{summary: split(f[1]), mandatory: split(f[2])}
	}
	return out
}

// subsetted is the tag a resource that is not complete carries.
var subsetted = json.RawMessage(`{"system":"http://terminology.hl7.org/CodeSystem/v3-ObservationValue","code":"SUBSETTED"}`)

// Subset applies _summary and _elements to a resource body. It returns
// body itself when neither asks for anything; otherwise the top-level
// elements that are not wanted are dropped, the rest keep their bytes, and
// meta gets the SUBSETTED tag.
func (r *Registry) Subset(typ string, body []byte, summary Summary, elements []string) ([]byte, error) {
	set := r.elements[typ]
	var keep func(name string) bool
	switch {
	case summary == SummaryTrue:
		keep = func(name string) bool { return matchElement(set.summary, name) }
	case summary == SummaryText:
		keep = func(name string) bool { return name == "text" || matchElement(set.mandatory, name) }
	case summary == SummaryData:
		keep = func(name string) bool { return name != "text" }
	case len(elements) > 0 && summary != SummaryFalse:
		keep = func(name string) bool { return matchElement(elements, name) || matchElement(set.mandatory, name) }
	default:
		return body, nil
	}
	obj, err := fhir.ParseObject(body)
	if err != nil {
		return nil, err
	}
	for _, k := range obj.Keys() {
		name := strings.TrimPrefix(k, "_") // a primitive's extensions go with it
		if k != "resourceType" && k != "id" && k != "meta" && !keep(name) {
			obj.Delete(k)
		}
	}
	if err := tagSubsetted(obj); err != nil {
		return nil, err
	}
	return obj.Bytes(), nil
}

// matchElement reports whether a JSON member name is one of the element
// names, where value[x] stands for valueQuantity, valueString …
func matchElement(names []string, member string) bool {
	for _, n := range names {
		if n == member {
			return true
		}
		if base, ok := strings.CutSuffix(n, "[x]"); ok && strings.HasPrefix(member, base) &&
			len(member) > len(base) && member[len(base)] >= 'A' && member[len(base)] <= 'Z' {
			return true
		}
	}
	return false
}

// tagSubsetted adds the SUBSETTED tag to meta, keeping meta's other
// members as they are.
func tagSubsetted(obj *fhir.Object) error {
	meta, err := fhir.ParseObject([]byte("{}"))
	if raw := obj.Get("meta"); raw != nil {
		meta, err = fhir.ParseObject(raw)
	}
	if err != nil {
		return fhir.Errorf(fhir.KindInternal, "stored meta is not an object")
	}
	var tags []json.RawMessage
	if raw := meta.Get("tag"); raw != nil {
		if err := json.Unmarshal(raw, &tags); err != nil {
			return fhir.Errorf(fhir.KindInternal, "stored meta.tag is not an array")
		}
	}
	tags = append(tags, subsetted)
	raw, _ := json.Marshal(tags)
	meta.Set("tag", raw)
	obj.Set("meta", meta.Bytes())
	return nil
}
