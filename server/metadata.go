package server

import (
	"encoding/json"
	"net/http"
	"time"
)

// capabilityStatement describes what this server really does. It grows as
// interactions land; nothing is advertised before it works.
func (s *Server) capabilityStatement(r *http.Request) []byte {
	base := s.base(r)
	oauth := s.cfg.BaseURL
	if oauth == "" {
		oauth = base[:len(base)-len("/fhir")]
	}
	cs := map[string]any{
		"resourceType": "CapabilityStatement",
		"status":       "active",
		"date":         time.Now().UTC().Format("2006-01-02"),
		"kind":         "instance",
		"software":     map[string]string{"name": "Hearth", "version": s.cfg.Version},
		"implementation": map[string]string{
			"description": "Hearth FHIR R4 server", "url": base,
		},
		"fhirVersion": "4.0.1",
		"format":      []string{"json"},
		"patchFormat": []string{"application/json-patch+json"},
		"rest": []map[string]any{{
			"mode": "server",
			"security": map[string]any{
				"service": []map[string]any{{"coding": []map[string]string{{
					"system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
					"code":   "SMART-on-FHIR",
				}}}},
				"extension": []map[string]any{{
					"url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
					"extension": []map[string]string{
						{"url": "token", "valueUri": oauth + "/oauth2/token"},
						{"url": "authorize", "valueUri": oauth + "/oauth2/authorize"},
						{"url": "introspect", "valueUri": oauth + "/oauth2/introspect"},
						{"url": "revoke", "valueUri": oauth + "/oauth2/revoke"},
					},
				}},
			},
			"resource":    s.capabilityResources(),
			"interaction": []code{{"transaction"}, {"batch"}, {"history-system"}, {"search-system"}},
			"searchParam": searchParams(systemParams(s.engine.SearchParameters("Patient"))),
		}},
	}
	b, _ := json.Marshal(cs)
	return b
}

// metadata handles GET /fhir/metadata; it needs no token.
func (s *Server) metadata(w http.ResponseWriter, r *http.Request) {
	if err := negotiate(r); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, s.capabilityStatement(r))
}
