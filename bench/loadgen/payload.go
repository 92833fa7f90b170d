package loadgen

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Resource bodies the workloads send. They are realistic in size and shape
// (a secure message is ~1.5 KB with sender, recipients, subject and a
// paragraph of text), valid R4 for strict validators, and their references
// point at resources the run created first, so servers that check
// referential integrity (HAPI by default) accept them too.

// refs are the resources other bodies refer to.
type refs struct {
	Patients      []string // Patient ids
	Practitioners []string // Practitioner ids
}

// message is the variable part of a Communication.
type message struct {
	ID         string // "" for a create
	Status     string // "completed", "in-progress" …
	Identifier string // urn:uuid value, unique per message
	Subject    string // Patient id
	Sender     string // Practitioner id
	Recipients []string
	Note       string    // varies between updates
	Sent       time.Time // when it was sent (zero: now); received 5 s later
}

// communication renders a message as a ~1.5 KB Communication.
func communication(m message) []byte {
	idField := ""
	if m.ID != "" {
		idField = fmt.Sprintf(`"id":%q,`, m.ID)
	}
	recipients := ""
	for i, r := range m.Recipients {
		if i > 0 {
			recipients += ","
		}
		recipients += fmt.Sprintf(`{"reference":"Practitioner/%s","display":"%s"}`, r, clinicianName(i))
	}
	note := m.Note
	if note == "" {
		note = "Patient consented to contact by phone; interpreter not needed."
	}
	sent := m.Sent
	if sent.IsZero() {
		sent = time.Now()
	}
	return fmt.Appendf(nil, `{"resourceType":"Communication",%s"status":%q,
"identifier":[{"system":"urn:ietf:rfc:3986","value":"urn:uuid:%s"}],
"category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/communication-category","code":"notification"}],"text":"Notification"}],
"priority":"routine","subject":{"reference":"Patient/%s","display":"Peter James Chalmers"},
"topic":{"text":"Follow-up on lab results and medication adjustment"},
"sent":%q,"received":%q,
"recipient":[%s],
"sender":{"reference":"Practitioner/%s","display":"Dr. Amara Lindqvist"},
"payload":[{"contentString":"Hello both. The HbA1c came back at 7.9%% which is above the target we agreed on at the last visit. I suggest we increase metformin to 1000 mg twice daily and book a follow-up in six weeks. Jonas, could you call the patient to explain the change, check for gastrointestinal side effects at the current dose, and arrange the blood draw for the next visit? Evelyn, please co-sign the new prescription when you have a moment. The patient prefers calls after 4 pm on weekdays and has asked that messages not be left on the home voicemail. Thanks, Amara"},
{"contentString":"Attached: lab summary and the updated medication list are available in the chart under today's encounter."}],
"note":[{"text":%q}]}`, idField, m.Status, m.Identifier, m.Subject,
		sent.UTC().Format(sentLayout), sent.Add(ReceivedAfter).UTC().Format(sentLayout), recipients, m.Sender, note)
}

// A message's sent and received times: to the second, with an offset, so
// that every message has its own (as real traffic has, and as the raw
// ceiling's index rows do).
const (
	sentLayout    = "2006-01-02T15:04:05-07:00"
	ReceivedAfter = 5 * time.Second
)

// clinicianName is the display name of the i-th recipient.
func clinicianName(i int) string {
	if i%2 == 0 {
		return "Dr. Evelyn van den Berg"
	}
	return "Nurse Jonas Okafor"
}

// patient renders a Patient of ~700 bytes; n varies the name and identifier.
func patient(id string, n int) []byte {
	return fmt.Appendf(nil, `{"resourceType":"Patient",%s"active":true,
"identifier":[{"system":"urn:oid:2.16.840.1.113883.2.4.6.3","value":"bench-%s"}],
"name":[{"use":"official","family":"Chalmers","given":["Peter","James"],"suffix":["%d"]}],
"telecom":[{"system":"phone","value":"+31 20 555 %04d","use":"home"},{"system":"email","value":"peter.chalmers%d@example.org"}],
"gender":"male","birthDate":"1974-12-25",
"address":[{"use":"home","line":["534 Erewhon St"],"city":"PleasantVille","district":"Rainbow","state":"Vic","postalCode":"3999","country":"NL"}],
"communication":[{"language":{"coding":[{"system":"urn:ietf:bcp:47","code":"nl"}]},"preferred":true}]}`,
		optionalID(id), newUUID(), n, n%10000, n)
}

