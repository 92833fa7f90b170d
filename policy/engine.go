package policy

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
)

// defaultBundle is the policy that ships in the binary.
//
//go:embed rego/*.rego
var defaultBundle embed.FS

// query is what every decision evaluates.
const query = "data.hearth.authz.decision"

// blindQuery asks whether the decision for an input's principal and
// interaction is the same whatever resource (and current version) it
// names; see compiled.decide.
const blindQuery = "data.hearth.authz.resource_blind"

// Engine makes decisions with the current policy. It is safe for
// concurrent use; a reload swaps the policy atomically, so a decision sees
// either the old policy or the new one, never a mix.
type Engine struct {
	dir     string
	log     *slog.Logger
	current atomic.Pointer[compiled]
	mu      sync.Mutex // serialises reloads
}

// compiled is one version of the policy, ready to evaluate.
type compiled struct {
	query rego.PreparedEvalQuery
	stamp string          // what the policy directory looked like when loaded
	memo  *memo[Decision] // nil unless the policy is pure
	// keyID: the policy reads input.interaction.id, so memo keys hold it.
	keyID bool
	// blind answers blindQuery, and blindness remembers its answers by
	// principal and interaction; nil unless the policy is the default one,
	// unchanged and pure (see decide).
	blind     *rego.PreparedEvalQuery
	blindness *memo[bool]
}

// Option sets an optional engine setting.
type Option func(*Engine)

// WithDir loads policy files (*.rego) from dir on top of the default
// bundle: a file with the name of a default file replaces it, any other
// file adds rules. Files ending in _test.rego are ignored.
func WithDir(dir string) Option { return func(e *Engine) { e.dir = dir } }

// WithLogger sets where reloads are reported.
func WithLogger(l *slog.Logger) Option { return func(e *Engine) { e.log = l } }

// New compiles the policy and returns an engine ready to decide. A policy
// that does not compile, or does not decide, is an error.
func New(ctx context.Context, opts ...Option) (*Engine, error) {
	e := &Engine{log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(e)
	}
	c, err := e.compile(ctx)
	if err != nil {
		return nil, err
	}
	e.current.Store(c)
	return e, nil
}

// Reload reads the policy directory again. When the new policy is broken
// the error says why and the engine keeps deciding with the old one.
func (e *Engine) Reload(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	c, err := e.compile(ctx)
	if err != nil {
		return err
	}
	e.current.Store(c)
	return nil
}

// Watch polls the policy directory every interval and reloads the policy
// when a file changed, appeared or went away, until ctx ends. A broken
// policy is logged and refused; it is tried again only after it changes.
func (e *Engine) Watch(ctx context.Context, interval time.Duration) {
	if e.dir == "" {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	refused := ""
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		stamp, err := dirStamp(e.dir)
		if err != nil {
			e.log.WarnContext(ctx, "policy: cannot read the policy directory", "dir", e.dir, "error", err)
			continue
		}
		if stamp == e.current.Load().stamp || stamp == refused {
			continue
		}
		if err := e.Reload(ctx); err != nil {
			refused = stamp
			e.log.ErrorContext(ctx, "policy: refused a broken policy; the previous one stays in force", "dir", e.dir, "error", err)
			continue
		}
		refused = ""
		e.log.InfoContext(ctx, "policy: reloaded", "dir", e.dir)
	}
}

