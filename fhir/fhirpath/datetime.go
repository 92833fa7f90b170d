package fhirpath

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// precision is how far down a date or time value is known.
type precision uint8

const (
	precYear precision = iota + 1
	precMonth
	precDay
	precHour
	precMinute
	precSecond
	precMilli
)

type temporalKind uint8

const (
	kindDate temporalKind = iota
	kindDateTime
	kindTimeOfDay
)

// temporal is a System Date, DateTime or Time with its precision. FHIRPath
// compares partial values ("2018-03" against "2018-03-01") by precision,
// which time.Time cannot express.
type temporal struct {
	kind                                       temporalKind
	prec                                       precision
	year, month, day, hour, minute, sec, milli int
	hasTZ                                      bool
	tz                                         int // offset east of UTC, in minutes
}

func (t temporal) typ() *typeInfo {
	switch t.kind {
	case kindDate:
		return sysDate
	case kindTimeOfDay:
		return sysTime
	}
	return sysDateTime
}

// parseDate reads YYYY[-MM[-DD]].
func parseDate(s string) (temporal, bool) {
	t, rest, ok := parseDatePart(s)
	if !ok || rest != "" {
		return temporal{}, false
	}
	return t, true
}

// parseDateTime reads YYYY[-MM[-DD]][T[hh[:mm[:ss[.fff]]]][Z|±hh:mm]]: both
// FHIR's dateTime and instant, and FHIRPath's @2015T and @2015-02-04T14.
func parseDateTime(s string) (temporal, bool) {
	t, rest, ok := parseDatePart(s)
	if !ok {
		return temporal{}, false
	}
	t.kind = kindDateTime
	if rest == "" {
		return t, true
	}
	if rest[0] != 'T' || t.prec != precDay && rest != "T" {
		return temporal{}, false
	}
	rest = rest[1:]
	if rest == "" {
		return t, true
	}
	clock, rest, ok := parseTimePart(rest)
	if !ok {
		return temporal{}, false
	}
	t.prec, t.hour, t.minute, t.sec, t.milli = clock.prec, clock.hour, clock.minute, clock.sec, clock.milli
	if rest == "" {
		return t, true
	}
	if rest == "Z" {
		t.hasTZ = true
		return t, true
	}
	if len(rest) != 6 || (rest[0] != '+' && rest[0] != '-') || rest[3] != ':' {
		return temporal{}, false
	}
	h, m := atoi2(rest[1:3]), atoi2(rest[4:6])
	if h < 0 || m < 0 || h > 14 || m > 59 {
		return temporal{}, false
	}
	t.hasTZ, t.tz = true, h*60+m
	if rest[0] == '-' {
		t.tz = -t.tz
	}
	return t, true
}

// parseTime reads hh[:mm[:ss[.fff]]].
func parseTime(s string) (temporal, bool) {
	t, rest, ok := parseTimePart(s)
	if !ok || rest != "" {
		return temporal{}, false
	}
	return t, true
}

func parseDatePart(s string) (temporal, string, bool) {
	t := temporal{kind: kindDate}
	if len(s) < 4 || !allDigits(s[:4]) {
		return t, "", false
	}
	t.year, t.prec, s = atoi(s[:4]), precYear, s[4:]
	if len(s) >= 3 && s[0] == '-' {
		if t.month = atoi2(s[1:3]); t.month < 1 || t.month > 12 {
			return t, "", false
		}
		t.prec, s = precMonth, s[3:]
		if len(s) >= 3 && s[0] == '-' {
			if t.day = atoi2(s[1:3]); t.day < 1 || t.day > daysIn(t.year, t.month) {
				return t, "", false
			}
			t.prec, s = precDay, s[3:]
		}
	}
	return t, s, true
}

func parseTimePart(s string) (temporal, string, bool) {
	t := temporal{kind: kindTimeOfDay}
	if len(s) < 2 {
		return t, "", false
	}
	if t.hour = atoi2(s[:2]); t.hour < 0 || t.hour > 23 {
		return t, "", false
	}
	t.prec, s = precHour, s[2:]
	if len(s) >= 3 && s[0] == ':' {
		if t.minute = atoi2(s[1:3]); t.minute < 0 || t.minute > 59 {
			return t, "", false
		}
		t.prec, s = precMinute, s[3:]
		if len(s) >= 3 && s[0] == ':' {
			if t.sec = atoi2(s[1:3]); t.sec < 0 || t.sec > 60 {
				return t, "", false
			}
			t.prec, s = precSecond, s[3:]
			if len(s) >= 2 && s[0] == '.' && isDigit(s[1]) {
				i := 1
				for i < len(s) && isDigit(s[i]) {
					i++
				}
				// Keep milliseconds; instants may carry microseconds.
				frac := (s[1:i] + "00")[:3]
				t.milli, t.prec, s = atoi(frac), precMilli, s[i:]
			}
		}
	}
	return t, s, true
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return -1
	}
	return n
}

// atoi2 reads exactly two digits, or returns -1.
func atoi2(s string) int {
	if len(s) != 2 || !isDigit(s[0]) || !isDigit(s[1]) {
		return -1
	}
	return int(s[0]-'0')*10 + int(s[1]-'0')
}

