package engine_test

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/hearth-fhir/hearth/audit"
	"github.com/hearth-fhir/hearth/crypt"
	"github.com/hearth-fhir/hearth/engine"
	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/store"
)

// TestRotateKeysOnServer rotates through the engine, as the admin API does,
// over a tenant with one damaged stored version: the rotation answers at
// once and refuses a second while it runs, the background re-encryption
// moves everything else to the new version and leaves the damaged version
// as it was, and its end is audited as a serious failure naming that
// version.
func TestRotateKeysOnServer(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			if err := b.st.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			w, _ := crypt.NewLocalWrapper(bytes.Repeat([]byte{0x5a}, crypt.KeySize))
			// The re-encryption's last pass waits a refresh interval: long
			// enough for the second rotation below to find it running.
			ring := crypt.NewRing(b.st.(crypt.KeyStore), w, crypt.WithRefresh(time.Second))
			jobs := crypt.NewReencryptions(ring, b.st.(crypt.BodyStore))
			v, _ := fhir.NewValidator()
			e := engine.New(b.st, v, engine.DefaultConfig(), engine.WithAudit(audit.NewLog(audit.ServerRef{Name: "hearth"})),
				engine.WithEncryption(engine.Encryption{Ring: ring, Elements: crypt.DefaultElements(), Reencryptions: jobs}))
			t.Cleanup(e.Close)
			t.Cleanup(jobs.Close) // first: the end of a job is audited
			p := principal(t, "clinic")
			var ids []string
			for range 3 {
				res, err := e.Create(ctx, p, "Patient", []byte(markedResources[0].body), engine.CreateOptions{})
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, res.Record.ID)
			}
			// One character of a nonce changed for another base64 one: the
			// envelope still parses, the ciphertext no longer authenticates.
			damaged := b.rawBody(t, "resources", ids[1], 1)
			i := bytes.Index(damaged, []byte(`{"_enc":"`)) + 20
			damaged[i] = map[bool]byte{true: 'B', false: 'A'}[damaged[i] == 'A']
			b.setBody(t, "resources", ids[1], damaged)
			// And one that is not base64 any more: it does not even parse.
			malformed := b.rawBody(t, "resources", ids[2], 1)
			malformed[bytes.Index(malformed, []byte(`{"_enc":"`))+20] = '@'
			b.setBody(t, "resources", ids[2], malformed)

			ks, err := e.KeyStatus(ctx, p, true)
			if err != nil || ks.Current != 1 || len(ks.Keys) != 1 || ks.Keys[0].Bodies != 5 || ks.Damaged != 1 || !ks.Reencryption.Started.IsZero() {
				t.Fatalf("status before: %+v, %v", ks, err)
			}
			ks, err = e.RotateKeys(ctx, p)
			if err != nil || ks.Current != 2 || !ks.Reencryption.Running || ks.Reencryption.Progress.Version != 2 {
				t.Fatalf("RotateKeys = %+v, %v", ks, err)
			}
			if _, err := e.RotateKeys(ctx, p); !fhir.IsKind(err, fhir.KindConflict) {
				t.Errorf("a second rotation while re-encrypting: %v, want a conflict", err)
			}
			for deadline := time.Now().Add(time.Minute); ks.Reencryption.Running; time.Sleep(20 * time.Millisecond) {
				if ks.Reencryption.Progress.Scanned > ks.Reencryption.Progress.Total {
					t.Errorf("progress %d/%d", ks.Reencryption.Progress.Scanned, ks.Reencryption.Progress.Total)
				}
				if ks, err = e.KeyStatus(ctx, p, false); err != nil || time.Now().After(deadline) {
					t.Fatalf("status: %+v, %v", ks, err)
				}
			}
			re := ks.Reencryption
			if re.Err == nil || re.Progress.Failed != 2 || len(re.Progress.Failures) != 2 ||
				!slices.Contains(re.Progress.Failures, crypt.BodyRef{Current: true, Type: "Patient", ID: ids[1], Version: 1}) ||
				!slices.Contains(re.Progress.Failures, crypt.BodyRef{Current: true, Type: "Patient", ID: ids[2], Version: 1}) {
				t.Errorf("re-encryption ended as %+v", re)
			}
			ks, err = e.KeyStatus(ctx, p, true)
			if err != nil || len(ks.Keys) != 2 || ks.Keys[0].Bodies != 1 || ks.Keys[1].Bodies != 4 || ks.Damaged != 1 {
				t.Errorf("status after: %+v (%d damaged), %v; want the damaged bodies alone left behind", ks.Keys, ks.Damaged, err)
			}

			// $rotate-keys twice (done, refused) and $reencrypt (failed,
			// naming the damaged version).
			entries, err := b.st.(store.AuditLog).ScanAudit(ctx, "clinic", store.AuditQuery{})
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]bool{`$rotate-keys 0`: false, `$rotate-keys 4`: false, `$reencrypt 8 Patient/` + ids[1] + `/_history/1`: false,
				`$reencrypt 8 Patient/` + ids[2] + `/_history/1`: false}
			for _, en := range entries {
				for key := range want {
					var op, outcome, what string
					parts := bytes.Fields([]byte(key))
					op, outcome = string(parts[0]), string(parts[1])
					if len(parts) > 2 {
						what = string(parts[2])
					}
					if bytes.Contains(en.Body, []byte(`"code":"`+op+`"`)) && bytes.Contains(en.Body, []byte(`"outcome":"`+outcome+`"`)) &&
						bytes.Contains(en.Body, []byte(what)) {
						want[key] = true
					}
				}
			}
			for key, ok := range want {
				if !ok {
					t.Errorf("no AuditEvent %s", key)
				}
			}

			// Without encryption there is nothing to rotate.
			plain := newEngine(t, b.st, nil, nil)
			if _, err := plain.RotateKeys(ctx, p); !fhir.IsKind(err, fhir.KindNotSupported) {
				t.Errorf("RotateKeys without encryption: %v", err)
			}
		})
	}
}
