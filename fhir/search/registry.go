package search

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/fhir/fhirpath"
)

// Type is a search parameter type.
type Type string

// The R4 search parameter types.
const (
	TypeString    Type = "string"
	TypeToken     Type = "token"
	TypeReference Type = "reference"
	TypeDate      Type = "date"
	TypeNumber    Type = "number"
	TypeQuantity  Type = "quantity"
	TypeURI       Type = "uri"
	TypeComposite Type = "composite"
	TypeSpecial   Type = "special"
)

// Param is one search parameter as it applies to one resource type.
type Param struct {
	Code string // the name used in queries, e.g. "birthdate"
	Type Type
	URL  string // canonical URL of the SearchParameter
	// Resource is the type this parameter is bound to here: several
	// resource types share one SearchParameter, each with its own Param.
	Resource string
	// Expression is the part of the R4 FHIRPath expression that applies to
	// Resource (the branches of a union that start with another type are
	// dropped). Empty for parameters the specification leaves without one.
	Expression string
	Targets    []string // resource types a reference parameter may point to
	Components []Component
	// Resolved by Registry: the index rows of a column such as _id come from
	// the resource row, not from an expression.
	expr *fhirpath.Expr
}

// Component is one part of a composite parameter.
type Component struct {
	Definition string // URL of the component's SearchParameter
	Expression string // relative to the composite's expression
}

// Special parameters that are columns of the resource row rather than index
// rows: they apply to every type and are never extracted.
const (
	ParamID          = "_id"
	ParamLastUpdated = "_lastUpdated"
)

//go:embed search-parameters.json
var parametersJSON []byte

// Registry holds every search parameter by resource type and code. It is
// built once at start and never changed, so it is safe for concurrent use.
type Registry struct {
	byType   map[string]map[string]*Param
	sorted   map[string][]*Param
	elements map[string]elementSets
}

// rawParam is the shape of one line of search-parameters.json.
type rawParam struct {
	URL        string      `json:"url"`
	Code       string      `json:"code"`
	Base       []string    `json:"base"`
	Type       Type        `json:"type"`
	Expression string      `json:"expression"`
	Target     []string    `json:"target"`
	Component  []Component `json:"component"`
}

// NewRegistry loads the embedded R4 search parameters and compiles every
// expression, so that a bad one fails the server at start, not a write.
func NewRegistry() (*Registry, error) {
	var raws []rawParam
	if err := json.Unmarshal(parametersJSON, &raws); err != nil {
		return nil, fmt.Errorf("search: embedded parameters: %w", err)
	}
	r := &Registry{byType: map[string]map[string]*Param{}, sorted: map[string][]*Param{},
		elements: parseElements(elementsTxt)}
	c := newCompiler()
	for _, t := range fhir.ResourceTypes() {
		r.byType[t] = map[string]*Param{}
	}
	for _, raw := range raws {
		for _, base := range raw.Base {
			types := []string{base}
			if base == "Resource" || base == "DomainResource" {
				types = fhir.ResourceTypes()
			}
			for _, t := range types {
				if r.byType[t] == nil {
					continue
				}
				p := &Param{Code: raw.Code, Type: raw.Type, URL: raw.URL, Resource: t,
					Expression: branchesFor(raw.Expression, t), Targets: raw.Target, Components: raw.Component}
				if err := c.compile(p); err != nil {
					return nil, fmt.Errorf("search: parameter %s on %s: %w", raw.Code, t, err)
				}
				r.byType[t][raw.Code] = p
			}
		}
	}
	for t, m := range r.byType {
		list := make([]*Param, 0, len(m))
		for _, p := range m {
			list = append(list, p)
		}
		sort.Slice(list, func(i, j int) bool { return list[i].Code < list[j].Code })
		r.sorted[t] = list
	}
	return r, nil
}

// Lookup returns the parameter code of resource type typ, or nil.
func (r *Registry) Lookup(typ, code string) *Param {
	return r.byType[typ][code]
}

// Params returns the parameters of a resource type, sorted by code.
func (r *Registry) Params(typ string) []*Param {
	return r.sorted[typ]
}

// Supported reports whether a query can use p: composite and special
// parameters, and those without an expression (_text, _content, _query),
// are refused rather than ignored, since ignoring them would match too much.
func (p *Param) Supported() bool {
	switch p.Code {
	case ParamID, ParamLastUpdated:
		return true
	}
	switch p.Type {
	case TypeComposite, TypeSpecial:
		return false
	}
	return p.Expression != ""
}

// branchesFor keeps the branches of a union expression that apply to
// resource type typ: `Patient.name | Practitioner.name` becomes
// `Patient.name` for Patient. Branches that do not start with a type name
// are kept as they are.
func branchesFor(expr, typ string) string {
	var keep []string
	for _, b := range splitUnion(expr) {
		head := headName(b)
		if head == typ || head == "Resource" || head == "DomainResource" || !fhir.IsResourceType(head) {
			keep = append(keep, b)
		}
	}
	return strings.Join(keep, " | ")
}

// splitUnion splits an expression at its top-level `|` operators, outside
// parentheses, brackets and quotes.
func splitUnion(expr string) []string {
	var out []string
	depth, start := 0, 0
	var quote byte
	for i := 0; i < len(expr); i++ {
		c := expr[i]
		switch {
		case quote != 0:
			if c == '\\' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '\'' || c == '`':
			quote = c
		case c == '(' || c == '[':
			depth++
		case c == ')' || c == ']':
			depth--
		case c == '|' && depth == 0:
			out = append(out, strings.TrimSpace(expr[start:i]))
			start = i + 1
		}
	}
	if s := strings.TrimSpace(expr[start:]); s != "" {
		out = append(out, s)
	}
	return out
}

// headName is the first identifier of an expression, past any opening
// parentheses: "Observation" for "(Observation.value as Quantity)".
func headName(expr string) string {
	expr = strings.TrimLeft(expr, "( ")
	end := 0
	for end < len(expr) && (isLetter(expr[end]) || (end > 0 && expr[end] >= '0' && expr[end] <= '9')) {
		end++
	}
	return expr[:end]
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' }

// Modifiers lists the modifiers Hearth implements for p, as a client
// would write them (a reference also takes :[type]).
func (p *Param) Modifiers() []string {
	if p.Code == ParamID {
		return []string{"not"}
	}
	if p.Code == ParamLastUpdated {
		return []string{"missing"}
	}
	switch p.Type {
	case TypeString:
		return []string{"missing", "exact", "contains"}
	case TypeToken:
		return []string{"missing", "not", "text"}
	case TypeReference:
		return []string{"missing", "[type]", "identifier"}
	case TypeURI:
		return []string{"missing", "above", "below"}
	}
	return []string{"missing"}
}
