# Unit tests of the default policy: every rule with allowed and denied
# cases. policy_test.go runs them with `go test`.
package hearth.authz_test

import data.hearth.authz

# --- fixtures -------------------------------------------------------------------

user(roles, fhir_user) := {
	"tenant": "t1", "subject": "u1", "kind": "user", "client_id": "app",
	"roles": roles, "fhir_user": fhir_user, "organization": "Organization/o1",
	"verified": true, "scopes": [], "launch_patient": "",
}

practitioner := user(["practitioner"], "Practitioner/p1")

unverified_practitioner := object.union(practitioner, {"verified": false})

staff := user(["staff"], "Practitioner/s1")

admin := user(["admin"], "Practitioner/a1")

auditor := user(["auditor"], "Practitioner/x1")

patient := object.union(user(["patient"], "Patient/pat1"), {"organization": ""})

client := {"tenant": "t1", "subject": "c1", "kind": "client", "client_id": "c1", "roles": [], "fhir_user": "", "organization": "", "verified": false, "scopes": ["system/*.cruds"], "launch_patient": ""}

bot := object.union(client, {"kind": "bot"})

msg(sender, recipients) := {"resourceType": "Communication", "id": "m", "status": "completed", "sender": {"reference": sender}, "recipient": [{"reference": r} | some r in recipients]}

to_p1 := msg("Practitioner/p2", ["Practitioner/p1"])

from_p1 := msg("Practitioner/p1", ["Practitioner/p2"])

to_org := msg("Practitioner/p2", ["Organization/o1"])

others := msg("Practitioner/p2", ["Practitioner/p3"])

decide(principal, type, rt, resource) := d if {
	d := authz.decision with input as {"principal": principal, "interaction": {"type": type, "resource_type": rt, "id": object.get(resource, "id", "")}, "resource": resource}
}

decide_type(principal, type, rt) := d if {
	d := authz.decision with input as {"principal": principal, "interaction": {"type": type, "resource_type": rt, "id": ""}}
}

allowed(principal, type, rt, resource) if decide(principal, type, rt, resource).allow

allowed_type(principal, type, rt) if decide_type(principal, type, rt).allow

# --- system clients and bots ------------------------------------------------------

test_client_may_do_anything_scopes_allow if {
	allowed(client, "read", "Communication", others)
	allowed(client, "create", "Patient", {"resourceType": "Patient"})
	allowed_type(client, "search-system", "")
	allowed_type(client, "history-system", "")
	decide(client, "read", "Communication", others).reason == "system client: SMART scopes decide"
}

test_client_search_is_unconstrained if {
	decide_type(client, "search-type", "Communication").search_grants == [{"type": "*", "where": []}]
}

test_bot_like_client if allowed(bot, "delete", "Communication", others)

test_client_without_tenant_denied if {
	d := decide(object.union(client, {"tenant": ""}), "read", "Communication", others)
	not d.allow
	d.reason == "no tenant in credentials"
}

test_unknown_kind_denied if not allowed(object.union(client, {"kind": "robot"}), "read", "Communication", others)

test_client_may_not_write_audit_events if {
	not allowed(client, "create", "AuditEvent", {"resourceType": "AuditEvent"})
	not allowed(client, "delete", "AuditEvent", {"resourceType": "AuditEvent", "id": "a"})
	allowed(client, "read", "AuditEvent", {"resourceType": "AuditEvent", "id": "a"})
}

# --- verified practitioners --------------------------------------------------------

test_practitioner_reads_messages_to_and_from_self_and_org if {
	allowed(practitioner, "read", "Communication", to_p1)
	allowed(practitioner, "read", "Communication", from_p1)
	allowed(practitioner, "read", "Communication", to_org)
}

test_practitioner_denied_others_messages if {
	d := decide(practitioner, "read", "Communication", others)
	not d.allow
	d.reason == "no rule lets this caller read Communication"
}

test_practitioner_reference_as_absolute_url if {
	allowed(practitioner, "read", "Communication", msg("https://h.example/fhir/Practitioner/p1", ["Practitioner/p9"]))
	not allowed(practitioner, "read", "Communication", msg("https://h.example/fhir/Practitioner/p10", ["Practitioner/p9"]))
}

test_practitioner_search_constraint if {
	d := decide_type(practitioner, "search-type", "Communication")
	d.allow
	some g in d.search_grants
	g.type == "Communication"
	g.where == [[
		{"param": "sender", "paths": [["sender"]], "values": ["Organization/o1", "Practitioner/p1"]},
		{"param": "recipient", "paths": [["recipient"]], "values": ["Organization/o1", "Practitioner/p1"]},
	]]
}

test_practitioner_sends_as_self_only if {
	allowed(practitioner, "create", "Communication", from_p1)
	not allowed(practitioner, "create", "Communication", to_p1)
}

test_practitioner_updates_own_message_only if {
	authz.allow with input as {"principal": practitioner, "interaction": {"type": "update", "resource_type": "Communication", "id": "m"}, "resource": from_p1, "current": from_p1}
	not allowed(practitioner, "update", "Communication", to_p1)
	# taking over someone else's message by rewriting its sender
	not authz.allow with input as {"principal": practitioner, "interaction": {"type": "update", "resource_type": "Communication", "id": "m"}, "resource": from_p1, "current": others}
}

