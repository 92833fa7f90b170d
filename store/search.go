package store

import (
	"context"

	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/fhir/search"
)

// SearchQuery is a search as the store runs it: parsed criteria (from
// fhir/search) plus what the caller adds. Every part compiles into SQL over
// the index tables; nothing is filtered after the fact, so counts and pages
// are exact.
type SearchQuery struct {
	// Types are the resource types searched; empty means every type.
	Types []string
	// Where holds criteria that must all hold.
	Where []search.Criterion
	// Constraints narrow what the caller may see, for access policy. They
	// apply wherever resources of their type are selected: the matches,
	// the resources a chain or _has looks at, and included resources.
	Constraints []Constraint
	// Sort orders the matches; ties (and a query without Sort) are broken
	// by id, then type.
	Sort []search.SortKey
	// Count is the page size; 0 returns no records (a count only).
	Count int
	// Cursor continues from a previous page; nil starts at the first.
	Cursor *Cursor
	// Total asks for the number of all matches, not just this page's.
	Total bool
	// Include lists _include and _revinclude; MaxInclude bounds how many
	// resources they add to a page.
	Include    []search.Include
	MaxInclude int
	// IDsOnly returns matches without bodies (for conditional
	// interactions, which only need to know which resources match).
	IDsOnly bool
}

// Constraint is an access-policy restriction on one resource type ("*":
// every type): its Where criteria must hold for every resource of that
// type a search selects, or with Deny no resource of the type is selected
// at all.
type Constraint struct {
	Type  string
	Where []search.Criterion
	Deny  bool
}

// Cursor is a position in a sorted result: the sort key values of the row a
// page ended on (Keys, one per SortKey: string, int64, float64 or nil) and
// its id and type. Backward pages towards the start.
type Cursor struct {
	Keys     []any
	ID       string
	Type     string
	Backward bool
}

// SearchPage is one page of a search.
type SearchPage struct {
	Records  []Record // the matches, in order
	Included []Record // what _include and _revinclude added
	// Total is the number of all matches when SearchQuery.Total asked for
	// it, else -1.
	Total int64
	// Next and Prev are the cursors of the neighbouring pages, nil at either end.
	Next, Prev *Cursor
}

// Searcher runs searches.
type Searcher interface {
	// Search returns one page of the current, non-deleted resources that
	// match q.
	Search(ctx context.Context, tenant string, q SearchQuery) (SearchPage, error)
}

// TxSearcher runs a search inside a transaction, seeing its writes.
type TxSearcher interface {
	Search(ctx context.Context, q SearchQuery) (SearchPage, error)
}

// ErrBadCursor refuses a cursor that does not fit the search it is used
// with (another _sort, or a forged value).
var ErrBadCursor = fhir.Errorf(fhir.KindInvalid, "the paging cursor does not fit this search; start again from the first page")

// Analyzer is an optional store capability: refreshing the query planner's
// statistics of the resource and index tables (on PostgreSQL with VACUUM,
// which also builds the visibility map index-only scans need). Search plans depend on
// them; until PostgreSQL's autovacuum has analyzed freshly loaded tables
// it assumes they are nearly empty and may pick nested loops that take
// minutes on a few thousand rows. Bulk loads call Analyze when they end.
type Analyzer interface {
	Analyze(ctx context.Context) error
}
