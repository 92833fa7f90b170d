// Package sqlbase holds what the SQL backends of store share: checks on
// writes, the history query, time encoding and error construction. It keeps
// the two backends saying the same thing in the same words.
package sqlbase

import (
	"time"

	"github.com/hearth-fhir/hearth/store"
)

// History page sizes. A caller may ask for less; larger requests are cut to
// MaxHistoryCount, which is safe because the page still carries its cursor.
const (
	DefaultHistoryCount = 100
	MaxHistoryCount     = 1000
)

// Micros encodes a time as the microseconds since the epoch that the
// databases store; finer precision is dropped.
func Micros(t time.Time) int64 { return t.UnixMicro() }

// Time decodes Micros.
func Time(us int64) time.Time { return time.UnixMicro(us).UTC() }

// CheckWrite refuses writes that only a bug in the caller produces, before
// they reach the database.
func CheckWrite(op string, w store.Write) error {
	r := w.Record
	switch {
	case r.Type == "" || r.ID == "":
		return Internalf(op, "write without a type or id")
	case w.PrevVersion < 0 || r.Version <= w.PrevVersion:
		return Internalf(op, "write of %s/%s: version %d does not follow %d", r.Type, r.ID, r.Version, w.PrevVersion)
	case !r.Deleted && len(r.Body) == 0:
		return Internalf(op, "write of %s/%s without a body", r.Type, r.ID)
	}
	return nil
}

// UniqueTokens returns the tokens of a write without duplicates, in their
// first order; a delete has none. A duplicate row would only make searches
// return the same id twice.
func UniqueTokens(w store.Write) []store.Token {
	if w.Record.Deleted || len(w.Tokens) == 0 {
		return nil
	}
	seen := make(map[store.Token]bool, len(w.Tokens))
	out := make([]store.Token, 0, len(w.Tokens))
	for _, t := range w.Tokens {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}

// StoredBody is the body a write stores: none for a delete marker.
func StoredBody(r store.Record) []byte {
	if r.Deleted {
		return nil
	}
	return r.Body
}

// AuthMethod is the stored client authentication method: a client
// registered without one is a confidential client with a secret.
func AuthMethod(m string) string {
	if m == "" {
		return store.AuthSecretBasic
	}
	return m
}

// OptMicros is Micros with the zero time stored as 0.
func OptMicros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// OptTime decodes OptMicros: 0 is the zero time.
func OptTime(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return Time(us)
}
