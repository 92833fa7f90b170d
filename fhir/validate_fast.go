package fhir

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	apb "github.com/google/fhir/go/proto/google/fhir/proto/annotations_go_proto"
	dpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/datatypes_go_proto"
	rpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/bundle_and_contained_resource_go_proto"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// The fast path of Validate. google/fhir's validator builds the whole
// protocol buffer of a resource and walks it again by reflection, ~130 µs
// for a 1.5 KB Communication; most writes are well-formed, so a walk over
// the JSON bytes against tables read from the same protocol buffer
// descriptors settles them first.
//
// The fast path only ever answers "valid": it applies the rules google/fhir
// applies (known members, JSON shapes, primitive formats, codes, required
// elements, reference target types), some of them more strictly, and gives
// up on anything it does not model (primitive extensions "_x", base64Binary
// with spaces, empty strings, objects and arrays, null, escaped member
// names, versioned references, resourceType not first, …). Every give-up, and so every invalid resource, goes to
// google/fhir, which alone reports errors. The contract, held by
// FuzzFastValid and TestFastValidSound: when the fast path accepts a body,
// google/fhir accepts it too. A disagreement is fixed by giving up on the
// case, never by accepting more.

// fastKind is what a member's value must be.
type fastKind uint8

const (
	fastUnsupported fastKind = iota // give up: google/fhir decides
	fastMessage                     // a JSON object of a complex type or backbone element
	fastReference                   // a Reference object: fastMessage plus the target check
	fastResource                    // a resource object (Bundle.entry.resource, contained)
	fastRefString                   // Reference.reference
	fastString                      // string: no control characters
	fastText                        // markdown, xhtml, and codes of extensible bindings: any string
	fastRegex                       // code, id, oid, uuid: the type's regular expression
	fastURI                         // uri, url, canonical: url.Parse accepts it
	fastEnum                        // a code of a required binding: one of the enum's codes
	fastBool
	fastInteger
	fastPositiveInt
	fastUnsignedInt
	fastDecimal
	fastDate
	fastDateTime
	fastInstant
	fastTime
	fastBase64
)

// fastField is one JSON member name of a message.
type fastField struct {
	kind     fastKind
	repeated bool
	msg      *fastType // fastMessage, fastReference
	regex    *regexp.Regexp
	shape    func(string) bool // fastRegex: a cheaper test that implies regex
	enum     protoreflect.EnumDescriptor
	original map[string]bool // fastEnum: codes spelled differently from the enum names
	refTypes []string        // fastReference: the allowed targets; empty allows any
	required uint64          // the bit this member sets in fastType.required
	choice   int8            // choice element slot, or -1
	option   int32           // which type of the choice element
}

// fastType is a message type's members by JSON name, choice elements
// expanded (valueString, valueQuantity, …).
type fastType struct {
	fields   map[string]*fastField
	required uint64 // bits of the elements with a minimum cardinality of 1
	ok       bool   // false: the fast path gives up on this type
}

// maxFastDepth bounds object nesting on the fast path, well inside
// google/fhir's MaxNestingDepth (each level adds one or two path segments).
const maxFastDepth = 24

// maxFastChoices bounds choice elements per type the fast path tracks.
const maxFastChoices = 8

// fastSchema is the R4 tables, built once (~40 ms) on first use.
type fastSchema struct {
	resources map[string]*fastType
	refTypes  map[string]bool // resource types a Reference can be typed with
}

var (
	fastOnce   sync.Once
	fastTables *fastSchema
)

