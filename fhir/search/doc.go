// Package search is FHIR R4 search as data and rules, without storage: the
// registry of search parameters (the official R4 SearchParameter set,
// embedded), the parser that turns a query string into a typed Query, and
// index extraction that turns a resource into the rows search runs on.
//
// One file per search-parameter type holds what that type means, both when
// a resource is indexed and when a query is parsed: string.go, token.go,
// reference.go, date.go, number.go, quantity.go and uri.go. Stores compile a
// Query into SQL over the rows; the package itself knows nothing of SQL.
//
//go:generate go run ./internal/gen -defs ../../../shared/fhir-r4/definitions -o .
package search
