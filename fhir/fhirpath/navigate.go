package fhirpath

import (
	"slices"
	"strings"
)

// This file walks FHIR JSON: members by name (choice elements included),
// all children, and the typing of what it finds.

// typeOfResource types a JSON object by its resourceType member.
func (m *model) typeOfResource(v any, fallback *typeInfo) *typeInfo {
	if obj, ok := v.(map[string]any); ok {
		if rt, ok := obj["resourceType"].(string); ok {
			if t := m.resource(rt); t != nil {
				return t
			}
		}
	}
	return fallback
}

// rootItem wraps the node Eval was given.
func (m *model) rootItem(v any) item {
	return item{v: v, t: m.typeOfResource(v, nil)}
}

// appendValues appends a member's value (one item, or one per array entry)
// with its "_name" sibling lined up by index.
func (m *model) appendValues(out []item, v, ext any, t *typeInfo) []item {
	arr, isArr := v.([]any)
	if !isArr {
		if extArr, ok := ext.([]any); ok && v == nil {
			// An array of primitives that have only extensions.
			arr, isArr = make([]any, len(extArr)), true
		}
	}
	if !isArr {
		if v == nil && ext == nil {
			return out
		}
		return append(out, item{v: v, ext: ext, t: m.valueType(v, t)})
	}
	extArr, _ := ext.([]any)
	for i, e := range arr {
		var x any
		if i < len(extArr) {
			x = extArr[i]
		}
		if e == nil && x == nil {
			continue
		}
		out = append(out, item{v: e, ext: x, t: m.valueType(e, t)})
	}
	return out
}

// valueType refines an element's declared type: a Resource element holds
// some concrete resource, and untyped objects may still be resources.
func (m *model) valueType(v any, t *typeInfo) *typeInfo {
	if t == nil || t.kind == kindResource {
		return m.typeOfResource(v, t)
	}
	return t
}

// member appends the members of it called name. known is false when it
// has a FHIR type and no FHIR type at all has an element of that name: a
// misspelt name, or a choice element written with its type suffix
// (valueQuantity for value), which FHIRPath does not allow. A name that
// some other type has is fine: `Bundle.entry.resource.name` looks for
// names in whatever resources the bundle holds.
func (m *model) member(it item, name string, out []item) (_ []item, known bool) {
	obj, ok := it.v.(map[string]any)
	if !ok {
		// A primitive's id and extensions live in its "_name" sibling.
		if ext, ok := it.ext.(map[string]any); ok && (name == "extension" || name == "id") {
			return m.member(item{v: ext, t: m.types["Element"]}, name, out)
		}
		return out, true
	}
	if it.t == sysTypeInfo {
		// The namespace and name of what type() returns are Strings.
		if s, ok := obj[name].(string); ok {
			out = append(out, stringItem(s))
		}
		return out, true
	}
	if t := it.t; t != nil && t.kind != kindSystem {
		if el := t.element(name); el != nil {
			for i, key := range el.keys {
				v, found := obj[key]
				var ext any
				if el.types[i].kind == kindPrimitive {
					ext = obj[el.extKeys[i]]
				}
				if !found && ext == nil {
					continue
				}
				out = m.appendValues(out, v, ext, el.types[i])
				if el.choice {
					break // a choice element has one value
				}
			}
			return out, true
		}
		if m.types[name] != nil {
			// A type name heading one branch of a shared expression
			// (`AllergyIntolerance.patient | CarePlan.subject …`).
			return out, true
		}
		// Another type's element is fine: this type has none.
		return out, m.elementNames[name] && !t.choiceKey(name)
	}
	if v, found := obj[name]; found {
		return m.appendValues(out, v, obj["_"+name], nil), true
	}
	// Untyped data: value[x] still finds valueQuantity.
	for key, v := range obj {
		if t := m.choiceSuffix(key, name); t != nil {
			out = m.appendValues(out, v, obj["_"+key], t)
		}
	}
	return out, true
}

// choiceKey reports whether name is how JSON spells one of t's choice
// elements with a type (valueQuantity for value[x]).
func (t *typeInfo) choiceKey(name string) bool {
	for ; t != nil; t = t.base {
		for _, el := range t.elems {
			if el.choice && strings.HasPrefix(name, el.name) && slices.Contains(el.keys, name) {
				return true
			}
		}
	}
	return false
}

// choiceSuffix returns the type named by key's suffix when key is name
// followed by a FHIR type name, e.g. ("valueQuantity", "value").
func (m *model) choiceSuffix(key, name string) *typeInfo {
	if len(key) <= len(name) || !strings.HasPrefix(key, name) {
		return nil
	}
	suffix := key[len(name):]
	if suffix[0] < 'A' || suffix[0] > 'Z' {
		return nil
	}
	if t := m.types[suffix]; t != nil && t.kind != kindResource && t.kind != kindBackbone {
		return t
	}
	if t := m.types[strings.ToLower(suffix[:1])+suffix[1:]]; t != nil && t.kind == kindPrimitive {
		return t
	}
	return nil
}

// children appends every child of it, in definition order when the type is
// known and in name order otherwise, so that results are reproducible.
func (m *model) children(it item, out []item) []item {
	obj, ok := it.v.(map[string]any)
	if !ok {
		if ext, ok := it.ext.(map[string]any); ok {
			return m.children(item{v: ext, t: m.types["Element"]}, out)
		}
		return out
	}
	if t := it.t; t != nil && t.kind != kindSystem && t.kind != kindPrimitive {
		var chain [8]*typeInfo
		n := 0
		for b := t; b != nil && n < len(chain); b = b.base {
			chain[n] = b
			n++
		}
		for i := n - 1; i >= 0; i-- {
			for _, el := range chain[i].elems {
				for k, key := range el.keys {
					v, found := obj[key]
					var ext any
					if el.types[k].kind == kindPrimitive {
						ext = obj[el.extKeys[k]]
					}
					if found || ext != nil {
						out = m.appendValues(out, v, ext, el.types[k])
					}
				}
			}
		}
		return out
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		switch {
		case k == "resourceType":
		case k[0] == '_':
			if _, hasValue := obj[k[1:]]; !hasValue {
				out = m.appendValues(out, nil, obj[k], nil)
			}
		default:
			out = m.appendValues(out, obj[k], obj["_"+k], nil)
		}
	}
	return out
}

// isTypeName reports whether name names it's type or one of its bases, so
// that a path may start with it: `Patient.name` on a Patient.
func isTypeName(it item, name string) bool {
	if name == "" || name[0] < 'A' || name[0] > 'Z' {
		return false
	}
	for t := it.t; t != nil; t = t.base {
		if t.name == name && t.kind != kindSystem {
			return true
		}
	}
	return false
}
