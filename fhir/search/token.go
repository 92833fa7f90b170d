package search

import (
	"encoding/json"

	"github.com/hearth-fhir/hearth/fhir"
)

// TokenValue is a token search value: `code` (any system), `system|code`,
// `|code` (no system) or `system|` (any code of the system).
type TokenValue struct {
	System    string
	HasSystem bool // a `|` was given: System must equal (empty: no system)
	Code      string
	AnyCode   bool // `system|`
}

func (TokenValue) isValue() {}

// parseToken reads a token search value.
func parseToken(raw string) (Value, error) {
	sys, code, ok := cutEscaped(raw, '|')
	if !ok {
		if raw == "" {
			return nil, fhir.Errorf(fhir.KindInvalid, "a token search value needs a code")
		}
		return TokenValue{Code: unescape(raw)}, nil
	}
	v := TokenValue{System: unescape(sys), HasSystem: true, Code: unescape(code)}
	if v.Code == "" {
		if v.System == "" {
			return nil, fhir.Errorf(fhir.KindInvalid, "a token search value needs a system or a code")
		}
		v.AnyCode = true
	}
	return v, nil
}

// addTokens indexes a coded element: each Coding of a CodeableConcept, an
// Identifier's system and value, a ContactPoint's value (with its kind,
// phone or email, as the system), and primitives (code, boolean, string …)
// as codes without a system. Texts and displays go to the :text rows.
func (ix *Index) addTokens(param, typ string, v any) {
	switch x := v.(type) {
	case string:
		ix.addToken(param, "", x)
	case bool:
		if x {
			ix.addToken(param, "", "true")
		} else {
			ix.addToken(param, "", "false")
		}
	case json.Number:
		ix.addToken(param, "", string(x))
	case map[string]any:
		switch typ {
		case "CodeableConcept":
			for _, c := range list(x["coding"]) {
				if m, ok := c.(map[string]any); ok {
					ix.addCoding(param, m)
				}
			}
			ix.addText(param, str(x["text"]))
		case "Coding":
			ix.addCoding(param, x)
		case "Identifier":
			ix.addToken(param, str(x["system"]), str(x["value"]))
			if t, ok := x["type"].(map[string]any); ok {
				ix.addText(param, str(t["text"]))
			}
		case "ContactPoint":
			ix.addToken(param, str(x["system"]), str(x["value"]))
		}
	}
}

func (ix *Index) addCoding(param string, c map[string]any) {
	ix.addToken(param, str(c["system"]), str(c["code"]))
	ix.addText(param, str(c["display"]))
}

func (ix *Index) addToken(param, system, code string) {
	if code == "" {
		return
	}
	ix.Tokens = append(ix.Tokens, TokenRow{Param: param, System: system, Code: code})
}

// addText indexes a display or text for the token's :text modifier.
func (ix *Index) addText(param, text string) {
	ix.addString(param+textSuffix, text)
}

// str returns v when it is a string, else "".
func str(v any) string {
	s, _ := v.(string)
	return s
}

// list returns v as a JSON array; a single value becomes a list of one.
func list(v any) []any {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		return x
	default:
		return []any{x}
	}
}
