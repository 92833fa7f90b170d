package search

import (
	"strconv"
	"strings"

	"github.com/hearth-fhir/hearth/fhir"
)

// result handles the parameters that shape the result rather than select
// it. handled is false for anything else.
func (p *parser) result(name, value string) (handled bool, err error) {
	base, mod, _ := strings.Cut(name, ":")
	switch base {
	case "_type":
		return true, nil // read by systemTypes; on a type-level search the URL decides
	case "_format", "_pretty":
		return true, nil // the HTTP layer's
	case "_cursor":
		p.q.Cursor = value
		return true, nil
	case "_count":
		n, err := strconv.Atoi(value)
		if err != nil || n < 0 {
			return true, fhir.Errorf(fhir.KindInvalid, "_count must be a non-negative integer").At("_count")
		}
		p.q.Count = n
		return true, nil
	case "_total":
		switch t := Total(value); t {
		case TotalNone, TotalEstimate, TotalAccurate:
			p.q.Total = t
			return true, nil
		}
		return true, fhir.Errorf(fhir.KindInvalid, "_total takes none, estimate or accurate").At("_total")
	case "_summary":
		switch s := Summary(value); s {
		case SummaryTrue, SummaryText, SummaryData, SummaryCount, SummaryFalse:
			p.q.Summary = s
			return true, nil
		}
		return true, fhir.Errorf(fhir.KindInvalid, "_summary takes true, text, data, count or false").At("_summary")
	case "_elements":
		for _, e := range strings.Split(value, ",") {
			e = strings.TrimSpace(e)
			if e == "" {
				continue
			}
			if headName(e) != e {
				return true, fhir.Errorf(fhir.KindInvalid, "_elements takes top-level element names").At("_elements")
			}
			p.q.Elements = append(p.q.Elements, e)
		}
		return true, nil
	case "_sort":
		return true, p.sort(value)
	case "_include", "_revinclude":
		iterate := false
		switch mod {
		case "":
		case "iterate", "recurse":
			iterate = true
		default:
			return true, fhir.Errorf(fhir.KindInvalid, "%s takes only the :iterate modifier", base).At(name)
		}
		return true, p.include(name, value, base == "_revinclude", iterate)
	case "_contained", "_containedType", "_list", "_query", "_filter", "_text", "_content":
		return true, p.ignore(name, base+" is not supported by this server")
	}
	return false, nil
}

// sort parses _sort: comma-separated parameter codes, `-` for descending.
func (p *parser) sort(value string) error {
	for _, key := range strings.Split(value, ",") {
		desc := strings.HasPrefix(key, "-")
		code := strings.TrimPrefix(key, "-")
		prm := p.lookup(p.q.Types, code)
		if prm == nil || !prm.Supported() {
			if err := p.ignore("_sort", "cannot sort by unknown parameter "+code); err != nil {
				return err
			}
			continue
		}
		p.q.Sort = append(p.q.Sort, SortKey{Param: prm, Desc: desc})
	}
	return nil
}

// include parses Source:param[:Target] (or `*`, or Source:*).
func (p *parser) include(name, value string, reverse, iterate bool) error {
	if value == "*" {
		p.q.Include = append(p.q.Include, Include{Reverse: reverse, Iterate: iterate})
		return nil
	}
	parts := strings.Split(value, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return fhir.Errorf(fhir.KindInvalid, "%s takes Type:parameter[:targetType]", name).At(name)
	}
	inc := Include{Reverse: reverse, Iterate: iterate, Source: parts[0]}
	if p.reg.byType[inc.Source] == nil {
		return fhir.Errorf(fhir.KindInvalid, "%s: unknown resource type %q", name, inc.Source).At(name)
	}
	if parts[1] != "*" {
		inc.Param = p.reg.Lookup(inc.Source, parts[1])
		if inc.Param == nil || inc.Param.Type != TypeReference {
			return fhir.Errorf(fhir.KindInvalid, "%s: %s has no reference parameter %q", name, inc.Source, parts[1]).At(name)
		}
	}
	if len(parts) == 3 {
		inc.TargetType = parts[2]
		if !fhir.IsResourceType(inc.TargetType) ||
			(inc.Param != nil && len(inc.Param.Targets) > 0 && !contains(inc.Param.Targets, inc.TargetType)) {
			return fhir.Errorf(fhir.KindInvalid, "%s: %s:%s does not refer to %q", name, inc.Source, parts[1], inc.TargetType).At(name)
		}
	}
	p.q.Include = append(p.q.Include, inc)
	return nil
}
