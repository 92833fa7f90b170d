package policy

import (
	"encoding/json"
	"fmt"
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"
)

// CompartmentParam is a search parameter that puts a resource in a
// patient's compartment, with the element paths it covers (each a list of
// element names from the resource's top level, e.g. participant, actor).
type CompartmentParam struct {
	Param string     `json:"param"`
	Paths [][]string `json:"paths"`
}

var (
	compartmentOnce  sync.Once
	compartmentTable map[string][]CompartmentParam
	compartmentErr   error
)

// PatientCompartment returns, per resource type in the R4 Patient
// compartment, the parameters that put a resource in a patient's
// compartment. It is the default bundle's table (rego/compartment.rego,
// generated from the CompartmentDefinition), so the engine's checks and
// the policy's rules read one definition.
func PatientCompartment() (map[string][]CompartmentParam, error) {
	compartmentOnce.Do(func() {
		compartmentTable, compartmentErr = loadCompartment()
	})
	return compartmentTable, compartmentErr
}

func loadCompartment() (map[string][]CompartmentParam, error) {
	src, err := defaultBundle.ReadFile("rego/compartment.rego")
	if err != nil {
		return nil, err
	}
	m, err := ast.ParseModuleWithOpts("compartment.rego", string(src), ast.ParserOptions{RegoVersion: ast.RegoV1})
	if err != nil {
		return nil, err
	}
	for _, r := range m.Rules {
		if r.Head.Name.String() != "patient_compartment" || r.Head.Value == nil {
			continue
		}
		v, err := ast.JSON(r.Head.Value.Value)
		if err != nil {
			return nil, err
		}
		raw, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		var out map[string][]CompartmentParam
		if err := json.Unmarshal(raw, &out); err != nil {
			return nil, err
		}
		return out, nil
	}
	return nil, fmt.Errorf("policy: rego/compartment.rego has no patient_compartment")
}
