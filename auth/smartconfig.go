package auth

import "net/http"

// smartConfiguration answers GET /fhir/.well-known/smart-configuration
// (SMART App Launch 2.x, section "Conformance").
func (s *Server) smartConfiguration(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	iss := s.issuer
	writeJSON(w, map[string]any{
		"issuer":                                iss,
		"jwks_uri":                              iss + pathJWKS,
		"authorization_endpoint":                iss + pathAuthorize,
		"token_endpoint":                        iss + pathToken,
		"introspection_endpoint":                iss + pathIntrospect,
		"revocation_endpoint":                   iss + pathRevoke,
		"userinfo_endpoint":                     iss + pathUserinfo,
		"end_session_endpoint":                  iss + PathLogout,
		"management_endpoint":                   iss + PathLogin,
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "private_key_jwt", "none"},
		"token_endpoint_auth_signing_alg_values_supported": []string{"RS384", "ES384", "RS256", "ES256"},
		"grant_types_supported":                            []string{"authorization_code", "refresh_token", "client_credentials"},
		"scopes_supported":                                 supportedScopes,
		"response_types_supported":                         []string{"code"},
		"code_challenge_methods_supported":                 []string{"S256"},
		"capabilities": []string{
			"launch-ehr", "launch-standalone", "authorize-post",
			"client-public", "client-confidential-symmetric", "client-confidential-asymmetric",
			"context-ehr-patient", "context-ehr-encounter", "context-standalone-patient", "context-banner",
			"permission-v1", "permission-v2", "permission-patient", "permission-user", "permission-offline", "permission-online",
			"sso-openid-connect",
		},
	})
}
