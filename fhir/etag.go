package fhir

import (
	"strconv"
	"strings"
)

// VersionETag renders a version id as FHIR's weak ETag, W/"n".
func VersionETag(version int64) string { return `W/"` + strconv.FormatInt(version, 10) + `"` }

// ParseVersionETag reads a version ETag as clients send it in If-Match (or a
// Bundle entry's ifMatch): W/"n", "n" or n. Empty means no precondition (0).
func ParseVersionETag(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	s = strings.Trim(strings.TrimPrefix(s, "W/"), `"`)
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 1 {
		return 0, Errorf(KindInvalid, `If-Match must be a version ETag such as W/"1"`)
	}
	return v, nil
}
