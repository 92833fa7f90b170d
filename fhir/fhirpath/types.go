package fhirpath

// isOf reports whether it is of type t or a subtype: FHIRPath's `is`.
// FHIR and System types are distinct: a FHIR boolean is not a
// System.Boolean, though it converts to one for operators.
func isOf(it item, t *typeInfo) bool {
	typ := it.t
	if typ == nil {
		_, st, ok := inferSystem(it.v)
		if !ok {
			return false
		}
		typ = st
	}
	return typ.is(t)
}

// asOf decides what `as` and ofType() keep. Complex types match their
// subtypes (an Age is a Quantity), but a FHIR primitive matches only its
// own type, as the official test suite expects (a code is not returned by
// as(string)). That also keeps R4 search parameters such as
// `ConceptMap.source as uri` and `… as canonical` apart.
func asOf(it item, t *typeInfo) bool {
	if it.t != nil && it.t.kind == kindPrimitive {
		return it.t == t
	}
	return isOf(it, t)
}

// appendAs keeps the items of in that are of type t. R4 search parameters
// apply `as` to collections (`Observation.component.value as Quantity`),
// so it filters like ofType() rather than failing on several items.
func appendAs(out, in []item, t *typeInfo) []item {
	for _, it := range in {
		if asOf(it, t) {
			out = append(out, it)
		}
	}
	return out
}

// typeInfoItem is what type() returns: a SimpleTypeInfo with namespace and
// name, navigable like any object.
func typeInfoItem(it item) (item, bool) {
	t := it.t
	if t == nil {
		_, st, ok := inferSystem(it.v)
		if !ok {
			return item{}, false
		}
		t = st
	}
	return item{v: map[string]any{"namespace": t.ns, "name": t.typeName()}, t: sysTypeInfo}, true
}
