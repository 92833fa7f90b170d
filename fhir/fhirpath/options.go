package fhirpath

import (
	"context"
	"time"
)

// Option sets an optional part of one evaluation.
type Option func(*config)

type config struct {
	vars     []variable
	resolver Resolver
	now      func() time.Time
	trace    func(name string, items []Item)
	resource any
}

type variable struct {
	name  string
	value any
}

// Resolver loads the resource a reference points to, for resolve().
type Resolver interface {
	// Resolve returns the resource that reference ("Patient/123", an
	// absolute URL, a canonical) points to as decoded JSON, or nil when it
	// does not know it; resolve() then falls back to a resource known only
	// by the type the reference names.
	Resolve(ctx context.Context, reference string) (any, error)
}

// WithVariable sets the environment variable %name. The value is JSON as
// Decode returns it, a []any collection, or Items from another evaluation.
func WithVariable(name string, value any) Option {
	return func(c *config) { c.vars = append(c.vars, variable{name, value}) }
}

// WithResolver lets resolve() load the resources references point to.
func WithResolver(r Resolver) Option {
	return func(c *config) { c.resolver = r }
}

// WithClock sets the clock now(), today() and timeOfDay() read; the
// default is time.Now.
func WithClock(now func() time.Time) Option {
	return func(c *config) { c.now = now }
}

// WithTracer receives what trace() sees; without one trace() does nothing.
func WithTracer(f func(name string, items []Item)) Option {
	return func(c *config) { c.trace = f }
}

// WithResource sets %resource and %rootResource when the node evaluated is
// a part of a resource rather than the resource itself.
func WithResource(resource any) Option {
	return func(c *config) { c.resource = resource }
}