func daysIn(year, month int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func (t temporal) hasTime() bool { return t.kind == kindTimeOfDay || t.prec >= precHour }

// String formats t as FHIR JSON does (no leading @).
func (t temporal) String() string {
	var b strings.Builder
	if t.kind != kindTimeOfDay {
		fmt.Fprintf(&b, "%04d", t.year)
		if t.prec >= precMonth {
			fmt.Fprintf(&b, "-%02d", t.month)
		}
		if t.prec >= precDay {
			fmt.Fprintf(&b, "-%02d", t.day)
		}
		if t.prec < precHour {
			return b.String()
		}
		b.WriteByte('T')
	}
	fmt.Fprintf(&b, "%02d", t.hour)
	if t.prec >= precMinute {
		fmt.Fprintf(&b, ":%02d", t.minute)
	}
	if t.prec >= precSecond {
		fmt.Fprintf(&b, ":%02d", t.sec)
	}
	if t.prec >= precMilli {
		fmt.Fprintf(&b, ".%03d", t.milli)
	}
	if t.hasTZ && t.kind == kindDateTime {
		if t.tz == 0 {
			b.WriteByte('Z')
		} else {
			sign, off := '+', t.tz
			if off < 0 {
				sign, off = '-', -off
			}
			fmt.Fprintf(&b, "%c%02d:%02d", sign, off/60, off%60)
		}
	}
	return b.String()
}

// goTime returns t as a time.Time in its own offset (UTC if it has none),
// with missing parts at their lowest.
func (t temporal) goTime() time.Time {
	month, day := max(t.month, 1), max(t.day, 1)
	return time.Date(t.year, time.Month(month), day, t.hour, t.minute, t.sec, t.milli*1e6, time.FixedZone("", t.tz*60))
}

// withTime copies the fields of g into t, keeping t's kind and precision.
func (t temporal) withTime(g time.Time) temporal {
	t.year, t.month, t.day = g.Year(), int(g.Month()), g.Day()
	t.hour, t.minute, t.sec, t.milli = g.Hour(), g.Minute(), g.Second(), g.Nanosecond()/1e6
	return t
}

// utc shifts a value with a time and an offset to UTC.
func (t temporal) utc() temporal {
	if !t.hasTZ || t.tz == 0 || t.kind != kindDateTime || t.prec < precHour {
		return t
	}
	u := t.withTime(t.goTime().UTC())
	u.tz = 0
	return u
}

// compareTemporal orders a and b, field by field from the year down. ok is
// false when the answer depends on parts one of them lacks, or when only
// one of two times has a time-zone offset: FHIRPath then returns empty.
func compareTemporal(a, b temporal) (c int, ok bool) {
	if a.prec >= precHour && b.prec >= precHour && a.kind == kindDateTime && b.kind == kindDateTime {
		if a.hasTZ != b.hasTZ {
			return 0, false
		}
		a, b = a.utc(), b.utc()
	}
	fields := func(t temporal) [6]int {
		return [6]int{t.year, t.month, t.day, t.hour, t.minute, t.sec*1000 + t.milli}
	}
	af, bf := fields(a), fields(b)
	first, last := precYear, precSecond
	if a.kind == kindTimeOfDay {
		first = precHour
	}
	for p := first; p <= last; p++ {
		aHas, bHas := a.prec >= p, b.prec >= p
		if !aHas && !bHas {
			return 0, true
		}
		if aHas != bHas {
			return 0, false
		}
		if x, y := af[p-1], bf[p-1]; x != y {
			if x < y {
				return -1, true
			}
			return 1, true
		}
	}
	return 0, true
}

// samePrecision treats seconds and milliseconds as one precision, as the
// specification does for equality.
func samePrecision(a, b temporal) bool {
	pa, pb := min(a.prec, precSecond), min(b.prec, precSecond)
	return pa == pb
}

// calendarUnit maps the units date arithmetic accepts to a precision and
// a multiplier. UCUM's 'a' and 'mo' are refused: they are averages, not
// calendar years and months.
func calendarUnit(unit string) (p precision, mult int, ok bool) {
	switch unit {
	case "year", "years":
		return precYear, 1, true
	case "month", "months":
		return precMonth, 1, true
	case "week", "weeks", "wk":
		return precDay, 7, true
	case "day", "days", "d":
		return precDay, 1, true
	case "hour", "hours", "h":
		return precHour, 1, true
	case "minute", "minutes", "min":
		return precMinute, 1, true
	case "second", "seconds", "s":
		return precSecond, 1, true
	case "millisecond", "milliseconds", "ms":
		return precMilli, 1, true
	}
	return 0, 0, false
}

// addDuration adds q (negated when sign < 0) to t. Fractions of the unit
// are dropped, as the specification says for calendar durations.
func (t temporal) addDuration(q quantity, sign int) (temporal, error) {
	unit, mult, ok := calendarUnit(q.unit)
	if !ok {
		return t, evalError("cannot add a quantity in %q to a date or time", q.unit)
	}
	n64, ok := q.value.round(0, roundTruncate).int64()
	if !ok || n64 > 1e7 || n64 < -1e7 {
		return t, evalError("duration out of range")
	}
	n := int(n64) * mult * sign
	if t.kind == kindTimeOfDay && unit < precHour {
		return t, evalError("cannot add %s to a time", q.unit)
	}
	// A duration finer than the value's precision is converted to the
	// value's own unit (whole units only).
	if unit > t.prec && t.prec < precSecond {
		n = convertDown(n, unit, t.prec)
		unit = t.prec
	}
	g := t.goTime()
	switch unit {
	case precYear, precMonth:
		months := n
		if unit == precYear {
			months *= 12
		}
		y, m := t.year, max(t.month, 1)+months
		y += (m - 1) / 12
		if m = (m-1)%12 + 1; m <= 0 {
			m += 12
			y--
		}
		d := min(max(t.day, 1), daysIn(y, m))
		g = time.Date(y, time.Month(m), d, t.hour, t.minute, t.sec, t.milli*1e6, g.Location())
	case precDay:
		g = g.AddDate(0, 0, n)
	case precHour:
		g = g.Add(time.Duration(n) * time.Hour)
	case precMinute:
		g = g.Add(time.Duration(n) * time.Minute)
	case precSecond:
		g = g.Add(time.Duration(n) * time.Second)
	case precMilli:
		g = g.Add(time.Duration(n) * time.Millisecond)
	}
	r := t.withTime(g)
	if r.year < 1 || r.year > 9999 {
		return t, evalError("date out of range")
	}
	return r, nil
}

// convertDown turns n units of the fine precision into whole units of the
// coarser one (e.g. 36 hours → 1 day).
func convertDown(n int, fine, coarse precision) int {
	perDay := map[precision]int{precHour: 24, precMinute: 24 * 60, precSecond: 86400, precMilli: 86400000}
	switch coarse {
	case precDay:
		return n / perDay[fine]
	case precHour:
		return n / (perDay[fine] / 24)
	case precMinute:
		return n / (perDay[fine] / 1440)
	}
	return 0 // to months or years: not a whole number of them
}

// boundary returns the lowest (high false) or highest possible value t
// stands for, to the given precision in digits (FHIRPath lowBoundary and
// highBoundary). ok is false for a precision the kind does not have.
func (t temporal) boundary(digits int, high bool) (temporal, bool) {
	var target precision
	if t.kind == kindTimeOfDay {
		target = map[int]precision{2: precHour, 4: precMinute, 6: precSecond, 9: precMilli}[digits]
	} else {
		target = map[int]precision{4: precYear, 6: precMonth, 8: precDay, 10: precHour, 12: precMinute, 14: precSecond, 17: precMilli}[digits]
		if t.kind == kindDate && target > precDay {
			return t, false
		}
	}
	if target == 0 {
		return t, false
	}
	// An hour alone is not a FHIR time: T08 means 08:00.
	if t.prec == precHour {
		t.prec = precMinute
	}
	for p := t.prec + 1; p <= target; p++ {
		switch p {
		case precMonth:
			t.month = pick(high, 12, 1)
		case precDay:
			t.day = pick(high, daysIn(t.year, t.month), 1)
		case precHour:
			t.hour = pick(high, 23, 0)
		case precMinute:
			t.minute = pick(high, 59, 0)
		case precSecond:
			t.sec = pick(high, 59, 0)
		case precMilli:
			t.milli = pick(high, 999, 0)
		}
	}
	t.prec = target
	if t.kind == kindDateTime && target >= precHour && !t.hasTZ {
		// Without an offset the value could be anywhere on Earth.
		t.hasTZ, t.tz = true, pick(high, -12*60, 14*60)
	}
	if target < precHour {
		t.hasTZ, t.tz = false, 0
		t.hour, t.minute, t.sec, t.milli = 0, 0, 0, 0
	}
	return t, true
}

func pick(high bool, hi, lo int) int {
	if high {
		return hi
	}
	return lo
}

// digits is the FHIRPath precision() of t.
func (t temporal) digits() int {
	if t.kind == kindTimeOfDay {
		return map[precision]int{precHour: 2, precMinute: 4, precSecond: 6, precMilli: 9}[t.prec]
	}
	return map[precision]int{precYear: 4, precMonth: 6, precDay: 8, precHour: 10, precMinute: 12, precSecond: 14, precMilli: 17}[t.prec]
}

// fromGoTime converts a clock reading to a DateTime, Date or Time.
func fromGoTime(g time.Time, kind temporalKind) temporal {
	_, off := g.Zone()
	t := temporal{kind: kind, prec: precMilli, hasTZ: true, tz: off / 60}.withTime(g)
	switch kind {
	case kindDate:
		t.prec, t.hasTZ, t.tz = precDay, false, 0
		t.hour, t.minute, t.sec, t.milli = 0, 0, 0, 0
	case kindTimeOfDay:
		t.hasTZ, t.tz = false, 0
	}
	return t
}
