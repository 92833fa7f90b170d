package sqlbase

import (
	"strconv"
	"strings"
)

// Body scans (crypt.BodyStore) page through history rows by seq, then
// current rows by (type, id). The cursor says where: "h:<seq>" or
// "c:<type>/<id>"; "" starts with history.

// BodyCursor is a decoded body-scan cursor.
type BodyCursor struct {
	Current bool
	Seq     int64
	Type    string
	ID      string
}

// ParseBodyCursor decodes a cursor; ok is false for one this package did
// not make.
func ParseBodyCursor(s string) (c BodyCursor, ok bool) {
	switch {
	case s == "":
		return c, true
	case strings.HasPrefix(s, "h:"):
		seq, err := strconv.ParseInt(s[2:], 10, 64)
		return BodyCursor{Seq: seq}, err == nil
	case strings.HasPrefix(s, "c:"):
		typ, id, found := strings.Cut(s[2:], "/")
		return BodyCursor{Current: true, Type: typ, ID: id}, found
	}
	return c, false
}

// HistoryCursor and CurrentCursor encode the position after a row.
func HistoryCursor(seq int64) string { return "h:" + strconv.FormatInt(seq, 10) }

// CurrentCursor is the cursor after the current row typ/id.
func CurrentCursor(typ, id string) string { return "c:" + typ + "/" + id }

// FirstCurrentCursor starts the scan of current rows.
const FirstCurrentCursor = "c:/"
