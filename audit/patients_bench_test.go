package audit

import "testing"

var commBody = []byte(`{"resourceType":"Communication","id":"c1","meta":{"versionId":"1","lastUpdated":"2026-01-01T00:00:00Z"},"identifier":[{"system":"urn:x","value":"abc"}],"status":"completed","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/communication-category","code":"notification"}]}],"subject":{"reference":"Patient/p1"},"sender":{"reference":"Practitioner/d1"},"recipient":[{"reference":"Practitioner/d2"},{"reference":"Practitioner/d3"}],"payload":[{"contentString":"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat."},{"contentString":"Duis aute irure dolor in reprehenderit in voluptate velit esse cillum dolore eu fugiat nulla pariatur. Excepteur sint occaecat cupidatat non proident, sunt in culpa qui officia deserunt mollit anim id est laborum."}],"sent":"2026-01-01T00:00:00Z"}`)

func BenchmarkPatients(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Patients("Communication", "c1", commBody)
	}
}
