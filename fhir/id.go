package fhir

import "github.com/google/uuid"

// NewID returns a new logical id: a version 7 UUID, random but
// time-ordered, so that inserts land at the right end of the B-trees keyed
// by id instead of on a random page each (which costs a page read and, after
// every checkpoint, a full-page image in the WAL).
func NewID() string {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.NewString()
	}
	return id.String()
}
