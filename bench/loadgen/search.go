package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// BackgroundStatus is the status of every Communication written outside
// the W3/W4 seeded set (W1, W2, W6, W7 and the raw ceiling's writes). It is
// never searched for, so those writes leave W3's match counts exact.
const BackgroundStatus = "in-progress"

// Selectivity is one W3 variant: a status code that matches a known share
// of the seeded Communications.
type Selectivity struct {
	Name   string // "high", "low", "unique"
	Status string // the code searched for
}

// Selectivities are W3's variants. The seeded set has half its
// Communications "completed", 0.1 % "on-hold" and exactly one
// "entered-in-error"; the rest are "in-progress". The same query shape
// on skewed codes is where a generic plan goes wrong.
func Selectivities() []Selectivity {
	return []Selectivity{{"high", "completed"}, {"low", "on-hold"}, {"unique", "entered-in-error"}}
}

// SeedStatuses returns the status of each of n seeded Communications in
// creation order: the distribution of Selectivities, shuffled with intn (a
// random source) so that rare codes are spread over time.
func SeedStatuses(n int, intn func(int) int) []string {
	out := make([]string, n)
	low := max(n/1000, 1)
	for i := range out {
		switch {
		case i == 0:
			out[i] = "entered-in-error"
		case i <= low:
			out[i] = "on-hold"
		case i < n/2+1+low:
			out[i] = "completed"
		default:
			out[i] = BackgroundStatus
		}
	}
	for i := n - 1; i > 0; i-- { // Fisher–Yates
		j := intn(i + 1)
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// tokenQuery is W3's search for one status.
func tokenQuery(status string) string {
	return "Communication?status=" + url.QueryEscape(status) + "&_sort=-_lastUpdated&_count=20"
}

// tokenSearch is W3: a token search sorted by _lastUpdated, first page,
// at three selectivities over the seeded set.
func (s *Suite) tokenSearch() []Workload {
	var out []Workload
	for _, sel := range Selectivities() {
		q := tokenQuery(sel.Status)
		out = append(out, Workload{
			Name: "W3-" + sel.Name, Title: "search " + q, Ceiling: "raw-search-" + sel.Name,
			AuditedCeiling: "raw-search-" + sel.Name + "-audited",
			Setup: func(ctx context.Context) error {
				if err := s.probeSearch(ctx, q); err != nil {
					return err
				}
				return s.seedSearch(ctx)
			},
			NewWorker: func(ctx context.Context, i, n int) (Op, error) {
				return func(ctx context.Context) (int, error) {
					_, err := s.c.Search(ctx, q)
					return 1, err
				}, nil
			},
		})
	}
	return out
}

// include is W4: the messages addressed to a practitioner with their
// senders in the same Bundle.
func (s *Suite) include() Workload {
	query := func(practitioner string) string {
		return "Communication?recipient=" + url.QueryEscape("Practitioner/"+practitioner) +
			"&_include=Communication:sender&_count=20"
	}
	return Workload{
		Name: "W4", Title: "search Communication?recipient=…&_include=Communication:sender",
		Setup: func(ctx context.Context) error {
			if err := s.ensureRefs(ctx); err != nil {
				return err
			}
			if err := s.probeSearch(ctx, query(s.refs.Practitioners[0])); err != nil {
				return err
			}
			return s.seedSearch(ctx)
		},
		NewWorker: func(ctx context.Context, i, n int) (Op, error) {
			r := s.rng(i)
			return func(ctx context.Context) (int, error) {
				_, err := s.c.Search(ctx, query(s.searchPractitioners[r.IntN(len(s.searchPractitioners))]))
				return 1, err
			}, nil
		},
	}
}

// probeSearch runs q once before anything is seeded: a server without
// search (Hearth answers 501 until its search issue lands) makes the
// workload unsupported without minutes of seeding.
func (s *Suite) probeSearch(ctx context.Context, q string) error {
	_, err := s.c.Search(ctx, q)
	var se *StatusError
	if errors.As(err, &se) {
		switch se.Status {
		case http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusNotImplemented:
			return &UnsupportedError{Status: se.Status, What: "search"}
		}
	}
	return err
}

// seedSearch makes the W3/W4 set ready once: SeedCount Communications
// with the statuses of SeedStatuses, between the referenced practitioners.
// A set an earlier run seeded on the same server with the same SeedCount
// is used as it is; seeding it again would double every match count.
func (s *Suite) seedSearch(ctx context.Context) error {
	s.searchOnce.Do(func() {
		r := s.rng(-2)
		statuses := SeedStatuses(s.opt.SeedCount, r.IntN)
		found, err := s.findSearchSet(ctx, statuses)
		if err != nil || found != nil {
			s.searchPractitioners, s.searchErr = found, err
			return
		}
		if s.searchErr = s.ensureRefs(ctx); s.searchErr != nil {
			return
		}
		s.searchPractitioners = s.refs.Practitioners
		if s.opt.Progress != nil {
			fmt.Fprintf(s.opt.Progress, "  seeding %d Communications for search\n", len(statuses))
		}
		_, s.searchErr = s.createMany(ctx, "Communication", len(statuses), func(i int) []byte {
			return communication(s.seedMessage(searchSetSeeds+i, statuses[i]))
		})
		if s.searchErr == nil {
			s.checkSelectivities(ctx, statuses)
		}
	})
	return s.searchErr
}

// findSearchSet counts the server's Communications with each of W3's
// statuses, which only the seeded set has. None: nil, and the set is to be
// seeded. Exactly the counts of statuses: the set of an earlier run, and
// the practitioners its messages are addressed to (W4's). Anything else is
// an error, since the match counts would not be W3's.
func (s *Suite) findSearchSet(ctx context.Context, statuses []string) ([]string, error) {
	want := map[string]int{}
	for _, st := range statuses {
		want[st]++
	}
	var have, expect []string
	some, same := false, true
	for _, sel := range Selectivities() {
		n, ok, err := s.count(ctx, "Communication?status="+url.QueryEscape(sel.Status))
		if err != nil {
			return nil, err
		}
		if !ok {
			if s.opt.Progress != nil {
				fmt.Fprintf(s.opt.Progress, "  warning: the server does not count searches (_summary=count); seeding without looking for an earlier run's set\n")
			}
			return nil, nil
		}
		some = some || n > 0
		same = same && n == want[sel.Status]
		have = append(have, fmt.Sprintf("%s %d", sel.Status, n))
		expect = append(expect, fmt.Sprintf("%s %d", sel.Status, want[sel.Status]))
	}
	switch {
	case !some:
		return nil, nil
	case !same:
		return nil, fmt.Errorf("the server holds Communications with W3's statuses (%s) that are not a seeded set of %d (%s): "+
			"run against an empty database, or with the --seed-count of the set it holds", strings.Join(have, ", "), len(statuses), strings.Join(expect, ", "))
	}
	// Two recipients per message from RefPractitioners: a page of the
	// largest status names them all but by a vanishing chance.
	body, err := s.c.Search(ctx, "Communication?status="+url.QueryEscape(Selectivities()[0].Status)+"&_count=200")
	if err != nil {
		return nil, err
	}
	found, err := recipients(body)
	if err != nil {
		return nil, err
	}
	if s.opt.Progress != nil {
		fmt.Fprintf(s.opt.Progress, "  using the search set of %d Communications an earlier run seeded (%d practitioners)\n",
			len(statuses), len(found))
	}
	return found, nil
}

// count is the total of a count-only search (_summary=count); ok is false
// when the server's answer has none.
func (s *Suite) count(ctx context.Context, query string) (n int, ok bool, err error) {
	body, err := s.c.Search(ctx, query+"&_summary=count")
	if err != nil {
		return 0, false, err
	}
	var b struct {
		Total *int `json:"total"`
	}
	if err := json.Unmarshal(body, &b); err != nil {
		return 0, false, fmt.Errorf("count of %s: %w", query, err)
	}
	if b.Total == nil {
		return 0, false, nil
	}
	return *b.Total, true, nil
}

// recipients returns the ids of the Practitioners a searchset's
// Communications are addressed to, sorted, each once.
func recipients(bundle []byte) ([]string, error) {
	var b struct {
		Entry []struct {
			Resource struct {
				Recipient []struct {
					Reference string `json:"reference"`
				} `json:"recipient"`
			} `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(bundle, &b); err != nil {
		return nil, fmt.Errorf("search set: %w", err)
	}
	var out []string
	for _, e := range b.Entry {
		for _, r := range e.Resource.Recipient {
			// Relative or absolute: the id follows the last "Practitioner/".
			i := strings.LastIndex(r.Reference, "Practitioner/")
			if i < 0 {
				continue
			}
			if id := r.Reference[i+len("Practitioner/"):]; id != "" && !slices.Contains(out, id) {
				out = append(out, id)
			}
		}
	}
	if len(out) == 0 {
		return nil, errors.New("search set: its messages name no recipient Practitioner")
	}
	slices.Sort(out)
	return out, nil
}

// checkSelectivities warns when the server's first pages do not hold the
// number of matches the seeded set implies, e.g. because the database
// held Communications before the run.
func (s *Suite) checkSelectivities(ctx context.Context, statuses []string) {
	if s.opt.Progress == nil {
		return
	}
	want := map[string]int{}
	for _, st := range statuses {
		want[st]++
	}
	for _, sel := range Selectivities() {
		body, err := s.c.Search(ctx, tokenQuery(sel.Status))
		var b struct {
			Entry []json.RawMessage `json:"entry"`
		}
		if err != nil || json.Unmarshal(body, &b) != nil {
			continue
		}
		if exp := min(want[sel.Status], 20); len(b.Entry) != exp {
			fmt.Fprintf(s.opt.Progress, "  warning: W3-%s first page has %d entries, the seeded set implies %d\n",
				sel.Name, len(b.Entry), exp)
		}
	}
}
