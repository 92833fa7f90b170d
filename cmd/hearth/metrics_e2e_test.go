package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestServeMetricsAndRotation runs `hearth serve --metrics-addr`: the
// metrics answer on their own listener and not on the API's, and a key
// rotation through the admin API runs to its end on the running binary.
func TestServeMetricsAndRotation(t *testing.T) {
	storage := storageArgs(t, "sqlite")
	metricsAddr := freeAddr(t)
	p := startServer(t, freeAddr(t), append(storage, "--metrics-addr", metricsAddr))
	token := newToken(t, p.base, storage)
	get := func(url string, auth bool) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", url, nil)
		if auth {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get(p.base+"/metrics", false); code != 404 {
		t.Errorf("/metrics on the API listener: %d, want 404", code)
	}

	req, _ := http.NewRequest("POST", p.base+"/admin/keys/rotate", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 202 {
		t.Fatalf("rotate: %d", resp.StatusCode)
	}
	var st struct {
		CurrentVersion int
		Reencryption   struct{ Running bool }
	}
	// The re-encryption waits one key refresh interval (5 s) for other
	// servers before its last pass.
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(200 * time.Millisecond) {
		code, body := get(p.base+"/admin/keys/status", true)
		if code != 200 || json.Unmarshal([]byte(body), &st) != nil {
			t.Fatalf("status: %d %s", code, body)
		}
		if !st.Reencryption.Running {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still re-encrypting after a minute: %s", body)
		}
	}
	if st.CurrentVersion != 2 {
		t.Errorf("current version %d after rotation", st.CurrentVersion)
	}
	code, m := get("http://"+metricsAddr+"/metrics", false)
	for _, want := range []string{
		`hearth_http_requests_total{class="2xx",interaction="admin"}`,
		`hearth_http_requests_total{class="2xx",interaction="oauth2"}`,
		`hearth_reencrypt_running{tenant="default"} 0`,
		`hearth_reencrypt_target_version{tenant="default"} 2`,
		`go_goroutines`,
	} {
		if code != 200 || !strings.Contains(m, want) {
			t.Errorf("metrics (%d) lack %s", code, want)
		}
	}
}
