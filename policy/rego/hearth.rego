# Hearth's default access policy. docs/access-policy.md explains the roles
# and rules in prose; every rule has allowed and denied cases in
# hearth_test.rego.
#
# A decision is made of grants: each grant lets the caller perform some
# actions on one resource type ("*": every type), optionally only on
# resources that match `where`. `where` is a list of clauses that must all
# hold; a clause holds when one of its matches does; a match names a FHIR
# search parameter, the element paths it covers, and the values (references
# such as "Practitioner/1", or ids for "_id") it may take. The engine turns
# the same grants into SQL conditions for searches, so a search can never
# return what a read of the same resource would refuse.
#
# Files in --policy-dir may add grants, deny reasons, hidden fields and
# read-only fields to this package, or replace this file by using its name.
package hearth.authz

# The action each FHIR interaction needs.
action_of := {
	"read": "read",
	"vread": "read",
	"history-instance": "read",
	"search-type": "search",
	"search-system": "search",
	"history-type": "search",
	"history-system": "search",
	"create": "create",
	"update": "update",
	"patch": "update",
	"delete": "delete",
	"operation": "operate",
}

all_actions := {"read", "search", "create", "update", "delete", "operate"}

read_actions := {"read", "search"}

# Interactions on a single resource: the grant's where must fit the resource.
instance_interactions := {"read", "vread", "history-instance", "create", "update", "patch", "delete"}

# Bundles themselves need no grant: each entry is decided on its own.
container_interactions := {"transaction", "batch", "capabilities"}

directory_types := {"Practitioner", "PractitionerRole", "Organization", "Location", "HealthcareService", "Endpoint"}

form_types := {"Questionnaire"}

p := input.principal

action := action_of[input.interaction.type]

# The types whose grants a decision needs: every type for a search (which
# may include other types), else the one acted on. Rules that grant many
# types draw from it so that a read does not build grants it cannot use.
considered_types := object.keys(patient_compartment) if {
	action == "search"
} else := {input.interaction.resource_type}

# --- who the caller is -------------------------------------------------------

is_client if p.kind in {"client", "bot"}

is_user if p.kind == "user"

has_role(r) if {
	is_user
	r in p.roles
}

# A practitioner whose identity and licence an admin has checked.
verified_practitioner if {
	has_role("practitioner")
	p.verified == true
}

# Unverified users: the explicit role, or a practitioner not yet verified.
unverified if has_role("unverified")

unverified if {
	has_role("practitioner")
	not p.verified == true
}

me := p.fhir_user

my_id := split(me, "/")[1]

my_type := split(me, "/")[0]

# The patient a patient user is: the launch context first, else fhirUser.
my_patient := concat("/", ["Patient", p.launch_patient]) if {
	p.launch_patient != ""
} else := me if {
	my_type == "Patient"
}

# The references a message may carry to reach the caller.
my_addresses contains me if me != ""

my_addresses contains p.organization if p.organization != ""

# --- grants -------------------------------------------------------------------

# System clients and bots: SMART scopes alone decide, as before policy existed.
grants contains {"type": "*", "actions": all_actions, "where": [], "reason": "system client: SMART scopes decide"} if is_client

# Every user with a role sees the directory, except auditors.
grants contains {"type": t, "actions": read_actions, "where": [], "reason": "the directory is open to users"} if {
	some r in {"admin", "practitioner", "unverified", "staff", "patient"}
	has_role(r)
	some t in directory_types
}

# Admins manage the directory of their tenant.
grants contains {"type": t, "actions": all_actions, "where": [], "reason": "admins manage the directory"} if {
	has_role("admin")
	some t in directory_types
}

# Admins and auditors read the audit log.
grants contains {"type": "AuditEvent", "actions": read_actions, "where": [], "reason": concat("", [r, "s read the audit log"])} if {
	some r in {"admin", "auditor"}
	has_role(r)
}

# Users may read and edit their own profile (read-only fields still apply).
grants contains {"type": my_type, "actions": {"read", "update"}, "where": [[id_match(my_id)]], "reason": "own profile"} if {
	some r in {"practitioner", "unverified", "staff"}
	has_role(r)
	my_type in {"Practitioner", "PractitionerRole"}
}