test_practitioner_may_not_delete_messages if not allowed(practitioner, "delete", "Communication", from_p1)

test_practitioner_reads_forms_and_directory if {
	allowed_type(practitioner, "search-type", "Questionnaire")
	allowed(practitioner, "read", "Questionnaire", {"resourceType": "Questionnaire", "id": "q"})
	allowed_type(practitioner, "search-type", "Practitioner")
	allowed(practitioner, "read", "Organization", {"resourceType": "Organization", "id": "o2"})
	not allowed(practitioner, "create", "Questionnaire", {"resourceType": "Questionnaire"})
	not allowed(practitioner, "update", "Organization", {"resourceType": "Organization", "id": "o2"})
}

test_practitioner_answers_forms_as_author if {
	qr := {"resourceType": "QuestionnaireResponse", "id": "r", "status": "completed", "author": {"reference": "Practitioner/p1"}}
	allowed(practitioner, "create", "QuestionnaireResponse", qr)
	allowed(practitioner, "read", "QuestionnaireResponse", qr)
	not allowed(practitioner, "read", "QuestionnaireResponse", object.union(qr, {"author": {"reference": "Practitioner/p2"}}))
}

test_practitioner_edits_own_profile if {
	allowed(practitioner, "update", "Practitioner", {"resourceType": "Practitioner", "id": "p1"})
	not allowed(practitioner, "update", "Practitioner", {"resourceType": "Practitioner", "id": "p2"})
	d := decide(practitioner, "update", "Practitioner", {"resourceType": "Practitioner", "id": "p1"})
	d.read_only_fields == ["Practitioner.active", "Practitioner.identifier", "Practitioner.qualification"]
}

test_practitioner_no_clinical_records if {
	not allowed_type(practitioner, "search-type", "Observation")
	not allowed_type(practitioner, "search-type", "AuditEvent")
	not allowed_type(practitioner, "search-system", "")
}

test_practitioner_hidden_fields if {
	decide_type(practitioner, "search-type", "Practitioner").hidden_fields == ["Practitioner.birthDate"]
}

# --- unverified users ----------------------------------------------------------------

test_unverified_own_profile_and_directory_only if {
	allowed(unverified_practitioner, "read", "Practitioner", {"resourceType": "Practitioner", "id": "p1"})
	allowed(unverified_practitioner, "update", "Practitioner", {"resourceType": "Practitioner", "id": "p1"})
	allowed_type(unverified_practitioner, "search-type", "Organization")
	not allowed(unverified_practitioner, "read", "Communication", to_p1)
	not allowed_type(unverified_practitioner, "search-type", "Communication")
	not allowed_type(unverified_practitioner, "search-type", "Questionnaire")
	not allowed(unverified_practitioner, "create", "Communication", from_p1)
}

test_unverified_role_same_as_unverified_practitioner if {
	u := user(["unverified"], "Practitioner/p1")
	allowed(u, "read", "Practitioner", {"resourceType": "Practitioner", "id": "p1"})
	not allowed(u, "read", "Communication", to_p1)
}

test_unverified_hidden_fields if {
	decide_type(unverified_practitioner, "search-type", "Practitioner").hidden_fields == ["Practitioner.birthDate", "Practitioner.identifier"]
}

# --- staff -------------------------------------------------------------------------

test_staff_reads_organisation_messages if {
	allowed(staff, "read", "Communication", to_org)
	allowed(staff, "read", "Communication", msg("Practitioner/s1", ["Patient/x"]))
	not allowed(staff, "read", "Communication", to_p1)
	allowed(staff, "create", "Communication", msg("Practitioner/s1", ["Organization/o2"]))
	not allowed(staff, "create", "Communication", msg("Practitioner/p2", ["Organization/o2"]))
	not allowed(staff, "update", "Communication", msg("Practitioner/s1", ["Organization/o2"]))
}

test_staff_no_form_answers if {
	allowed_type(staff, "search-type", "Questionnaire")
	not allowed(staff, "create", "QuestionnaireResponse", {"resourceType": "QuestionnaireResponse", "author": {"reference": "Practitioner/s1"}})
}

# --- admins ---------------------------------------------------------------------------

test_admin_manages_directory if {
	allowed(admin, "create", "Practitioner", {"resourceType": "Practitioner"})
	allowed(admin, "update", "Organization", {"resourceType": "Organization", "id": "o1"})
	allowed(admin, "delete", "PractitionerRole", {"resourceType": "PractitionerRole", "id": "r"})
	decide(admin, "update", "Practitioner", {"resourceType": "Practitioner", "id": "p1"}).read_only_fields == []
	decide_type(admin, "search-type", "Practitioner").hidden_fields == []
}

test_admin_reads_audit_log if {
	allowed_type(admin, "search-type", "AuditEvent")
	allowed(admin, "read", "AuditEvent", {"resourceType": "AuditEvent", "id": "a"})
	not allowed(admin, "update", "AuditEvent", {"resourceType": "AuditEvent", "id": "a"})
}

