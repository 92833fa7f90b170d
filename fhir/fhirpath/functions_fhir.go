package fhirpath

import "strings"

// FHIR's additions to FHIRPath (http://hl7.org/fhir/R4/fhirpath.html).

// fnExtension returns the extensions with the given url, including those
// of primitives (kept in the "_name" sibling in JSON).
func fnExtension(c *evalCtx, in []item, call *callNode, out []item) ([]item, error) {
	url, ok, err := c.stringArg(call, 0)
	if err != nil || !ok {
		return out, err
	}
	ext := c.model.types["Extension"]
	for _, it := range in {
		obj, ok := it.v.(map[string]any)
		if !ok {
			obj, _ = it.ext.(map[string]any)
		}
		list, _ := obj["extension"].([]any)
		for _, e := range list {
			if m, ok := e.(map[string]any); ok && m["url"] == url {
				out = append(out, item{v: m, t: ext})
			}
		}
	}
	return out, nil
}

// fnHasValue is true for a single primitive that has a value, not only
// extensions.
func fnHasValue(_ *evalCtx, in []item, _ *callNode, out []item) ([]item, error) {
	has := false
	if len(in) == 1 {
		_, _, has = in[0].system()
		if in[0].t != nil && in[0].t.kind != kindPrimitive && in[0].t.kind != kindSystem {
			has = false
		}
	}
	return append(out, boolItem(has)), nil
}

func fnGetValue(_ *evalCtx, in []item, _ *callNode, out []item) ([]item, error) {
	if len(in) != 1 || (in[0].t != nil && in[0].t.kind != kindPrimitive) {
		return out, nil
	}
	if v, t, ok := in[0].system(); ok {
		out = append(out, sysItem(v, t))
	}
	return out, nil
}

// fnResolve follows references. With a Resolver in the options it returns
// what that loads; otherwise, and for what it cannot find, it returns a
// resource known only by its type, parsed from the reference, which is
// what search parameters ask: `subject.where(resolve() is Patient)`.
// "#id" finds a contained resource; in a Bundle, a fullUrl finds its entry.
func fnResolve(c *evalCtx, in []item, _ *callNode, out []item) ([]item, error) {
	for _, it := range in {
		ref, typeHint := "", ""
		switch v := it.v.(type) {
		case map[string]any:
			ref, _ = v["reference"].(string)
			typeHint, _ = v["type"].(string)
		case string:
			ref = v
		}
		if ref == "" && typeHint == "" {
			continue
		}
		if strings.HasPrefix(ref, "#") {
			if r, ok := c.contained(ref[1:]); ok {
				out = append(out, r)
			}
			continue
		}
		if r, ok := c.bundleEntry(ref); ok {
			out = append(out, r)
			continue
		}
		if c.cfg.resolver != nil && ref != "" {
			res, err := c.cfg.resolver.Resolve(c.ctx, ref)
			if err != nil {
				return out, err
			}
			if res != nil {
				out = append(out, c.model.rootItem(res))
				continue
			}
		}
		if t := c.model.referenceType(ref, typeHint); t != nil {
			out = append(out, item{t: t})
		}
	}
	return out, nil
}

// contained finds the resource's contained resource with the given id;
// an empty id is the resource itself.
func (c *evalCtx) contained(id string) (item, bool) {
	for _, r := range c.resource {
		if id == "" {
			return r, true
		}
		obj, _ := r.v.(map[string]any)
		list, _ := obj["contained"].([]any)
		for _, e := range list {
			if m, ok := e.(map[string]any); ok && m["id"] == id {
				return c.model.rootItem(m), true
			}
		}
	}
	return item{}, false
}

// bundleEntry finds the entry of the root Bundle whose fullUrl is ref.
func (c *evalCtx) bundleEntry(ref string) (item, bool) {
	if len(c.root) != 1 || c.root[0].t == nil || c.root[0].t.name != "Bundle" {
		return item{}, false
	}
	obj, _ := c.root[0].v.(map[string]any)
	entries, _ := obj["entry"].([]any)
	for _, e := range entries {
		if m, ok := e.(map[string]any); ok && m["fullUrl"] == ref {
			if r, ok := m["resource"].(map[string]any); ok {
				return c.model.rootItem(r), true
			}
		}
	}
	return item{}, false
}

// referenceType reads the resource type from a literal reference
// ("Patient/123", "http://x/fhir/Patient/123/_history/2") or, failing
// that, from Reference.type ("Patient" or its StructureDefinition URL).
func (m *model) referenceType(ref, typeHint string) *typeInfo {
	ref, _, _ = strings.Cut(ref, "?")
	if i := strings.Index(ref, "/_history/"); i >= 0 {
		ref = ref[:i]
	}
	if i := strings.LastIndexByte(ref, '/'); i > 0 && i < len(ref)-1 {
		if t := m.resource(ref[strings.LastIndexByte(ref[:i], '/')+1 : i]); t != nil {
			return t
		}
	}
	if typeHint != "" {
		return m.resource(typeHint[strings.LastIndexByte(typeHint, '/')+1:])
	}
	return nil
}

// fnConformsTo checks the base profiles of resources. Other profiles need
// a validator; asking for one is an error rather than a false "no".
func fnConformsTo(c *evalCtx, in []item, call *callNode, out []item) ([]item, error) {
	url, ok, err := c.stringArg(call, 0)
	if err != nil || !ok {
		return out, err
	}
	const base = "http://hl7.org/fhir/StructureDefinition/"
	name, isBase := strings.CutPrefix(url, base)
	t := c.model.types[name]
	if !isBase || t == nil {
		return out, evalError("conformsTo() cannot check profile %q", url)
	}
	it, ok, err := singleInput(in, "conformsTo")
	if err != nil || !ok {
		return out, err
	}
	return append(out, boolItem(it.t != nil && it.t.is(t))), nil
}
