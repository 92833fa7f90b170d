package fhirpath

import "strconv"

// function is one FHIRPath function. impl receives the input collection
// and the call, and evaluates the arguments it needs itself.
type function struct {
	minArgs, maxArgs int
	typeArg          bool // is(), as(), ofType(): the argument is a type name
	impl             func(c *evalCtx, in []item, call *callNode, out []item) ([]item, error)
}

func (f *function) arity() string {
	switch {
	case f.minArgs == f.maxArgs && f.minArgs == 1:
		return "1 argument"
	case f.minArgs == f.maxArgs:
		return strconv.Itoa(f.minArgs) + " arguments"
	case f.maxArgs > 100:
		return "at least " + strconv.Itoa(f.minArgs) + " arguments"
	}
	return strconv.Itoa(f.minArgs) + " to " + strconv.Itoa(f.maxArgs) + " arguments"
}

// variadic is the maxArgs of functions without a limit (sort).
const variadic = 1 << 10

func lookupFunction(name string) *function { return builtins[name] }

// builtins lists every function with its arity. It is fixed data: nothing
// modifies it after initialisation.
var builtins = map[string]*function{
	// Existence
	"empty":      {minArgs: 0, maxArgs: 0, impl: fnEmpty},
	"exists":     {minArgs: 0, maxArgs: 1, impl: fnExists},
	"all":        {minArgs: 1, maxArgs: 1, impl: fnAll},
	"allTrue":    {minArgs: 0, maxArgs: 0, impl: boolAggregate(true, true)},
	"anyTrue":    {minArgs: 0, maxArgs: 0, impl: boolAggregate(false, true)},
	"allFalse":   {minArgs: 0, maxArgs: 0, impl: boolAggregate(true, false)},
	"anyFalse":   {minArgs: 0, maxArgs: 0, impl: boolAggregate(false, false)},
	"subsetOf":   {minArgs: 1, maxArgs: 1, impl: fnSubsetOf},
	"supersetOf": {minArgs: 1, maxArgs: 1, impl: fnSupersetOf},
	"count":      {minArgs: 0, maxArgs: 0, impl: fnCount},
	"distinct":   {minArgs: 0, maxArgs: 0, impl: fnDistinct},
	"isDistinct": {minArgs: 0, maxArgs: 0, impl: fnIsDistinct},
	// Filtering and projection
	"where":  {minArgs: 1, maxArgs: 1, impl: fnWhere},
	"select": {minArgs: 1, maxArgs: 1, impl: fnSelect},
	"repeat": {minArgs: 1, maxArgs: 1, impl: fnRepeat},
	"ofType": {minArgs: 1, maxArgs: 1, typeArg: true, impl: fnOfType},
	// Subsetting
	"single":    {minArgs: 0, maxArgs: 0, impl: fnSingle},
	"first":     {minArgs: 0, maxArgs: 0, impl: fnFirst},
	"last":      {minArgs: 0, maxArgs: 0, impl: fnLast},
	"tail":      {minArgs: 0, maxArgs: 0, impl: fnTail},
	"skip":      {minArgs: 1, maxArgs: 1, impl: fnSkip},
	"take":      {minArgs: 1, maxArgs: 1, impl: fnTake},
	"intersect": {minArgs: 1, maxArgs: 1, impl: fnIntersect},
	"exclude":   {minArgs: 1, maxArgs: 1, impl: fnExclude},
	// Combining
	"union":   {minArgs: 1, maxArgs: 1, impl: fnUnion},
	"combine": {minArgs: 1, maxArgs: 1, impl: fnCombine},
	// Conversion
	"iif":                {minArgs: 2, maxArgs: 3, impl: fnIif},
	"toBoolean":          {impl: convert("toBoolean", toBoolean, false)},
	"convertsToBoolean":  {impl: convert("convertsToBoolean", toBoolean, true)},
	"toInteger":          {impl: convert("toInteger", toInteger, false)},
	"convertsToInteger":  {impl: convert("convertsToInteger", toInteger, true)},
	"toDecimal":          {impl: convert("toDecimal", toDecimal, false)},
	"convertsToDecimal":  {impl: convert("convertsToDecimal", toDecimal, true)},
	"toString":           {impl: convert("toString", toStringValue, false)},
	"convertsToString":   {impl: convert("convertsToString", toStringValue, true)},
	"toDate":             {impl: convert("toDate", toDate, false)},
	"convertsToDate":     {impl: convert("convertsToDate", toDate, true)},
	"toDateTime":         {impl: convert("toDateTime", toDateTime, false)},
	"convertsToDateTime": {impl: convert("convertsToDateTime", toDateTime, true)},
	"toTime":             {impl: convert("toTime", toTime, false)},
	"convertsToTime":     {impl: convert("convertsToTime", toTime, true)},
	"toQuantity":         {minArgs: 0, maxArgs: 1, impl: fnToQuantity(false)},
	"convertsToQuantity": {minArgs: 0, maxArgs: 1, impl: fnToQuantity(true)},
	// Strings
	"indexOf":        {minArgs: 1, maxArgs: 1, impl: fnIndexOf},
	"lastIndexOf":    {minArgs: 1, maxArgs: 1, impl: fnLastIndexOf},
	"substring":      {minArgs: 1, maxArgs: 2, impl: fnSubstring},
	"startsWith":     {minArgs: 1, maxArgs: 1, impl: stringTest("startsWith", stringsHasPrefix)},
	"endsWith":       {minArgs: 1, maxArgs: 1, impl: stringTest("endsWith", stringsHasSuffix)},
	"contains":       {minArgs: 1, maxArgs: 1, impl: stringTest("contains", stringsContains)},
	"upper":          {impl: stringMap("upper", stringsToUpper)},
	"lower":          {impl: stringMap("lower", stringsToLower)},
	"trim":           {impl: stringMap("trim", stringsTrim)},
	"replace":        {minArgs: 2, maxArgs: 2, impl: fnReplace},
	"matches":        {minArgs: 1, maxArgs: 1, impl: fnMatches(false)},
	"matchesFull":    {minArgs: 1, maxArgs: 1, impl: fnMatches(true)},
	"replaceMatches": {minArgs: 2, maxArgs: 2, impl: fnReplaceMatches},
	"length":         {impl: fnLength},
	"toChars":        {impl: fnToChars},
	"split":          {minArgs: 1, maxArgs: 1, impl: fnSplit},
	"join":           {minArgs: 0, maxArgs: 1, impl: fnJoin},
	"encode":         {minArgs: 1, maxArgs: 1, impl: fnEncode},
	"decode":         {minArgs: 1, maxArgs: 1, impl: fnDecode},
	"escape":         {minArgs: 1, maxArgs: 1, impl: fnEscape},
	"unescape":       {minArgs: 1, maxArgs: 1, impl: fnUnescape},
	// Math
	"abs":      {impl: fnAbs},
	"ceiling":  {impl: roundTo("ceiling", roundCeiling)},
	"floor":    {impl: roundTo("floor", roundFloor)},
	"truncate": {impl: roundTo("truncate", roundTruncate)},
	"round":    {minArgs: 0, maxArgs: 1, impl: fnRound},
	"exp":      {impl: floatFunc("exp", mathExp)},
	"ln":       {impl: floatFunc("ln", mathLog)},
	"sqrt":     {impl: floatFunc("sqrt", mathSqrt)},
	"log":      {minArgs: 1, maxArgs: 1, impl: fnLog},
	"power":    {minArgs: 1, maxArgs: 1, impl: fnPower},
	"sum":      {impl: fnSum},
	"min":      {impl: extreme(-1)},
	"max":      {impl: extreme(1)},
	"avg":      {impl: fnAvg},
	// Tree navigation
	"children":    {impl: fnChildren},
	"descendants": {impl: fnDescendants},
	// Utility
	"trace":     {minArgs: 1, maxArgs: 2, impl: fnTrace},
	"now":       {impl: fnNow},
	"today":     {impl: fnToday},
	"timeOfDay": {impl: fnTimeOfDay},
	"not":       {impl: fnNot},
	"aggregate": {minArgs: 1, maxArgs: 2, impl: fnAggregate},
	"sort":      {minArgs: 0, maxArgs: variadic, impl: fnSort},
	// Types
	"is":   {minArgs: 1, maxArgs: 1, typeArg: true, impl: fnIs},
	"as":   {minArgs: 1, maxArgs: 1, typeArg: true, impl: fnAs},
	"type": {impl: fnType},
	// Precision and boundaries
	"lowBoundary":  {minArgs: 0, maxArgs: 1, impl: boundary(false)},
	"highBoundary": {minArgs: 0, maxArgs: 1, impl: boundary(true)},
	"precision":    {impl: fnPrecision},
	"comparable":   {minArgs: 1, maxArgs: 1, impl: fnComparable},
	// FHIR additions (http://hl7.org/fhir/R4/fhirpath.html#functions)
	"extension":  {minArgs: 1, maxArgs: 1, impl: fnExtension},
	"hasValue":   {impl: fnHasValue},
	"getValue":   {impl: fnGetValue},
	"resolve":    {impl: fnResolve},
	"conformsTo": {minArgs: 1, maxArgs: 1, impl: fnConformsTo},
}