// compile reads the default bundle and the policy directory, compiles them
// into a prepared query and checks that it decides.
func (e *Engine) compile(ctx context.Context) (*compiled, error) {
	modules, err := readModules(defaultBundle, "rego")
	if err != nil {
		return nil, err
	}
	stamp := ""
	var extra map[string]string
	if e.dir != "" {
		// The stamp is taken before reading, so a change made while the
		// files are read shows up as a change at the next poll.
		if stamp, err = dirStamp(e.dir); err != nil {
			return nil, fmt.Errorf("policy: %w", err)
		}
		extra, err = readModules(os.DirFS(e.dir), ".")
		if err != nil {
			return nil, err
		}
		for name, src := range extra {
			modules[name] = src
		}
	}
	opts := []func(*rego.Rego){rego.Query(query)}
	parsed := make(map[string]*ast.Module, len(modules))
	for _, name := range sortedKeys(modules) {
		m, err := ast.ParseModuleWithOpts(name, modules[name], ast.ParserOptions{RegoVersion: ast.RegoV1})
		if err != nil {
			return nil, fmt.Errorf("policy: does not compile: %w", err)
		}
		parsed[name] = m
		opts = append(opts, rego.ParsedModule(m))
	}
	pq, err := rego.New(opts...).PrepareForEval(ctx)
	if err != nil {
		return nil, fmt.Errorf("policy: does not compile: %w", err)
	}
	c := &compiled{query: pq, stamp: stamp}
	if pure(parsed) {
		c.memo = newMemo[Decision]()
		c.keyID = readsInteractionID(parsed)
		// The default policy vouches for resource_blind (its tests hold
		// it to that); a rule added from the policy directory could read
		// the resource where the default does not, so any file there
		// turns the shortcut off.
		if len(extra) == 0 {
			bq, err := rego.New(append(opts[1:], rego.Query(blindQuery))...).PrepareForEval(ctx)
			if err != nil {
				return nil, fmt.Errorf("policy: does not compile: %w", err)
			}
			c.blind, c.blindness = &bq, newMemo[bool]()
		}
	}
	if err := c.selfTest(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// selfTest refuses a policy that compiles but does not produce decisions,
// e.g. one that lost or misspelt the decision rule.
func (c *compiled) selfTest(ctx context.Context) error {
	probe := Input{
		Principal:   Principal{Tenant: "probe", Subject: "probe", Kind: KindUser},
		Interaction: Interaction{Type: "read", ResourceType: "Patient", ID: "probe"},
	}
	if _, err := c.decide(ctx, probe); err != nil {
		return fmt.Errorf("policy: does not decide: %w", err)
	}
	return nil
}

// readModules returns the Rego modules (not tests) under dir of fsys,
// keyed by file name.
func readModules(fsys fs.FS, dir string) (map[string]string, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	out := map[string]string{}
	for _, en := range entries {
		name := en.Name()
		if en.IsDir() || !strings.HasSuffix(name, ".rego") || strings.HasSuffix(name, "_test.rego") {
			continue
		}
		b, err := fs.ReadFile(fsys, filepath.ToSlash(filepath.Join(dir, name)))
		if err != nil {
			return nil, fmt.Errorf("policy: %w", err)
		}
		out[name] = string(b)
	}
	return out, nil
}

// dirStamp summarises the policy files of dir by name, size and mtime.
func dirStamp(dir string) (string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, en := range entries {
		if en.IsDir() || !strings.HasSuffix(en.Name(), ".rego") {
			continue
		}
		info, err := en.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed between ReadDir and Info
		}
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "%s\x00%d\x00%d\n", en.Name(), info.Size(), info.ModTime().UnixNano())
	}
	return b.String(), nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Decide evaluates the policy for one interaction. An error means the
// policy could not decide (a runtime error in a rule, or a malformed
// answer); callers must treat it as a denial.
func (e *Engine) Decide(ctx context.Context, in Input) (Decision, error) {
	return e.current.Load().decide(ctx, in)
}

// A decision that does not depend on the resource (for the default policy:
// every grant that applies fits any resource, as a system client's do) is
// made once for the caller and interaction: the input goes without its
// resource and current version, which would otherwise make every create a
// new key and cost an evaluation, most of it spent converting the body.
func (c *compiled) decide(ctx context.Context, in Input) (Decision, error) {
	if c.memo == nil {
		return c.evaluate(ctx, in)
	}
	if c.blind != nil && (in.Resource != nil || in.Current != nil) {
		bare := in
		bare.Resource, bare.Current = nil, nil
		blind, err := c.isBlind(ctx, bare)
		if err != nil {
			return Decision{}, err
		}
		if blind {
			in = bare
		}
	}
	k := c.key(in)
	if d, ok := c.memo.get(k); ok {
		return d, nil
	}
	d, err := c.evaluate(ctx, in)
	if err == nil {
		c.memo.put(k, d)
	}
	return d, err
}

// isBlind reports whether the policy declares the decision for in's
// principal and interaction independent of the resource (blindQuery);
// an undefined answer is no.
func (c *compiled) isBlind(ctx context.Context, bare Input) (bool, error) {
	k := c.key(bare)
	if blind, ok := c.blindness.get(k); ok {
		return blind, nil
	}
	input, err := bare.value()
	if err != nil {
		return false, err
	}
	rs, err := c.blind.Eval(ctx, rego.EvalParsedInput(input))
	if err != nil {
		return false, fmt.Errorf("policy: evaluation failed: %w", err)
	}
	blind := len(rs) == 1 && len(rs[0].Expressions) == 1 && rs[0].Expressions[0].Value == true
	c.blindness.put(k, blind)
	return blind, nil
}

// key is in's memo key, without the interaction's id when the policy
// does not read it.
func (c *compiled) key(in Input) [sha256.Size]byte {
	if !c.keyID {
		in.Interaction.ID = ""
	}
	return in.key()
}

// evaluate runs the prepared query on in.
func (c *compiled) evaluate(ctx context.Context, in Input) (Decision, error) {
	input, err := in.value()
	if err != nil {
		return Decision{}, err
	}
	rs, err := c.query.Eval(ctx, rego.EvalParsedInput(input))
	if err != nil {
		return Decision{}, fmt.Errorf("policy: evaluation failed: %w", err)
	}
	if len(rs) != 1 || len(rs[0].Expressions) != 1 {
		return Decision{}, errors.New("policy: data.hearth.authz.decision is undefined")
	}
	return decisionOf(rs[0].Expressions[0].Value)
}

// value builds the Rego input document directly as an AST value, which
// saves the JSON round trip OPA would otherwise make of a Go struct.
func (in Input) value() (ast.Value, error) {
	p := in.Principal
	principal := ast.NewObject(
		ast.Item(ast.InternedTerm("tenant"), ast.StringTerm(p.Tenant)),
		ast.Item(ast.InternedTerm("subject"), ast.StringTerm(p.Subject)),
		ast.Item(ast.InternedTerm("kind"), ast.StringTerm(p.Kind)),
		ast.Item(ast.InternedTerm("client_id"), ast.StringTerm(p.ClientID)),
		ast.Item(ast.InternedTerm("roles"), stringsTerm(p.Roles)),
		ast.Item(ast.InternedTerm("fhir_user"), ast.StringTerm(p.FhirUser)),
		ast.Item(ast.InternedTerm("organization"), ast.StringTerm(p.Organization)),
		ast.Item(ast.InternedTerm("verified"), ast.BooleanTerm(p.Verified)),
		ast.Item(ast.InternedTerm("scopes"), stringsTerm(p.Scopes)),
		ast.Item(ast.InternedTerm("launch_patient"), ast.StringTerm(p.LaunchPatient)),
	)
	it := in.Interaction
	interaction := ast.NewObject(
		ast.Item(ast.InternedTerm("type"), ast.StringTerm(it.Type)),
		ast.Item(ast.InternedTerm("resource_type"), ast.StringTerm(it.ResourceType)),
		ast.Item(ast.InternedTerm("id"), ast.StringTerm(it.ID)),
		ast.Item(ast.InternedTerm("operation"), ast.StringTerm(it.Operation)),
	)
	request := ast.NewObject(
		ast.Item(ast.InternedTerm("time"), ast.StringTerm(in.Request.Time.UTC().Format(time.RFC3339Nano))),
		ast.Item(ast.InternedTerm("address"), ast.StringTerm(in.Request.Address)),
	)
	doc := ast.NewObject(
		ast.Item(ast.InternedTerm("principal"), ast.NewTerm(principal)),
		ast.Item(ast.InternedTerm("interaction"), ast.NewTerm(interaction)),
		ast.Item(ast.InternedTerm("request"), ast.NewTerm(request)),
	)
	for _, r := range []struct {
		key string
		raw []byte
	}{{"resource", in.Resource}, {"current", in.Current}} {
		if len(r.raw) == 0 {
			continue
		}
		v, err := ast.ValueFromReader(bytes.NewReader(r.raw))
		if err != nil {
			return nil, fmt.Errorf("policy: %s is not JSON: %w", r.key, err)
		}
		doc.Insert(ast.InternedTerm(r.key), ast.NewTerm(v))
	}
	return doc, nil
}

func stringsTerm(ss []string) *ast.Term {
	terms := make([]*ast.Term, len(ss))
	for i, s := range ss {
		terms[i] = ast.StringTerm(s)
	}
	return ast.ArrayTerm(terms...)
}