// practitioner renders a Practitioner of ~600 bytes.
func practitioner(id string, n int) []byte {
	return fmt.Appendf(nil, `{"resourceType":"Practitioner",%s"active":true,
"identifier":[{"system":"http://fhir.nl/fhir/NamingSystem/uzi-nr-pers","value":"bench-%s"}],
"name":[{"use":"official","family":"Lindqvist","given":["Amara"],"prefix":["Dr."],"suffix":["%d"]}],
"telecom":[{"system":"phone","value":"+31 20 555 %04d","use":"work"},{"system":"email","value":"a.lindqvist%d@example.org","use":"work"}],
"gender":"female","birthDate":"1971-04-02",
"qualification":[{"code":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0360","code":"MD","display":"Doctor of Medicine"}]}}]}`,
		optionalID(id), newUUID(), n, n%10000, n)
}

// observation renders an HbA1c Observation of ~800 bytes about a patient.
func observation(id, patientID string, n int) []byte {
	return fmt.Appendf(nil, `{"resourceType":"Observation",%s"status":"final",
"identifier":[{"system":"urn:ietf:rfc:3986","value":"urn:uuid:%s"}],
"category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory","display":"Laboratory"}]}],
"code":{"coding":[{"system":"http://loinc.org","code":"4548-4","display":"Hemoglobin A1c/Hemoglobin.total in Blood"}],"text":"HbA1c"},
"subject":{"reference":"Patient/%s"},
"effectiveDateTime":"2024-03-14T09:30:00+01:00","issued":"2024-03-14T10:30:00+01:00",
"valueQuantity":{"value":%d.%d,"unit":"%%","system":"http://unitsofmeasure.org","code":"%%"},
"interpretation":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation","code":"H","display":"High"}]}],
"referenceRange":[{"low":{"value":4,"unit":"%%","system":"http://unitsofmeasure.org","code":"%%"},"high":{"value":6,"unit":"%%","system":"http://unitsofmeasure.org","code":"%%"}}]}`,
		optionalID(id), newUUID(), patientID, 5+n%5, n%10)
}

func optionalID(id string) string {
	if id == "" {
		return ""
	}
	return fmt.Sprintf(`"id":%q,`, id)
}

// newUUID returns a random (version 4) UUID.
func newUUID() string { return uuid.NewString() }

// SampleCommunication is the W1 body for servers that do not resolve
// references (the raw ceiling stores it as bytes): the same size and shape
// as what the HTTP workloads send, sent at sent and received ReceivedAfter.
func SampleCommunication(id, status string, sent time.Time) []byte {
	return communication(message{ID: id, Status: status, Identifier: newUUID(), Subject: "example",
		Sender: "f003", Recipients: []string{"f001", "f002"}, Sent: sent})
}

// bundleEntry is one request of a transaction Bundle.
type bundleEntry struct {
	FullURL  string          `json:"fullUrl,omitempty"`
	Resource json.RawMessage `json:"resource"`
	Request  struct {
		Method string `json:"method"`
		URL    string `json:"url"`
	} `json:"request"`
}

// transaction wraps bodies of one type as POST entries of a transaction.
func transaction(typ string, bodies [][]byte) []byte {
	entries := make([]bundleEntry, len(bodies))
	for i, b := range bodies {
		entries[i].FullURL = "urn:uuid:" + newUUID()
		entries[i].Resource = b
		entries[i].Request.Method, entries[i].Request.URL = "POST", typ
	}
	out, _ := json.Marshal(map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": entries})
	return out
}
