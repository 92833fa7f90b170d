package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hearth-fhir/hearth/store/postgres/pgtest"
)

// binary is the hearth binary built once for the end-to-end tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "hearth-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "hearth")
	// Every server and command of these tests gets a master key, so that
	// none generates one into a default data directory under the source
	// tree; keys_test.go clears it where it tests generation.
	os.Setenv("HEARTH_MASTER_KEY", "aGVhcnRoLWUyZS10ZXN0cy1tYXN0ZXIta2V5LTMyYnk=")
	// Nor tenant keys into ./hearth-data/tenant-keys (a PostgreSQL command
	// without --data-dir would put them there).
	os.Setenv("HEARTH_TENANT_KEY_DIR", filepath.Join(dir, "tenant-keys"))
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build hearth:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// process is a running `hearth serve`.
type process struct {
	cmd  *exec.Cmd
	base string
	log  *syncBuffer
}

// syncBuffer is the server's output, written by exec's copying goroutine
// while a test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (p *process) logString() string { return p.log.String() }

// storageArgs returns the storage flags for a fresh store of backend.
func storageArgs(t *testing.T, backend string) []string {
	if backend == "postgres" {
		return []string{"--database-url", pgtest.URL(t)}
	}
	return []string{"--data-dir", t.TempDir()}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startServer runs hearth serve on addr and waits until metadata answers.
func startServer(t *testing.T, addr string, storage []string) *process {
	t.Helper()
	p := &process{base: "http://" + addr, log: &syncBuffer{}}
	p.cmd = exec.Command(binary, append([]string{"serve", "--addr", addr}, storage...)...)
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.cmd.Process.Kill(); p.cmd.Wait() })
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(p.base + "/fhir/metadata"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("hearth serve did not answer on %s; log:\n%s", addr, p.log)
	return nil
}

// newClient runs `hearth client create` and returns a token for it.
func newToken(t *testing.T, base string, storage []string) string {
	t.Helper()
	out, err := exec.Command(binary, append([]string{"client", "create", "--name", "e2e", "--scope", "system/*.cruds"}, storage...)...).Output()
	if err != nil {
		t.Fatalf("client create: %v", err)
	}
	var creds struct{ ClientID, ClientSecret string }
	var raw map[string]string
	if err := json.Unmarshal(out, &raw); err != nil {
		t.Fatalf("client create printed %q", out)
	}
	creds.ClientID, creds.ClientSecret = raw["client_id"], raw["client_secret"]
	req, _ := http.NewRequest("POST", base+"/oauth2/token", strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(creds.ClientID, creds.ClientSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
	}
	body, _ := io.ReadAll(resp.Body)
	if json.Unmarshal(body, &tok) != nil || tok.AccessToken == "" || !strings.EqualFold(tok.TokenType, "bearer") {
		t.Fatalf("token endpoint answered %d %s", resp.StatusCode, body)
	}
	return tok.AccessToken
}

// TestCreatesSurviveSIGKILL kills the server in the middle of a stream of
// creates and checks that every create that got a 201 is readable, with the
// same body, after a restart.
func TestCreatesSurviveSIGKILL(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			storage := storageArgs(t, backend)
			addr := freeAddr(t)
			p := startServer(t, addr, storage)
			token := newToken(t, p.base, storage)

			var (
				mu    sync.Mutex
				acked = map[string][]byte{} // Location → body returned with the 201
				wg    sync.WaitGroup
			)
			client := &http.Client{Timeout: 5 * time.Second}
			stop := time.Now().Add(10 * time.Second) // bound, should the kill not land
			for w := 0; w < 4; w++ {
				wg.Add(1)
				go func(w int) {
					defer wg.Done()
					for i := 0; i < 2000 && time.Now().Before(stop); i++ {
						body := fmt.Sprintf(`{"resourceType":"Communication","status":"completed","payload":[{"contentString":"w%d-%d"}]}`, w, i)
						req, _ := http.NewRequest("POST", p.base+"/fhir/Communication", strings.NewReader(body))
						req.Header.Set("Authorization", "Bearer "+token)
						req.Header.Set("Content-Type", "application/fhir+json")
						resp, err := client.Do(req)
						if err != nil {
							return // the server is gone
						}
						b, _ := io.ReadAll(resp.Body)
						resp.Body.Close()
						if resp.StatusCode == http.StatusCreated {
							mu.Lock()
							acked[resp.Header.Get("Location")] = b
							mu.Unlock()
						}
					}
				}(w)
			}
			time.Sleep(1500 * time.Millisecond)
			if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			p.cmd.Wait()
			wg.Wait()
			if len(acked) < 20 {
				t.Fatalf("only %d creates acknowledged before the kill; the test proves little", len(acked))
			}

			p2 := startServer(t, addr, storage)
			for loc, body := range acked {
				req, _ := http.NewRequest("GET", strings.Replace(loc, p.base, p2.base, 1), nil)
				req.Header.Set("Authorization", "Bearer "+token)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				got, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || !bytes.Equal(got, body) {
					t.Fatalf("%s after restart: %d %s", loc, resp.StatusCode, got)
				}
			}
			t.Logf("%s: %d acknowledged creates all readable after SIGKILL and restart", backend, len(acked))
		})
	}
}

// TestMigrateCommand: `hearth migrate` applies the embedded migrations to an
// empty store and is a no-op the second time, on both backends.
func TestMigrateCommand(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			storage := storageArgs(t, backend)
			for i := 0; i < 2; i++ {
				out, err := exec.Command(binary, append([]string{"migrate"}, storage...)...).CombinedOutput()
				if err != nil || !strings.Contains(string(out), "migrations applied") {
					t.Fatalf("migrate run %d: %v\n%s", i+1, err, out)
				}
			}
			out, err := exec.Command(binary, "migrate", "--database-url", "mysql://x").CombinedOutput()
			if err == nil || !strings.Contains(string(out), "postgres://") {
				t.Fatalf("a non-postgres URL was accepted: %s", out)
			}
		})
	}
}