# Verified practitioners: messages they send or receive, or that go to their
# organisation.
grants contains {"type": "Communication", "actions": read_actions, "where": [[sender(my_addresses), recipient(my_addresses)]], "reason": "practitioners read their own and their organisation's messages"} if {
	verified_practitioner
	me != ""
}

grants contains {"type": "Communication", "actions": {"create", "update"}, "where": [[sender({me})]], "reason": "practitioners send messages as themselves"} if {
	verified_practitioner
	me != ""
}

# Verified practitioners and staff use forms.
grants contains {"type": t, "actions": read_actions, "where": [], "reason": "forms are open to clinicians"} if {
	some r in {"staff", "patient"}
	has_role(r)
	some t in form_types
}

grants contains {"type": t, "actions": read_actions, "where": [], "reason": "forms are open to clinicians"} if {
	verified_practitioner
	some t in form_types
}

grants contains {"type": "QuestionnaireResponse", "actions": {"read", "search", "create", "update"}, "where": [[author({me})]], "reason": "practitioners fill in forms as authors"} if {
	verified_practitioner
	me != ""
}

# Staff (not prescribers): the messages of their organisation.
grants contains {"type": "Communication", "actions": read_actions, "where": [[sender(my_addresses), recipient(my_addresses)]], "reason": "staff read their organisation's messages"} if {
	has_role("staff")
	me != ""
}

grants contains {"type": "Communication", "actions": {"create"}, "where": [[sender({me})]], "reason": "staff send messages as themselves"} if {
	has_role("staff")
	me != ""
}

# Clinicians (treating providers, the users of SMART apps in an EHR): their
# SMART scopes decide, as for system clients; in a launch with a patient
# context, only within that patient's compartment. The engine enforces the
# scopes (and the patient/ compartment) on top of this grant.
grants contains {"type": "*", "actions": all_actions, "where": [], "reason": "clinicians: SMART scopes decide"} if {
	has_role("clinician")
	p.launch_patient == ""
}

grants contains {"type": t, "actions": all_actions, "where": [compartment_clause(t, my_patient)], "reason": "clinicians in a launch: the launch patient's compartment"} if {
	has_role("clinician")
	p.launch_patient != ""
	some t in considered_types
	patient_compartment[t]
	t != "AuditEvent"
}

# Patients: their own compartment, read only, plus messages and forms they send.
grants contains {"type": t, "actions": read_actions, "where": [compartment_clause(t, my_patient)], "reason": "patients read their own compartment"} if {
	has_role("patient")
	my_patient
	some t in considered_types
	patient_compartment[t]
	t != "AuditEvent"
}

grants contains {"type": "Communication", "actions": {"create"}, "where": [[sender({my_patient})]], "reason": "patients send messages as themselves"} if {
	has_role("patient")
	my_patient
}

grants contains {"type": "QuestionnaireResponse", "actions": {"create"}, "where": [[subject({my_patient})]], "reason": "patients answer forms about themselves"} if {
	has_role("patient")
	my_patient
}

# --- matches ------------------------------------------------------------------

id_match(id) := {"param": "_id", "paths": [["id"]], "values": [id]}

sender(refs) := {"param": "sender", "paths": [["sender"]], "values": sort(refs)}

recipient(refs) := {"param": "recipient", "paths": [["recipient"]], "values": sort(refs)}

author(refs) := {"param": "author", "paths": [["author"]], "values": sort(refs)}

subject(refs) := {"param": "subject", "paths": [["subject"]], "values": sort(refs)}

# One clause: the resource belongs to the patient through any compartment
# parameter of its type (the Patient itself through its id).
compartment_clause("Patient", patient) := [id_match(split(patient, "/")[1])]

compartment_clause(t, patient) := [m |
	some e in patient_compartment[t]
	m := {"param": e.param, "paths": e.paths, "values": [patient]}
] if t != "Patient"

# --- fitting a grant to a resource -------------------------------------------

# where holds for resource when every clause has a match that fits.
fits(resource, where) if {
	every clause in where {
		some m in clause
		match_fits(resource, m)
	}
}

