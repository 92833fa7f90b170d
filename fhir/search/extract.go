package search

import (
	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/fhir/fhirpath"
)

// Index extracts the search index rows of a resource of type typ: every
// parameter's expression is evaluated on the resource and what it returns
// is indexed by the parameter's type. base is this server's FHIR base URL,
// so that absolute references to it index as local ones.
func (r *Registry) Index(typ string, body []byte, base string) (Index, error) {
	var ix Index
	doc, err := fhirpath.Decode(body)
	if err != nil {
		return ix, err
	}
	for _, p := range r.sorted[typ] {
		if p.expr == nil {
			continue
		}
		items, err := p.expr.Eval(doc)
		if err != nil {
			// Valid resources do not make R4 expressions fail; if one does,
			// the write fails rather than being stored half-indexed.
			return ix, &fhir.Error{Kind: fhir.KindInvalid, Op: "search.Index",
				Message: "search parameter " + p.Code + " cannot be evaluated on this resource", Cause: err}
		}
		for _, it := range items {
			ix.add(p, it, base)
		}
	}
	ix.dedupe()
	return ix, nil
}

// add indexes one item of parameter p by p's type.
func (ix *Index) add(p *Param, it fhirpath.Item, base string) {
	switch p.Type {
	case TypeString:
		ix.addStrings(p.Code, it.Type, it.Value)
	case TypeToken:
		ix.addTokens(p.Code, it.Type, it.Value)
	case TypeReference:
		ix.addReferences(p.Code, it.Type, base, it.Value)
	case TypeDate:
		ix.addDates(p.Code, it.Type, it.Value)
	case TypeNumber:
		ix.addNumbers(p.Code, it.Value)
	case TypeQuantity:
		ix.addQuantities(p.Code, it.Type, it.Value)
	case TypeURI:
		ix.addURIs(p.Code, it.Value)
	}
}
