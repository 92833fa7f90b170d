// Package clienttest drives Hearth with real FHIR client libraries from the
// npm registry (installed into clienttest/js on first use), so that what
// clients send in practice, not what we expect them to send, is tested.
package clienttest
