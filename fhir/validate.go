package fhir

import (
	"reflect"
	"strconv"
	"strings"

	"github.com/google/fhir/go/fhirversion"
	"github.com/google/fhir/go/jsonformat"
)

// Validator checks resource JSON against the R4 structure definitions with
// google/fhir's strict unmarshaller (unknown elements, types, codes, required
// elements, reference target types). It is safe for concurrent use.
type Validator struct {
	um *jsonformat.Unmarshaller
}

// NewValidator returns a validator for FHIR R4.
func NewValidator() (*Validator, error) {
	um, err := jsonformat.NewUnmarshaller("UTC", fhirversion.R4)
	if err != nil {
		return nil, err
	}
	// Deeply nested input is an attack, not a resource.
	um.MaxNestingDepth = 64
	fastSchemaR4()
	return &Validator{um: um}, nil
}

// Validate returns nil when body is a valid R4 resource, else an *Error of
// KindInvalid whose issues name each offending element. Bodies the fast
// path (validate_fast.go) settles never reach google/fhir.
func (v *Validator) Validate(body []byte) error {
	if fastValid(body) {
		return nil
	}
	return v.slowValidate(body)
}

// slowValidate is google/fhir's verdict alone.
func (v *Validator) slowValidate(body []byte) error {
	_, err := v.um.Unmarshal(body)
	if err == nil {
		return nil
	}
	issues := validationIssues(err)
	fe := &Error{Kind: KindInvalid, Op: "fhir.Validate", Message: issues[0].Diagnostics, Issues: issues}
	if len(issues[0].Expression) > 0 {
		fe.Expression = issues[0].Expression[0]
	}
	return fe
}

// validationIssues turns google/fhir's unmarshal errors into issues. Its error
// types are internal, so their exported fields are read by reflection; this
// is the only place outside encoding that does so.
func validationIssues(err error) []Issue {
	var list []reflect.Value
	rv := reflect.ValueOf(err)
	switch {
	case rv.Kind() == reflect.Slice:
		for i := 0; i < rv.Len(); i++ {
			list = append(list, rv.Index(i))
		}
	default:
		list = append(list, rv)
	}
	var issues []Issue
	for _, e := range list {
		path, details, diag := unmarshalErrorFields(e)
		if details == "" {
			details = err.Error()
		}
		issue := Issue{Severity: "error", Code: "structure", Diagnostics: details}
		if details == "invalid JSON" {
			issue.Diagnostics = "body is not valid JSON"
		} else if strings.Contains(details, "invalid reference") {
			// google/fhir refuses references whose target type the element does
			// not allow; say so, since the example data of some specs trips on it.
			issue.Diagnostics = details + " (R4 restricts the target types of this reference)"
		}
		if details == "unknown field" {
			if name, err := strconv.Unquote(diag); err == nil && name != "" {
				path = joinPath(path, name)
				issue.Diagnostics = "unknown element " + strconv.Quote(name)
			}
		}
		if path != "" {
			issue.Expression = []string{path}
			issue.Diagnostics = path + ": " + issue.Diagnostics
		}
		issues = append(issues, issue)
	}
	if len(issues) == 0 {
		issues = append(issues, Issue{Severity: "error", Code: "structure", Diagnostics: "invalid resource"})
	}
	return issues
}

func unmarshalErrorFields(v reflect.Value) (path, details, diag string) {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return "", "", ""
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return "", "", ""
	}
	get := func(name string) string {
		f := v.FieldByName(name)
		if f.IsValid() && f.Kind() == reflect.String {
			return f.String()
		}
		return ""
	}
	return get("Path"), get("Details"), get("Diagnostics")
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// errInvalid is a shortcut for the common invalid-input error.
func errInvalid(expr, format string, args ...any) *Error {
	e := Errorf(KindInvalid, format, args...)
	e.Expression = expr
	return e
}