// The regular expressions google/fhir applies to dates and times (see its
// jsonpbhelper package), and the layouts it then parses with.
var (
	fastDateRegex     = regexp.MustCompile(`^-?[0-9]{4}(-(0[1-9]|1[0-2])(-(0[0-9]|[1-2][0-9]|3[0-1]))?)?$`)
	fastDateTimeRegex = regexp.MustCompile(`^-?[0-9]{4}(-(0[1-9]|1[0-2])(-(0[0-9]|[1-2][0-9]|3[0-1])(T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00)))?)?)?$`)
	fastInstantRegex  = regexp.MustCompile(`^-?[0-9]{4}-(0[1-9]|1[0-2])-(0[0-9]|[1-2][0-9]|3[0-1])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))$`)
	fastTimeRegex     = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?$`)
)

const maxFastString = 1024 * 1024

func fastSchemaR4() *fastSchema {
	fastOnce.Do(func() { fastTables = buildFastSchema() })
	return fastTables
}

func buildFastSchema() *fastSchema {
	b := &fastBuilder{msgs: map[protoreflect.FullName]*fastType{}, regex: map[protoreflect.FullName]*regexp.Regexp{}}
	s := &fastSchema{resources: map[string]*fastType{}, refTypes: map[string]bool{}}
	cr := (&rpb.ContainedResource{}).ProtoReflect().Descriptor()
	for i := 0; i < cr.Fields().Len(); i++ {
		f := cr.Fields().Get(i)
		if f.Message() != nil && f.ContainingOneof() != nil {
			s.resources[string(f.Message().Name())] = b.message(f.Message())
		}
	}
	ref := (&dpb.Reference{}).ProtoReflect().Descriptor()
	for i := 0; i < ref.Fields().Len(); i++ {
		if t, ok := proto.GetExtension(ref.Fields().Get(i).Options(), apb.E_ReferencedFhirType).(string); ok && t != "" {
			s.refTypes[t] = true
		}
	}
	return s
}

type fastBuilder struct {
	msgs  map[protoreflect.FullName]*fastType
	regex map[protoreflect.FullName]*regexp.Regexp
}

func (b *fastBuilder) message(d protoreflect.MessageDescriptor) *fastType {
	if m, ok := b.msgs[d.FullName()]; ok {
		return m
	}
	m := &fastType{fields: map[string]*fastField{}, ok: true}
	b.msgs[d.FullName()] = m
	isRef := proto.HasExtension(d.Options(), apb.E_FhirReferenceType)
	var nreq, nchoice int
	fields := d.Fields()
	for i := 0; i < fields.Len(); i++ {
		f := fields.Get(i)
		var bit uint64
		if proto.GetExtension(f.Options(), apb.E_ValidationRequirement).(apb.Requirement) == apb.Requirement_REQUIRED_BY_FHIR {
			if nreq == 64 {
				m.ok = false
				return m
			}
			bit = 1 << nreq
			nreq++
			m.required |= bit
		}
		if isRef && f.ContainingOneof() != nil {
			// Of the reference oneof only the JSON member "reference" (the
			// uri field) is spelled by clients; the typed ids are internal.
			if f.Name() == "uri" {
				m.fields[f.JSONName()] = &fastField{kind: fastRefString, required: bit, choice: -1}
			}
			continue
		}
		if f.Message() != nil && proto.HasExtension(f.Message().Options(), apb.E_IsChoiceType) {
			if nchoice == maxFastChoices || f.IsList() {
				m.ok = false
				return m
			}
			inner := f.Message().Fields()
			for j := 0; j < inner.Len(); j++ {
				g := inner.Get(j)
				ff := b.field(g)
				ff.required, ff.choice, ff.option = bit, int8(nchoice), int32(g.Number())
				m.fields[f.JSONName()+strings.ToUpper(g.JSONName()[:1])+g.JSONName()[1:]] = ff
			}
			nchoice++
			continue
		}
		ff := b.field(f)
		ff.required = bit
		m.fields[f.JSONName()] = ff
	}
	return m
}

// field classifies one field the way google/fhir's unmarshaller does.
func (b *fastBuilder) field(f protoreflect.FieldDescriptor) *fastField {
	ff := &fastField{repeated: f.IsList(), choice: -1}
	d := f.Message()
	if d == nil {
		return ff // a scalar field of the protocol buffer, not a FHIR element
	}
	switch {
	case d.Name() == "ContainedResource":
		ff.kind = fastResource
	case d.FullName() == "google.protobuf.Any":
		if f.JSONName() == "contained" {
			ff.kind = fastResource
		}
	case proto.GetExtension(d.Options(), apb.E_StructureDefinitionKind).(apb.StructureDefinitionKindValue) == apb.StructureDefinitionKindValue_KIND_PRIMITIVE_TYPE:
		b.primitive(ff, d)
	case proto.HasExtension(d.Options(), apb.E_FhirReferenceType):
		ff.kind, ff.msg = fastReference, b.message(d)
		if types, ok := proto.GetExtension(f.Options(), apb.E_ValidReferenceType).([]string); ok {
			ff.refTypes = types
		}
	default:
		ff.kind, ff.msg = fastMessage, b.message(d)
	}
	return ff
}

func (b *fastBuilder) primitive(ff *fastField, d protoreflect.MessageDescriptor) {
	switch d.Name() {
	case "Boolean":
		ff.kind = fastBool
	case "Integer":
		ff.kind = fastInteger
	case "PositiveInt":
		ff.kind = fastPositiveInt
	case "UnsignedInt":
		ff.kind = fastUnsignedInt
	case "Decimal":
		// Its expression is JSON's number grammar (TestDecimalIsJSONNumber),
		// which fastScan.number applies.
		ff.kind = fastDecimal
	case "String":
		ff.kind = fastString
	case "Markdown", "Xhtml":
		ff.kind = fastText
	case "Code", "Id", "Oid", "Uuid":
		ff.kind, ff.regex = fastRegex, b.valueRegex(d)
		ff.shape = map[protoreflect.Name]func(string) bool{"Code": codeShape, "Id": idShape}[d.Name()]
	case "Uri", "Url", "Canonical":
		ff.kind = fastURI
	case "Date":
		ff.kind = fastDate
	case "DateTime":
		ff.kind = fastDateTime
	case "Instant":
		ff.kind = fastInstant
	case "Time":
		ff.kind = fastTime
	case "Base64Binary":
		ff.kind = fastBase64
	case "ReferenceId":
		// left to google/fhir
	default:
		if !proto.HasExtension(d.Options(), apb.E_FhirValuesetUrl) {
			return
		}
		v := d.Fields().ByName("value")
		switch {
		case v == nil:
		case v.Kind() == protoreflect.StringKind:
			ff.kind = fastText
		case v.Kind() == protoreflect.EnumKind:
			ff.kind, ff.enum, ff.original = fastEnum, v.Enum(), map[string]bool{}
			vals := v.Enum().Values()
			for i := 0; i < vals.Len(); i++ {
				if c := proto.GetExtension(vals.Get(i).Options(), apb.E_FhirOriginalCode).(string); c != "" && vals.Get(i).Number() != 0 {
					ff.original[c] = true
				}
			}
		}
	}
	if ff.kind == fastRegex && ff.regex == nil {
		ff.kind = fastUnsupported
	}
}

// valueRegex compiles the value_regex option of a primitive type, anchored
// as google/fhir anchors it.
func (b *fastBuilder) valueRegex(d protoreflect.MessageDescriptor) *regexp.Regexp {
	if r, ok := b.regex[d.FullName()]; ok {
		return r
	}
	var r *regexp.Regexp
	if expr, ok := proto.GetExtension(d.Options(), apb.E_ValueRegex).(string); ok && expr != "" {
		r, _ = regexp.Compile("^" + expr + "$")
	}
	b.regex[d.FullName()] = r
	return r
}

// fastValid reports whether body is certainly a valid R4 resource. false
// means "not decided here".
func fastValid(body []byte) bool {
	s := fastScan{b: body, schema: fastSchemaR4()}
	s.space()
	if !s.resource(0) {
		return false
	}
	s.space()
	return s.i == len(s.b)
}

// fastScan walks JSON bytes; each method returns false to give up.
type fastScan struct {
	b      []byte
	i      int
	schema *fastSchema
}

func (s *fastScan) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// punct consumes c after optional white space.
func (s *fastScan) punct(c byte) bool {
	s.space()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

func (s *fastScan) peek() byte {
	s.space()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// str reads a string and returns its contents undecoded; escaped says
// whether it holds escapes.
func (s *fastScan) str() (raw []byte, escaped, ok bool) {
	if !s.punct('"') {
		return nil, false, false
	}
	start := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			raw = s.b[start:s.i]
			s.i++
			return raw, escaped, utf8.Valid(raw)
		case c < 0x20:
			return nil, false, false
		case c == '\\':
			escaped = true
			if s.i+1 >= len(s.b) {
				return nil, false, false
			}
			switch s.b[s.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i += 2
			case 'u':
				if s.i+6 > len(s.b) {
					return nil, false, false
				}
				r, err := strconv.ParseUint(string(s.b[s.i+2:s.i+6]), 16, 16)
				if err != nil || r >= 0xD800 && r <= 0xDFFF {
					// Surrogates: decoders disagree on lone ones.
					return nil, false, false
				}
				s.i += 6
			default:
				return nil, false, false
			}
		default:
			s.i++
		}
	}
	return nil, false, false
}

// text reads a string value and decodes it.
func (s *fastScan) text() (string, bool) {
	start := s.i
	raw, escaped, ok := s.str()
	// An empty string is no value (Narrative.div then misses its
	// required one); FHIR forbids empty strings anyway.
	if !ok || len(raw) == 0 || len(raw) > maxFastString {
		return "", false
	}
	if !escaped {
		return string(raw), true
	}
	var v string
	if json.Unmarshal(s.b[start:s.i], &v) != nil || v == "" || !utf8.ValidString(v) || len(v) > maxFastString {
		return "", false
	}
	return v, true
}

// number reads a JSON number token (no leading zeros).
func (s *fastScan) number() ([]byte, bool) {
	s.space()
	start := s.i
	if s.i < len(s.b) && s.b[s.i] == '-' {
		s.i++
	}
	digits := func() int {
		n := 0
		for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
			s.i++
			n++
		}
		return n
	}
	first := s.i
	if n := digits(); n == 0 || n > 1 && s.b[first] == '0' {
		return nil, false
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if digits() == 0 {
			return nil, false
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if digits() == 0 {
			return nil, false
		}
	}
	return s.b[start:s.i], true
}

func (s *fastScan) literal(word string) bool {
	s.space()
	if len(s.b)-s.i >= len(word) && string(s.b[s.i:s.i+len(word)]) == word {
		s.i += len(word)
		return true
	}
	return false
}

// resource reads a resource object whose first member is resourceType.
func (s *fastScan) resource(depth int) bool {
	if !s.punct('{') {
		return false
	}
	key, escaped, ok := s.str()
	if !ok || escaped || string(key) != "resourceType" || !s.punct(':') {
		return false
	}
	rt, escaped, ok := s.str()
	if !ok || escaped {
		return false
	}
	m := s.schema.resources[string(rt)]
	if m == nil {
		return false
	}
	if s.punct('}') {
		return m.required == 0 && m.ok
	}
	if !s.punct(',') {
		return false
	}
	return s.members(m, depth+1, nil)
}

// object reads a JSON object of message type m.
func (s *fastScan) object(m *fastType, depth int, refTypes []string) bool {
	if !s.punct('{') || s.peek() == '}' {
		return false
	}
	return s.members(m, depth+1, refTypes)
}

// members reads the members of an object of type m up to its closing
// brace. refTypes are the allowed targets when m is a Reference.
func (s *fastScan) members(m *fastType, depth int, refTypes []string) bool {
	if !m.ok || depth > maxFastDepth {
		return false
	}
	var seen uint64
	var choices [maxFastChoices]int32
	for {
		key, escaped, ok := s.str()
		if !ok || escaped || !s.punct(':') {
			return false
		}
		f := m.fields[string(key)]
		if f == nil {
			return false
		}
		if f.choice >= 0 {
			if c := choices[f.choice]; c != 0 && c != f.option {
				return false
			}
			choices[f.choice] = f.option
		}
		if f.repeated {
			if !s.punct('[') || s.peek() == ']' {
				return false
			}
			for {
				if !s.value(f, depth, refTypes) {
					return false
				}
				if s.punct(']') {
					break
				}
				if !s.punct(',') {
					return false
				}
			}
		} else if !s.value(f, depth, refTypes) {
			return false
		}
		seen |= f.required
		if s.punct('}') {
			return seen&m.required == m.required
		}
		if !s.punct(',') {
			return false
		}
	}
}

// value reads one value of field f.
func (s *fastScan) value(f *fastField, depth int, refTypes []string) bool {
	switch f.kind {
	case fastMessage:
		return s.object(f.msg, depth, nil)
	case fastReference:
		return s.object(f.msg, depth, f.refTypes)
	case fastResource:
		return s.resource(depth)
	case fastBool:
		return s.literal("true") || s.literal("false")
	case fastInteger, fastPositiveInt, fastUnsignedInt:
		return s.integer(f.kind)
	case fastDecimal:
		_, ok := s.number()
		return ok
	}
	if s.peek() != '"' {
		return false
	}
	switch f.kind {
	case fastText:
		_, ok := s.text()
		return ok
	case fastString:
		v, ok := s.text()
		return ok && !hasControlChars(v)
	case fastRegex:
		v, ok := s.text()
		return ok && (f.shape != nil && f.shape(v) || f.regex.MatchString(v))
	case fastURI:
		v, ok := s.text()
		if !ok {
			return false
		}
		_, err := url.Parse(v)
		return err == nil
	case fastEnum:
		v, ok := s.text()
		return ok && f.enumHas(v)
	case fastDate:
		v, ok := s.text()
		return ok && validDate(v)
	case fastDateTime:
		v, ok := s.text()
		return ok && validDateTime(v)
	case fastInstant:
		v, ok := s.text()
		return ok && validInstant(v)
	case fastTime:
		v, ok := s.text()
		if !ok || !fastTimeRegex.MatchString(v) {
			return false
		}
		_, err := time.Parse("15:04:05", v)
		return err == nil
	case fastBase64:
		// google/fhir decodes the undecoded JSON string, spaces in a
		// fixed stride allowed; the fast path takes plain base64 only.
		raw, escaped, ok := s.str()
		if !ok || escaped {
			return false
		}
		_, err := base64.StdEncoding.Strict().DecodeString(string(raw))
		return err == nil
	case fastRefString:
		v, ok := s.text()
		return ok && s.validReference(v, refTypes)
	}
	return false
}

// integer reads an integer, positiveInt or unsignedInt: plain digits within
// int32 (google/fhir bounds the unsigned types to 2^31-1 as well).
func (s *fastScan) integer(kind fastKind) bool {
	n, ok := s.number()
	if !ok {
		return false
	}
	digits := n
	if n[0] == '-' {
		if kind != fastInteger {
			return false
		}
		digits = n[1:]
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return false
		}
	}
	if string(n) == "-0" {
		return false
	}
	v, err := strconv.ParseInt(string(n), 10, 32)
	if err != nil {
		return false
	}
	return kind != fastPositiveInt || v > 0
}

func (f *fastField) enumHas(v string) bool {
	name := strings.ReplaceAll(strings.ToUpper(v), "-", "_")
	if ev := f.enum.Values().ByName(protoreflect.Name(name)); ev != nil && ev.Number() != 0 {
		return true
	}
	return f.original[v]
}

// validReference accepts what google/fhir accepts of a Reference.reference
// (a local fragment, a typed relative reference to an allowed type, or any
// other URI), and gives up on versioned and other odd relative forms.
func (s *fastScan) validReference(v string, refTypes []string) bool {
	if hasControlChars(v) {
		return false
	}
	if _, err := url.Parse(v); err != nil {
		return false
	}
	if strings.HasPrefix(v, "#") {
		return true
	}
	switch strings.Count(v, "/") {
	case 1:
		typ := v[:strings.IndexByte(v, '/')]
		if !s.schema.refTypes[typ] {
			return false
		}
		if len(refTypes) == 0 {
			return true
		}
		for _, t := range refTypes {
			if t == "Resource" || t == typ {
				return true
			}
		}
		return false
	case 3:
		return strings.Split(v, "/")[2] != "_history"
	}
	return true
}

// The layouts google/fhir then parses dates with: zoned ones with
// time.Parse, the others in its time zone (UTC).
var (
	zonedLayouts = []string{"2006-01-02T15:04:05-07:00", "2006-01-02T15:04:05Z"}
	dateLayouts  = []string{"2006-01-02", "2006-01", "2006"}
)

func validDate(v string) bool {
	parts, ok := dateShape(v)
	return (ok && parts <= 3 || fastDateRegex.MatchString(v)) && parses(v, nil, dateLayouts)
}

func validDateTime(v string) bool {
	_, ok := dateShape(v)
	return (ok || fastDateTimeRegex.MatchString(v)) && parses(v, zonedLayouts, dateLayouts)
}

func validInstant(v string) bool {
	parts, ok := dateShape(v)
	return (ok && parts == 4 || fastInstantRegex.MatchString(v)) && parses(v, zonedLayouts, nil)
}

// parses reports whether v parses in one of the zoned layouts or, in UTC,
// one of the local ones.
func parses(v string, zoned, local []string) bool {
	for _, layout := range zoned {
		if _, err := time.Parse(layout, v); err == nil {
			return true
		}
	}
	for _, layout := range local {
		if _, err := time.ParseInLocation(layout, v, time.UTC); err == nil {
			return true
		}
	}
	return false
}

// hasControlChars reports what google/fhir refuses in a string: control
// characters other than tab, line feed and carriage return.
func hasControlChars(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
			return true
		}
	}
	return false
}

// The shapes below are cheap tests that imply the regular expressions
// they stand in front of (FuzzShapes holds them to it); when a shape says
// no, the expression decides.

// idShape: [A-Za-z0-9\-\.]{1,64}.
func idShape(v string) bool {
	if len(v) == 0 || len(v) > 64 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// codeShape: [^\s]+(\s[^\s]+)* with single spaces as the only white space.
func codeShape(v string) bool {
	if len(v) == 0 || v[0] == ' ' || v[len(v)-1] == ' ' {
		return false
	}
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '\t', '\n', '\f', '\r':
			return false
		case ' ':
			if v[i+1] == ' ' {
				return false
			}
		}
	}
	return true
}

// dateShape: YYYY[-MM[-DD[Thh:mm:ss[.f+](Z|±hh:mm)]]] within the ranges of
// the R4 date, dateTime and instant expressions; parts says how far v goes
// (1 year, 2 month, 3 day, 4 time).
func dateShape(v string) (parts int, ok bool) {
	digit := func(i int) bool { return i < len(v) && v[i] >= '0' && v[i] <= '9' }
	upTo := func(i, max int) bool {
		return digit(i) && digit(i+1) && int(v[i]-'0')*10+int(v[i+1]-'0') <= max
	}
	if !(digit(0) && digit(1) && digit(2) && digit(3)) {
		return 0, false
	}
	if len(v) == 4 {
		return 1, true
	}
	if len(v) < 7 || v[4] != '-' || !upTo(5, 12) || v[5:7] == "00" {
		return 0, false
	}
	if len(v) == 7 {
		return 2, true
	}
	if len(v) < 10 || v[7] != '-' || !upTo(8, 31) {
		return 0, false
	}
	if len(v) == 10 {
		return 3, true
	}
	if len(v) < 20 || v[10] != 'T' || !upTo(11, 23) || v[13] != ':' || !upTo(14, 59) || v[16] != ':' || !upTo(17, 59) {
		return 0, false
	}
	i := 19
	if v[i] == '.' {
		i++
		start := i
		for digit(i) {
			i++
		}
		if i == start {
			return 0, false
		}
	}
	switch {
	case i < len(v) && v[i] == 'Z':
		i++
	case i < len(v) && (v[i] == '+' || v[i] == '-'):
		if len(v) != i+6 || v[i+3] != ':' || !(upTo(i+1, 13) && upTo(i+4, 59) || v[i+1:] == "14:00") {
			return 0, false
		}
		i += 6
	default:
		return 0, false
	}
	return 4, i == len(v)
}
