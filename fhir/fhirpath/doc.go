// Package fhirpath evaluates FHIRPath expressions
// (http://hl7.org/fhirpath/N1/) over FHIR R4 JSON.
//
// Resources are evaluated as decoded JSON (map[string]any with numbers kept
// as json.Number, see Decode) rather than as generated structs, so that the
// search index, invariants and bots can run any expression on stored bytes.
// An embedded table of the R4 types gives elements their FHIR types: choice
// elements resolve (`Observation.value` finds valueQuantity), `is`, `as` and
// ofType() know that a code is a string and an Age a Quantity, and results
// carry their type names for the caller.
//
// Parse an expression once; evaluate it many times, from many goroutines:
//
//	expr := fhirpath.MustParse("Observation.subject.where(resolve() is Patient)")
//	items, err := expr.Eval(resource)
//
// resolve() works without loading anything for the common use in search
// parameters: it types a reference by the resource type it names. A
// Resolver option lets callers that can load resources do so.
package fhirpath
