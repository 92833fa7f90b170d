package search

// Query is a parsed search: what to match (Criteria, all of which must
// hold) and how to present it (the result parameters).
type Query struct {
	// Types are the resource types searched: one for a type-level search,
	// those of _type (or none, meaning all) for a system-level search.
	Types    []string
	Criteria []Criterion
	Sort     []SortKey
	Count    int    // _count; -1 when not given
	Cursor   string // _cursor, opaque, from a previous page's link
	Total    Total
	Summary  Summary
	Elements []string // _elements, top-level element names
	Include  []Include
	// Ignored lists the parameters left out under lenient handling, with
	// the reason, for the OperationOutcome of the searchset.
	Ignored []Ignored
}

// Criterion is one parameter of a query. A resource matches when one of
// Values matches (a comma-separated list is an OR); repeated parameters
// are separate Criteria (an AND).
type Criterion struct {
	Param    *Param
	Modifier Modifier
	// Missing is the value of :missing (Values is empty then).
	Missing bool
	// Values holds values of the type that matches Param.Type:
	// StringValue, TokenValue, ReferenceValue, DateValue, NumberValue,
	// QuantityValue or URIValue.
	Values []Value
	// Chain, for a reference parameter, continues the criterion on the
	// referenced resources: subject:Patient.name=x.
	Chain *Chain
	// Has is a reverse chain (_has); Param is nil then.
	Has *Has
}

// Chain selects resources whose reference (the Criterion's Param) points at
// a resource of one of Types that matches Where.
type Chain struct {
	Types []string
	Where Criterion
}

// Has selects resources that a resource of Type points at through its
// reference parameter Ref, where that resource matches Where.
type Has struct {
	Type  string
	Ref   *Param
	Where Criterion
}

// Modifier is a search parameter modifier (the part after a colon).
type Modifier string

// Modifiers Hearth implements. A reference's :[type] modifier is kept in
// the ReferenceValues instead.
const (
	ModNone     Modifier = ""
	ModMissing  Modifier = "missing"
	ModExact    Modifier = "exact"
	ModContains Modifier = "contains"
	ModNot      Modifier = "not"
	ModText     Modifier = "text"
	ModAbove    Modifier = "above"
	ModBelow    Modifier = "below"
	ModType     Modifier = "type"
	// ModIdentifier matches a reference by Reference.identifier.
	ModIdentifier Modifier = "identifier"
)

// Value is one value of a criterion; the concrete types are listed on
// Criterion.Values.
type Value interface{ isValue() }

// SortKey is one key of _sort.
type SortKey struct {
	Param *Param
	Desc  bool
}

// Total is the _total mode.
type Total string

// _total values; TotalDefault lets the server choose.
const (
	TotalDefault  Total = ""
	TotalNone     Total = "none"
	TotalEstimate Total = "estimate"
	TotalAccurate Total = "accurate"
)

// Summary is the _summary mode.
type Summary string

// _summary values.
const (
	SummaryNone  Summary = ""
	SummaryTrue  Summary = "true"
	SummaryText  Summary = "text"
	SummaryData  Summary = "data"
	SummaryCount Summary = "count"
	SummaryFalse Summary = "false"
)

// Include is one _include or _revinclude. _include follows Param of
// resources of Source to their targets (only those of TargetType, when
// set); _revinclude (Reverse) adds resources of Source whose Param points
// at a resource in the result. Param nil means every reference parameter
// of Source (`*`).
type Include struct {
	Reverse    bool
	Iterate    bool
	Source     string
	Param      *Param
	TargetType string
}

// Ignored is a parameter lenient handling left out.
type Ignored struct {
	Name   string
	Reason string
}
