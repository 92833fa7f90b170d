package loadgen

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
)

// pagingQuery is W8's search: every Communication, newest first, in the
// largest pages servers commonly allow.
const pagingQuery = "Communication?_sort=-_lastUpdated&_count=1000"

// paging is W8: each worker pages through every Communication (the seeded
// set of SeedCount and whatever else was written) by following next links,
// then starts over. The rate counts resources; the peak RSS column shows
// whether the server's memory stays flat while it streams them.
func (s *Suite) paging() Workload {
	return Workload{
		Name: "W8", Title: "page through " + pagingQuery, Unit: "resources/s",
		Setup: func(ctx context.Context) error {
			if err := s.probeSearch(ctx, pagingQuery); err != nil {
				return err
			}
			return s.seedSearch(ctx)
		},
		NewWorker: func(ctx context.Context, i, n int) (Op, error) {
			next := ""
			return func(ctx context.Context) (int, error) {
				q := pagingQuery
				if next != "" {
					q = next
				}
				body, err := s.c.Search(ctx, q)
				if err != nil {
					next = ""
					return 0, err
				}
				var page struct {
					Link []struct {
						Relation string `json:"relation"`
						URL      string `json:"url"`
					} `json:"link"`
					Entry []json.RawMessage `json:"entry"`
				}
				if err := json.Unmarshal(body, &page); err != nil {
					return 0, fmt.Errorf("search page: %w", err)
				}
				next = ""
				for _, l := range page.Link {
					if l.Relation == "next" {
						if next, err = s.relative(l.URL); err != nil {
							return 0, err
						}
					}
				}
				return len(page.Entry), nil
			}, nil
		},
	}
}

// relative turns a link the server gave into a path under the base the
// client uses (servers may name themselves by another host).
func (s *Suite) relative(link string) (string, error) {
	if strings.HasPrefix(link, s.c.Base()+"/") {
		return strings.TrimPrefix(link, s.c.Base()+"/"), nil
	}
	u, err := url.Parse(link)
	if err != nil {
		return "", fmt.Errorf("next link %q: %w", link, err)
	}
	base, err := url.Parse(s.c.Base())
	if err != nil {
		return "", err
	}
	path := strings.TrimPrefix(strings.TrimPrefix(u.Path, base.Path), "/")
	if u.RawQuery != "" {
		path += "?" + u.RawQuery
	}
	return path, nil
}
