package search

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/hearth-fhir/hearth/fhir"
)

// DateValue is a date search value: the prefix and the range of instants
// the value covers at its precision (2013-01 is the whole of January),
// microseconds since the epoch, both ends inclusive.
type DateValue struct {
	Prefix    Prefix
	Low, High int64
}

func (DateValue) isValue() {}

// Open ends of a Period are the extremes of the range.
const (
	minMicros = math.MinInt64
	maxMicros = math.MaxInt64
)

// parseDate reads a date search value. now is the reading of the clock that
// ap (approximately) measures its tolerance from.
func parseDate(raw string, now time.Time) (Value, error) {
	p, s := cutPrefix(raw)
	low, high, ok := DateRange(s)
	if !ok {
		return nil, fhir.Errorf(fhir.KindInvalid,
			"%q is not a date, dateTime or instant (such as 2024-03-05 or 2024-03-05T10:00:00Z)", raw)
	}
	if p == PrefixAP {
		// The recommended tolerance is 10% of the gap between now and the
		// value, widened to at least the value's own precision.
		gap := now.UnixMicro() - low
		if gap < 0 {
			gap = -gap
		}
		d := gap / 10
		low, high = satSub(low, d), satAdd(high, d)
	}
	return DateValue{Prefix: p, Low: low, High: high}, nil
}

func satAdd(a, b int64) int64 {
	if a > maxMicros-b {
		return maxMicros
	}
	return a + b
}

func satSub(a, b int64) int64 {
	if a < minMicros+b {
		return minMicros
	}
	return a - b
}

// DateRange returns the range of instants a FHIR date, dateTime or instant
// covers at its precision: 2024 is the whole year, 2024-03-05T10:00 the
// whole minute, 2024-03-05T10:00:00.5Z half a second. Values without a
// time zone are read as UTC, which is also the time zone of dates. A space
// where the zone's + belongs is read as + (an unencoded + in a URL decodes
// to a space).
func DateRange(s string) (low, high int64, ok bool) {
	date, clock, hasTime := strings.Cut(s, "T")
	parts := strings.Split(date, "-")
	if len(parts) > 3 || len(parts[0]) != 4 {
		return 0, 0, false
	}
	var ymd [3]int
	for i, part := range parts {
		if (i > 0 && len(part) != 2) || !digits(part) {
			return 0, 0, false
		}
		ymd[i], _ = strconv.Atoi(part)
	}
	year, month, day := ymd[0], ymd[1], ymd[2]
	if year < 1 || (len(parts) > 1 && (month < 1 || month > 12)) {
		return 0, 0, false
	}
	if len(parts) > 2 && (day < 1 || day > daysIn(year, month)) {
		return 0, 0, false
	}
	if !hasTime {
		start := time.Date(year, max(time.Month(month), 1), max(day, 1), 0, 0, 0, 0, time.UTC)
		var end time.Time
		switch len(parts) {
		case 1:
			end = start.AddDate(1, 0, 0)
		case 2:
			end = start.AddDate(0, 1, 0)
		default:
			end = start.AddDate(0, 0, 1)
		}
		return start.UnixMicro(), end.UnixMicro() - 1, true
	}
	if len(parts) != 3 {
		return 0, 0, false
	}
	loc, clock, ok := cutZone(clock)
	if !ok {
		return 0, 0, false
	}
	hms := strings.Split(clock, ":")
	if len(hms) < 2 || len(hms) > 3 {
		return 0, 0, false
	}
	var frac string
	if len(hms) == 3 {
		hms[2], frac, _ = strings.Cut(hms[2], ".")
		if strings.Contains(clock, ".") && (frac == "" || !digits(frac)) {
			return 0, 0, false
		}
	}
	var f [3]int
	for i, part := range hms {
		if len(part) != 2 || !digits(part) {
			return 0, 0, false
		}
		f[i], _ = strconv.Atoi(part)
	}
	if f[0] > 23 || f[1] > 59 || f[2] > 59 {
		return 0, 0, false
	}
	start := time.Date(year, time.Month(month), day, f[0], f[1], f[2], 0, loc)
	step := time.Minute
	switch {
	case len(hms) == 3 && frac == "":
		step = time.Second
	case frac != "":
		digitsKept := min(len(frac), 6)
		us, _ := strconv.Atoi(frac[:digitsKept])
		for range 6 - digitsKept {
			us *= 10
		}
		start = start.Add(time.Duration(us) * time.Microsecond)
		step = time.Microsecond
		for range 6 - digitsKept {
			step *= 10
		}
	}
	return start.UnixMicro(), start.Add(step).UnixMicro() - 1, true
}

// cutZone splits the zone off a time: Z, ±hh:mm, or none (UTC).
func cutZone(clock string) (*time.Location, string, bool) {
	if c, ok := strings.CutSuffix(clock, "Z"); ok {
		return time.UTC, c, true
	}
	i := strings.LastIndexAny(clock, "+- ")
	if i < 0 {
		return time.UTC, clock, true
	}
	zone := clock[i+1:]
	if len(zone) != 5 || zone[2] != ':' || !digits(zone[:2]) || !digits(zone[3:]) {
		return nil, "", false
	}
	h, _ := strconv.Atoi(zone[:2])
	m, _ := strconv.Atoi(zone[3:])
	if h > 14 || m > 59 {
		return nil, "", false
	}
	off := h*3600 + m*60
	if clock[i] == '-' {
		off = -off
	}
	return time.FixedZone("", off), clock[:i], true
}

func daysIn(year, month int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func digits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// addDates indexes a date, dateTime or instant, a Period (open ends reach
// to the extremes) or a Timing (from its first event or bound to its last).
func (ix *Index) addDates(param, typ string, v any) {
	switch x := v.(type) {
	case string:
		if lo, hi, ok := DateRange(x); ok {
			ix.Dates = append(ix.Dates, DateRow{Param: param, Low: lo, High: hi})
		}
	case map[string]any:
		switch typ {
		case "Period":
			ix.addPeriod(param, x)
		case "Timing":
			ix.addTiming(param, x)
		}
	}
}

func (ix *Index) addPeriod(param string, p map[string]any) {
	lo, hi := int64(minMicros), int64(maxMicros)
	start, hasStart := p["start"].(string)
	end, hasEnd := p["end"].(string)
	if !hasStart && !hasEnd {
		return
	}
	if hasStart {
		l, _, ok := DateRange(start)
		if !ok {
			return
		}
		lo = l
	}
	if hasEnd {
		_, h, ok := DateRange(end)
		if !ok {
			return
		}
		hi = h
	}
	ix.Dates = append(ix.Dates, DateRow{Param: param, Low: lo, High: hi})
}

func (ix *Index) addTiming(param string, t map[string]any) {
	var sub Index
	for _, e := range list(t["event"]) {
		if s, ok := e.(string); ok {
			sub.addDates(param, "dateTime", s)
		}
	}
	if r, ok := t["repeat"].(map[string]any); ok {
		if b, ok := r["boundsPeriod"].(map[string]any); ok {
			sub.addPeriod(param, b)
		}
	}
	if len(sub.Dates) == 0 {
		return
	}
	row := sub.Dates[0]
	for _, d := range sub.Dates[1:] {
		row.Low, row.High = min(row.Low, d.Low), max(row.High, d.High)
	}
	ix.Dates = append(ix.Dates, row)
}
