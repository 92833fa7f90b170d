package policy

import (
	"slices"
	"testing"
)

func TestPatientCompartmentTable(t *testing.T) {
	table, err := PatientCompartment()
	if err != nil {
		t.Fatal(err)
	}
	comm := table["Communication"]
	var params []string
	for _, p := range comm {
		params = append(params, p.Param)
	}
	if !slices.Equal(params, []string{"subject", "sender", "recipient"}) {
		t.Errorf("Communication compartment params = %v", params)
	}
	appt := table["Appointment"]
	if len(appt) != 1 || !slices.Equal(appt[0].Paths[0], []string{"participant", "actor"}) {
		t.Errorf("Appointment = %+v", appt)
	}
	if _, ok := table["Practitioner"]; ok {
		t.Error("Practitioner is not in the Patient compartment")
	}
	if len(table) < 60 {
		t.Errorf("%d types, want the ~66 of R4", len(table))
	}
}