match_fits(resource, m) if {
	m.param == "_id"
	resource.id in m.values
}

match_fits(resource, m) if {
	m.param != "_id"
	some path in m.paths
	some node in nodes(resource, path)
	ref_is(node.reference, m.values)
}

# A reference fits a value exactly or as the tail of an absolute URL.
ref_is(ref, values) if ref in values

ref_is(ref, values) if {
	some v in values
	endswith(ref, concat("", ["/", v]))
}

as_list(x) := x if is_array(x)

as_list(x) := [x] if not is_array(x)

nodes(r, [a]) := as_list(r[a])

nodes(r, [a, b]) := [n | some x in as_list(r[a]); some n in as_list(x[b])]

nodes(r, [a, b, c]) := [n | some x in as_list(r[a]); some y in as_list(x[b]); some n in as_list(y[c])]

# --- the decision -------------------------------------------------------------

has_tenant if {
	is_string(p.tenant)
	p.tenant != ""
}

deny contains "no tenant in credentials" if not has_tenant

deny contains "unknown kind of principal" if {
	has_tenant
	not p.kind in {"user", "client", "bot"}
}

deny contains "AuditEvent is written by the server only" if {
	input.interaction.resource_type == "AuditEvent"
	action in {"create", "update", "delete"}
}

applicable contains g if {
	some g in grants
	g.type in {"*", input.interaction.resource_type}
	action in g.actions
}

# A type-level interaction needs a grant; an instance interaction needs a
# grant whose where fits the resource (and, for a change, the current
# version too). Without the resource (it does not exist) the type-level
# answer stands and the engine answers not-found.
fitting contains g if {
	some g in applicable
	not input.interaction.type in instance_interactions
}

fitting contains g if {
	some g in applicable
	input.interaction.type in instance_interactions
	not input.resource
}

fitting contains g if {
	some g in applicable
	input.interaction.type in instance_interactions
	fits(input.resource, g.where)
	current_fits(g)
}

# The decision is the same whatever resource (and current version) the
# input names, or none: every grant that applies fits any resource, and
# nothing else here reads the resource. The engine then decides once per
# caller and interaction instead of once per resource body. Keep it true:
# a rule that reads input.resource or input.current elsewhere must make it
# false for the inputs it concerns (TestResourceBlindHolds checks it).
resource_blind if {
	every g in applicable {
		g.where == []
	}
}

current_fits(_) if not input.current

current_fits(g) if fits(input.current, g.where)

default allow := false

allow if {
	count(deny) == 0
	count(fitting) > 0
}

allow if {
	count(deny) == 0
	input.interaction.type in container_interactions
}

reason := sort(deny)[0] if {
	count(deny) > 0
} else := sort([g.reason | some g in fitting])[0] if {
	count(fitting) > 0
} else := "a Bundle's entries are decided one by one" if {
	input.interaction.type in container_interactions
} else := concat("", ["no rule lets this caller ", object.get(action_of, input.interaction.type, input.interaction.type), " ", input.interaction.resource_type])

# Searches get every grant that allows searching, for every type: the engine
# needs them for _include and _revinclude as well as for the matches.
search_grants := [{"type": g.type, "where": g.where} | some g in grants; "search" in g.actions] if {
	action == "search"
} else := []

# --- fields -------------------------------------------------------------------

# A practitioner's birth date is for admins only.
hidden_fields contains "Practitioner.birthDate" if {
	is_user
	not has_role("admin")
}

# Identifiers (licence and national numbers) are for clinicians and admins.
hidden_fields contains "Practitioner.identifier" if {
	is_user
	not has_role("admin")
	not verified_practitioner
	not has_role("staff")
}

# What an admin verified stays as the admin set it.
read_only_fields contains f if {
	is_user
	not has_role("admin")
	some f in {"Practitioner.active", "Practitioner.identifier", "Practitioner.qualification"}
}

decision := {
	"allow": allow,
	"reason": reason,
	"hidden_fields": sort(hidden_fields),
	"read_only_fields": sort(read_only_fields),
	"search_grants": search_grants,
}
