// Package fhirpath evaluates FHIRPath expressions
// (http://hl7.org/fhirpath/N1/) over FHIR R4 JSON.
//
// Resources are evaluated as decoded JSON (map[string]any with numbers kept
// as json.Number, see Decode) rather than as generated structs, so that the
// search index, invariants and bots can run any expression on stored bytes.
// An embedded table of the R4 types (model_r4.txt, generated from the
// specification's StructureDefinitions) gives elements their FHIR types:
// choice elements resolve (`Observation.value` finds valueQuantity), `is`,
// `as` and ofType() know that a code is a string and an Age a Quantity, and
// results carry their type names for the caller.
//
// Parse an expression once; evaluate it many times, from many goroutines:
//
//	expr := fhirpath.MustParse("Observation.subject.where(resolve() is Patient)")
//	items, err := expr.Eval(resource)
//
// Where this package chooses between readings of the specification:
//
//   - resolve() loads nothing by default: it returns a resource known only
//     by the type its reference names ("Patient/1", ".../Patient/1/_history/2",
//     Reference.type), or the contained resource for "#id", or the entry of
//     the evaluated Bundle with that fullUrl. That is all search parameters
//     need (`where(resolve() is Patient)`); WithResolver loads more.
//   - `as` filters a collection like ofType() instead of failing on more
//     than one item, because R4 search parameters apply it to collections
//     (`Observation.component.value as Quantity`).
//   - `as` and ofType() match a FHIR primitive's own type only (a code is
//     not returned by as(string), though `is string` is true), as the
//     official test suite expects; complex types match their subtypes.
//   - A name that no FHIR type has as an element (`name.given1`), or a
//     choice element written with its type (`Observation.valueQuantity`),
//     is an evaluation error on typed data; a name that only other types
//     have gives empty, so shared expressions (`Patient.name |
//     Practitioner.name`) and Bundle contents work.
//   - Decimals are exact (math/big); a quotient keeps eight decimal places.
//     Quantities compare across units for the UCUM units clinical data uses.
//
// Errors are *fhir.Error of kind fhir.KindInvalid, from Parse for
// expressions that are malformed or name unknown functions or types, from
// Eval for expressions the data cannot satisfy (single() on two items).
package fhirpath
