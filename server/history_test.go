package server_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/hearth-fhir/hearth/hearthtest"
)

func TestHistoryPaging(t *testing.T) {
	forEachBackend(t, func(t *testing.T, srv *hearthtest.Server) {
		c := client{t: t, srv: srv, token: srv.Token("default", "system/*.cruds")}
		var ids []string
		for i := 0; i < 5; i++ {
			r := c.do("POST", "/Patient", fmt.Sprintf(`{"resourceType":"Patient","birthDate":"1990-01-0%d"}`, i+1))
			ids = append(ids, r.expect(t, http.StatusCreated).json(t)["id"].(string))
		}
		mid := time.Now().UTC()
		time.Sleep(5 * time.Millisecond)
		c.do("PUT", "/Patient/"+ids[0], `{"resourceType":"Patient","id":"`+ids[0]+`","gender":"female"}`).expect(t, http.StatusOK)
		c.do("POST", "/Communication", communication).expect(t, http.StatusCreated)

		// Page through type history two at a time while new writes land:
		// they must neither repeat nor shift entries of the pages that follow.
		seen := map[string]bool{}
		next := "/Patient/_history?_count=2"
		pages := 0
		for next != "" {
			page := c.do("GET", next, "").expect(t, http.StatusOK).json(t)
			pages++
			for _, e := range entries(page) {
				key := e["fullUrl"].(string) + "@" + e["response"].(map[string]any)["etag"].(string)
				if seen[key] {
					t.Fatalf("entry %s repeated", key)
				}
				seen[key] = true
			}
			next = link(page, "next")
			c.do("POST", "/Patient", `{"resourceType":"Patient"}`).expect(t, http.StatusCreated)
		}
		if len(seen) != 6 || pages != 3 {
			t.Fatalf("saw %d versions in %d pages, want 6 in 3", len(seen), pages)
		}

		since := c.do("GET", "/Patient/"+ids[0]+"/_history?_since="+mid.Format(time.RFC3339Nano), "").expect(t, http.StatusOK).json(t)
		if n := len(entries(since)); n != 1 {
			t.Fatalf("_since kept %d versions, want 1", n)
		}
		system := c.do("GET", "/_history?_count=100", "").expect(t, http.StatusOK).json(t)
		types := map[string]int{}
		for _, e := range entries(system) {
			types[e["request"].(map[string]any)["url"].(string)[:3]]++
		}
		if types["Com"] != 1 || types["Pat"] < 9 {
			t.Fatalf("system history by type prefix %v", types)
		}
	})
}

func TestConcurrentIfMatch(t *testing.T) {
	forEachBackend(t, func(t *testing.T, srv *hearthtest.Server) {
		c := client{t: t, srv: srv, token: srv.Token("default", "system/*.cruds")}
		for round := 0; round < 5; round++ {
			id := c.do("POST", "/Patient", `{"resourceType":"Patient"}`).expect(t, http.StatusCreated).json(t)["id"].(string)
			var wg sync.WaitGroup
			statuses := make([]int, 2)
			for i := range statuses {
				wg.Add(1)
				go func() {
					defer wg.Done()
					body := fmt.Sprintf(`{"resourceType":"Patient","id":"%s","birthDate":"200%d-01-01"}`, id, i)
					statuses[i] = c.do("PUT", "/Patient/"+id, body, "If-Match", `W/"1"`).status
				}()
			}
			wg.Wait()
			ok, failed := 0, 0
			for _, s := range statuses {
				switch s {
				case http.StatusOK:
					ok++
				case http.StatusPreconditionFailed:
					failed++
				}
			}
			if ok != 1 || failed != 1 {
				t.Fatalf("statuses %v, want one 200 and one 412", statuses)
			}
			v := c.do("GET", "/Patient/"+id, "").expect(t, http.StatusOK).json(t)["meta"].(map[string]any)["versionId"]
			if v != "2" {
				t.Fatalf("version %v after the race, want 2", v)
			}
		}
	})
}

func entries(bundle map[string]any) []map[string]any {
	var out []map[string]any
	list, _ := bundle["entry"].([]any)
	for _, e := range list {
		out = append(out, e.(map[string]any))
	}
	return out
}

func link(bundle map[string]any, relation string) string {
	list, _ := bundle["link"].([]any)
	for _, l := range list {
		m := l.(map[string]any)
		if m["relation"] == relation {
			return m["url"].(string)
		}
	}
	return ""
}
