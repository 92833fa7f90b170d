package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/hearth-fhir/hearth/auth"
	"github.com/hearth-fhir/hearth/crypt"
	"github.com/hearth-fhir/hearth/engine"
)

// The key endpoints of the admin API: rotate the caller's tenant's data
// key on the running server, and report its keys and the re-encryption.

// keyStatusJSON is engine.KeyStatus on the wire.
type keyStatusJSON struct {
	Tenant       string         `json:"tenant"`
	Current      int            `json:"currentVersion"`
	Counted      bool           `json:"counted"`
	Damaged      *int           `json:"damaged,omitempty"` // stored bodies whose envelopes do not parse
	Keys         []keyJSON      `json:"keys"`
	Reencryption *reencryptJSON `json:"reencryption,omitempty"`
}

type keyJSON struct {
	Version  int    `json:"version"`
	Current  bool   `json:"current"`
	Created  string `json:"created,omitempty"`
	KEK      string `json:"kek,omitempty"`
	NoKey    bool   `json:"noKey,omitempty"` // data under a version whose key is gone
	Elements *int   `json:"elements,omitempty"`
	Bodies   *int   `json:"bodies,omitempty"`
}

type reencryptJSON struct {
	Running   bool       `json:"running"`
	Version   int        `json:"targetVersion"`
	Pass      int        `json:"pass"`
	Done      int        `json:"done"`  // bodies looked at in this pass
	Total     int        `json:"total"` // bodies when this pass began
	Rewritten int        `json:"rewritten"`
	Failed    int        `json:"failed"`
	Failures  []string   `json:"failures,omitempty"` // Type/id/_history/v of what did not decrypt
	Started   time.Time  `json:"started"`
	Finished  *time.Time `json:"finished,omitempty"`
	Error     string     `json:"error,omitempty"`
}

func keyStatusOut(ks engine.KeyStatus) keyStatusJSON {
	out := keyStatusJSON{Tenant: ks.Tenant, Current: ks.Current, Counted: ks.Counted, Keys: []keyJSON{}}
	for _, k := range ks.Keys {
		kj := keyJSON{Version: k.Version, Current: k.Current, KEK: k.KEKID, NoKey: k.NoKey}
		if !k.CreatedAt.IsZero() {
			kj.Created = k.CreatedAt.UTC().Format(time.RFC3339)
		}
		if ks.Counted {
			kj.Elements, kj.Bodies = &k.Elements, &k.Bodies
		}
		out.Keys = append(out.Keys, kj)
	}
	if ks.Counted {
		out.Damaged = &ks.Damaged
	}
	if st := ks.Reencryption; !st.Started.IsZero() {
		out.Reencryption = reencryptOut(st)
	}
	return out
}

func reencryptOut(st crypt.ReencryptStatus) *reencryptJSON {
	p := st.Progress
	r := &reencryptJSON{Running: st.Running, Version: p.Version, Pass: p.Pass, Done: p.Scanned, Total: p.Total,
		Rewritten: p.Rewritten, Failed: p.Failed, Started: st.Started.UTC()}
	for _, f := range p.Failures {
		r.Failures = append(r.Failures, f.Type+"/"+f.ID+"/_history/"+strconv.FormatInt(f.Version, 10))
	}
	if !st.Finished.IsZero() {
		fin := st.Finished.UTC()
		r.Finished = &fin
	}
	if st.Err != nil {
		// What happened, without the store's or the key service's detail.
		r.Error = "re-encryption did not finish; see the server log and the $reencrypt AuditEvent"
	}
	return r
}

// adminRotateKeys makes a new data key version for the caller's tenant and
// starts re-encrypting in the background: 202 with the status.
func (p *Pages) adminRotateKeys(w http.ResponseWriter, r *http.Request) {
	cl, ok := p.adminClaims(w, r)
	if !ok {
		return
	}
	ks, err := p.engine.RotateKeys(r.Context(), adminPrincipal(r, cl))
	if err != nil {
		p.apiFail(w, r, err)
		return
	}
	writeAPI(w, http.StatusAccepted, keyStatusOut(ks))
}

// adminKeyStatus reports the caller's tenant's keys. It counts the stored
// elements under each version unless ?counts=false (counting reads every
// stored body of the tenant).
func (p *Pages) adminKeyStatus(w http.ResponseWriter, r *http.Request) {
	cl, ok := p.adminClaims(w, r)
	if !ok {
		return
	}
	ks, err := p.engine.KeyStatus(r.Context(), adminPrincipal(r, cl), r.URL.Query().Get("counts") != "false")
	if err != nil {
		p.apiFail(w, r, err)
		return
	}
	writeAPI(w, http.StatusOK, keyStatusOut(ks))
}

// adminPrincipal is the administrator as the engine audits it.
func adminPrincipal(r *http.Request, cl auth.Claims) engine.Principal {
	kind := "client"
	if cl.UserID() != "" {
		kind = "user"
	}
	return engine.Principal{Tenant: cl.Tenant, Subject: cl.Subject, ClientID: cl.ClientID, FhirUser: cl.FhirUser,
		Roles: cl.Roles, Organization: cl.Organization, Verified: cl.Verified, Kind: kind, Address: auth.RemoteAddress(r)}
}
