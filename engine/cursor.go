package engine

import (
	"encoding/base64"
	"encoding/json"

	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/store"
)

// cursorJSON is a store.Cursor as it travels in a link: sort key values
// keep their Go type (S string, I integer, F float; all unset for none).
type cursorJSON struct {
	K []keyJSON `json:"k,omitempty"`
	I string    `json:"i"`
	T string    `json:"t"`
	B bool      `json:"b,omitempty"`
}

type keyJSON struct {
	S *string  `json:"s,omitempty"`
	I *int64   `json:"i,omitempty"`
	F *float64 `json:"f,omitempty"`
}

// encodeCursor renders a cursor as an opaque URL-safe string.
func encodeCursor(c *store.Cursor) string {
	if c == nil {
		return ""
	}
	cj := cursorJSON{I: c.ID, T: c.Type, B: c.Backward, K: make([]keyJSON, len(c.Keys))}
	for i, k := range c.Keys {
		switch v := k.(type) {
		case string:
			cj.K[i].S = &v
		case int64:
			cj.K[i].I = &v
		case float64:
			cj.K[i].F = &v
		}
	}
	b, _ := json.Marshal(cj)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor reads a cursor from a link; anything else is refused.
func decodeCursor(s string) (*store.Cursor, error) {
	bad := fhir.Errorf(fhir.KindInvalid, "_cursor is not one this server issued").At("_cursor")
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, bad
	}
	var cj cursorJSON
	if json.Unmarshal(raw, &cj) != nil || cj.I == "" || cj.T == "" {
		return nil, bad
	}
	c := &store.Cursor{ID: cj.I, Type: cj.T, Backward: cj.B, Keys: make([]any, len(cj.K))}
	for i, k := range cj.K {
		switch {
		case k.S != nil:
			c.Keys[i] = *k.S
		case k.I != nil:
			c.Keys[i] = *k.I
		case k.F != nil:
			c.Keys[i] = *k.F
		}
	}
	return c, nil
}
