package server

import (
	"strings"
	"sync"

	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/fhir/search"
)

// code is a CapabilityStatement element that holds just a code.
type code struct {
	Code string `json:"code"`
}

// capResource is CapabilityStatement.rest.resource.
type capResource struct {
	Type              string     `json:"type"`
	Interaction       []code     `json:"interaction"`
	Versioning        string     `json:"versioning"`
	ReadHistory       bool       `json:"readHistory"`
	UpdateCreate      bool       `json:"updateCreate"`
	ConditionalCreate bool       `json:"conditionalCreate"`
	ConditionalRead   string     `json:"conditionalRead"`
	ConditionalUpdate bool       `json:"conditionalUpdate"`
	ConditionalDelete string     `json:"conditionalDelete"`
	SearchInclude     []string   `json:"searchInclude,omitempty"`
	SearchRevInclude  []string   `json:"searchRevInclude,omitempty"`
	SearchParam       []capParam `json:"searchParam"`
}

// capParam is CapabilityStatement.rest.resource.searchParam; the
// documentation lists the modifiers Hearth implements for it.
type capParam struct {
	Name          string `json:"name"`
	Definition    string `json:"definition"`
	Type          string `json:"type"`
	Documentation string `json:"documentation"`
}

// capabilityResources describes every resource type. It depends only on
// the configuration and the registry, so it is built once.
func (s *Server) capabilityResources() []capResource {
	s.capOnce.Do(func() {
		interactions := []code{{"read"}, {"vread"}, {"update"}, {"patch"}, {"delete"},
			{"history-instance"}, {"history-type"}, {"create"}, {"search-type"}}
		for _, t := range fhir.ResourceTypes() {
			params := s.engine.SearchParameters(t)
			res := capResource{
				Type: t, Interaction: interactions, Versioning: "versioned-update", ReadHistory: true,
				UpdateCreate: s.cfg.UpdateCreate, ConditionalCreate: true, ConditionalRead: "not-supported",
				ConditionalUpdate: true, ConditionalDelete: "single", SearchParam: searchParams(params),
				SearchInclude: []string{"*"}, SearchRevInclude: []string{"*"},
			}
			for _, p := range params {
				if p.Type == search.TypeReference {
					res.SearchInclude = append(res.SearchInclude, t+":"+p.Code)
				}
			}
			s.capResources = append(s.capResources, res)
		}
	})
	return s.capResources
}

func searchParams(params []*search.Param) []capParam {
	out := make([]capParam, 0, len(params))
	for _, p := range params {
		out = append(out, capParam{Name: p.Code, Definition: p.URL, Type: string(p.Type),
			Documentation: "Modifiers: " + strings.Join(p.Modifiers(), ", ") + "."})
	}
	return out
}

// systemParams keeps the parameters every resource type has (those of
// Resource), which a system-level search accepts.
func systemParams(params []*search.Param) []*search.Param {
	var out []*search.Param
	for _, p := range params {
		if strings.Contains(p.URL, "/Resource-") {
			out = append(out, p)
		}
	}
	return out
}

// capCache holds what capabilityResources builds once.
type capCache struct {
	capOnce      sync.Once
	capResources []capResource
}
