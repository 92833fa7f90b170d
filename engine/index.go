package engine

import (
	"encoding/json"

	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/store"
)

// identifierTokens indexes the top-level identifier element, which
// conditional create and conditional references rely on. The search issue
// replaces this with extraction driven by the R4 SearchParameter registry.
func identifierTokens(obj *fhir.Object) []store.Token {
	raw := obj.Get("identifier")
	if raw == nil {
		return nil
	}
	type identifier struct {
		System string `json:"system"`
		Value  string `json:"value"`
	}
	var list []identifier
	if err := json.Unmarshal(raw, &list); err != nil {
		var one identifier
		if json.Unmarshal(raw, &one) != nil {
			return nil
		}
		list = []identifier{one}
	}
	var tokens []store.Token
	for _, id := range list {
		if id.Value != "" {
			tokens = append(tokens, store.Token{Param: "identifier", System: id.System, Code: id.Value})
		}
	}
	return tokens
}
