package search

import (
	"testing"
	"time"
)

func TestDateRange(t *testing.T) {
	us := func(s string) int64 {
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm.UnixMicro()
	}
	for _, tc := range []struct {
		in        string
		low, high string // RFC 3339; high is the last microsecond
		ok        bool
	}{
		{"2024", "2024-01-01T00:00:00Z", "2024-12-31T23:59:59.999999Z", true},
		{"2024-02", "2024-02-01T00:00:00Z", "2024-02-29T23:59:59.999999Z", true},
		{"2023-02", "2023-02-01T00:00:00Z", "2023-02-28T23:59:59.999999Z", true},
		{"2024-03-05", "2024-03-05T00:00:00Z", "2024-03-05T23:59:59.999999Z", true},
		{"2024-03-05T10:00", "2024-03-05T10:00:00Z", "2024-03-05T10:00:59.999999Z", true},
		{"2024-03-05T10:00:07", "2024-03-05T10:00:07Z", "2024-03-05T10:00:07.999999Z", true},
		{"2024-03-05T10:00:07Z", "2024-03-05T10:00:07Z", "2024-03-05T10:00:07.999999Z", true},
		{"2024-03-05T10:00:07.5Z", "2024-03-05T10:00:07.5Z", "2024-03-05T10:00:07.599999Z", true},
		{"2024-03-05T10:00:07.123456789Z", "2024-03-05T10:00:07.123456Z", "2024-03-05T10:00:07.123456Z", true},
		{"2024-03-05T10:00:07+02:00", "2024-03-05T08:00:07Z", "2024-03-05T08:00:07.999999Z", true},
		{"2024-03-05T10:00:07-05:30", "2024-03-05T15:30:07Z", "2024-03-05T15:30:07.999999Z", true},
		{"2024-03-05T10:00:07 02:00", "2024-03-05T08:00:07Z", "2024-03-05T08:00:07.999999Z", true},
		{"2024-03-05T23:30:00-01:00", "2024-03-06T00:30:00Z", "2024-03-06T00:30:00.999999Z", true},
		{"2024-13", "", "", false},
		{"2023-02-29", "", "", false},
		{"2024-3-5", "", "", false},
		{"24", "", "", false},
		{"2024-03-05T25:00", "", "", false},
		{"2024-03-05T10", "", "", false},
		{"2024-03-05T10:00:07.Z", "", "", false},
		{"2024-03-05T10:00:07+2", "", "", false},
		{"2024T10:00", "", "", false},
		{"", "", "", false},
		{"0000", "", "", false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			lo, hi, ok := DateRange(tc.in)
			if ok != tc.ok {
				t.Fatalf("ok = %v, want %v", ok, tc.ok)
			}
			if ok && (lo != us(tc.low) || hi != us(tc.high)) {
				t.Errorf("range = %v .. %v, want %s .. %s", time.UnixMicro(lo).UTC(), time.UnixMicro(hi).UTC(), tc.low, tc.high)
			}
		})
	}
}

func TestIndexPeriodAndTiming(t *testing.T) {
	var ix Index
	ix.addDates("p", "Period", map[string]any{"start": "2024-01-01"})
	ix.addDates("p", "Period", map[string]any{"end": "2024-01-01T10:00:00Z"})
	ix.addDates("p", "Period", map[string]any{})
	ix.addDates("t", "Timing", map[string]any{"event": []any{"2024-05-01", "2024-01-02"}})
	if len(ix.Dates) != 3 {
		t.Fatalf("rows %v", ix.Dates)
	}
	if ix.Dates[0].High != maxMicros || ix.Dates[1].Low != minMicros {
		t.Errorf("open ends %v", ix.Dates[:2])
	}
	lo, _, _ := DateRange("2024-01-02")
	_, hi, _ := DateRange("2024-05-01")
	if ix.Dates[2].Low != lo || ix.Dates[2].High != hi {
		t.Errorf("timing %v", ix.Dates[2])
	}
}