test_admin_no_clinical_content if {
	not allowed(admin, "read", "Communication", to_org)
	not allowed_type(admin, "search-type", "Communication")
	not allowed_type(admin, "search-type", "QuestionnaireResponse")
}

test_admin_who_is_also_clinician if {
	both := object.union(admin, {"roles": ["admin", "practitioner"], "fhir_user": "Practitioner/p1"})
	allowed(both, "read", "Communication", to_p1)
	not allowed(both, "read", "Communication", others)
}

# --- auditors ---------------------------------------------------------------------------

test_auditor_reads_audit_events_only if {
	allowed_type(auditor, "search-type", "AuditEvent")
	allowed(auditor, "read", "AuditEvent", {"resourceType": "AuditEvent", "id": "a"})
	not allowed_type(auditor, "search-type", "Practitioner")
	not allowed(auditor, "read", "Communication", to_org)
	decide_type(auditor, "search-type", "AuditEvent").search_grants == [{"type": "AuditEvent", "where": []}]
}

# --- patients -----------------------------------------------------------------------------

test_patient_reads_own_compartment if {
	allowed(patient, "read", "Patient", {"resourceType": "Patient", "id": "pat1"})
	not allowed(patient, "read", "Patient", {"resourceType": "Patient", "id": "pat2"})
	allowed(patient, "read", "Observation", {"resourceType": "Observation", "id": "o", "subject": {"reference": "Patient/pat1"}})
	not allowed(patient, "read", "Observation", {"resourceType": "Observation", "id": "o", "subject": {"reference": "Patient/pat2"}})
	allowed(patient, "read", "Communication", msg("Practitioner/p1", ["Patient/pat1"]))
	allowed(patient, "read", "CarePlan", {"resourceType": "CarePlan", "id": "c", "activity": [{"detail": {"performer": [{"reference": "Patient/pat1"}]}}]})
	not allowed(patient, "update", "Observation", {"resourceType": "Observation", "id": "o", "subject": {"reference": "Patient/pat1"}})
}

test_patient_search_constraint_per_type if {
	d := decide_type(patient, "search-type", "Observation")
	d.allow
	some g in d.search_grants
	g.type == "Observation"
	g.where == [[
		{"param": "subject", "paths": [["subject"]], "values": ["Patient/pat1"]},
		{"param": "performer", "paths": [["performer"]], "values": ["Patient/pat1"]},
	]]
}

test_patient_launch_context_wins if {
	launched := object.union(patient, {"fhir_user": "RelatedPerson/rp", "launch_patient": "pat2"})
	allowed(launched, "read", "Patient", {"resourceType": "Patient", "id": "pat2"})
	not allowed(launched, "read", "Patient", {"resourceType": "Patient", "id": "pat1"})
}

test_patient_no_audit_events if not allowed_type(patient, "search-type", "AuditEvent")

test_patient_sends_messages_and_answers_forms if {
	allowed(patient, "create", "Communication", msg("Patient/pat1", ["Practitioner/p1"]))
	not allowed(patient, "create", "Communication", msg("Patient/pat2", ["Practitioner/p1"]))
	allowed(patient, "create", "QuestionnaireResponse", {"resourceType": "QuestionnaireResponse", "subject": {"reference": "Patient/pat1"}})
	allowed_type(patient, "search-type", "Questionnaire")
}

test_patient_without_patient_denied if not allowed_type(user(["patient"], ""), "search-type", "Observation")

# --- users without roles, and Bundles --------------------------------------------------------

test_user_without_roles_denied if {
	nobody := user([], "Practitioner/p1")
	not allowed_type(nobody, "search-type", "Practitioner")
	not allowed(nobody, "read", "Communication", to_p1)
}

test_bundles_decided_per_entry if {
	allowed_type(user([], ""), "transaction", "")
	allowed_type(practitioner, "batch", "")
	not allowed_type(object.union(client, {"tenant": ""}), "batch", "")
}

test_read_of_missing_resource_answers_by_type if {
	allowed_type(practitioner, "read", "Communication")
	not allowed_type(auditor, "read", "Communication")
}

# --- clinicians (SMART apps) ---------------------------------------------------

clinician := user(["clinician"], "Practitioner/c1")

in_launch := object.union(clinician, {"launch_patient": "pat1"})

obs(subject) := {"resourceType": "Observation", "id": "o", "status": "final", "code": {"text": "x"}, "subject": {"reference": subject}}

test_clinician_scopes_decide if {
	allowed(clinician, "read", "Observation", obs("Patient/pat2"))
	allowed(clinician, "create", "Observation", obs("Patient/pat2"))
}

test_clinician_in_launch_reaches_the_launch_patient if allowed(in_launch, "read", "Observation", obs("Patient/pat1"))

test_clinician_in_launch_not_another_patient if not allowed(in_launch, "read", "Observation", obs("Patient/pat2"))

test_practitioner_is_not_a_clinician if not allowed(practitioner, "read", "Observation", obs("Patient/pat1"))
