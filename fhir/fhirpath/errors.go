package fhirpath

import (
	"fmt"

	"github.com/hearth-fhir/hearth/fhir"
)

// syntaxError reports an expression that does not parse, or names a
// function or type that does not exist.
func syntaxError(pos int, format string, args ...any) error {
	return &fhir.Error{
		Kind:    fhir.KindInvalid,
		Op:      "fhirpath.Parse",
		Message: fmt.Sprintf("FHIRPath expression invalid at offset %d: ", pos) + fmt.Sprintf(format, args...),
	}
}

// evalError reports an expression that is well formed but cannot be
// evaluated on the data, e.g. single() on three items.
func evalError(format string, args ...any) error {
	return &fhir.Error{
		Kind:    fhir.KindInvalid,
		Op:      "fhirpath.Eval",
		Message: "FHIRPath evaluation failed: " + fmt.Sprintf(format, args...),
	}
}
