package policy

import (
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"
)

// memoSize bounds the decisions remembered per generation; two generations
// are kept, so at most twice as many.
const memoSize = 8192

// memo remembers decisions of a pure policy (see pure): the same input
// always gets the same decision, so a repeated one (the same caller
// reading the same version of a resource) skips the evaluation, which
// costs a few hundred microseconds. The key is a SHA-256 of the input, so
// two inputs never share a decision by accident. A reloaded policy starts
// with an empty memo. The same structure remembers resource_blind's
// answers (compiled.isBlind).
type memo[V any] struct {
	mu       sync.Mutex
	cur, old map[[sha256.Size]byte]V
}

func newMemo[V any]() *memo[V] {
	return &memo[V]{cur: make(map[[sha256.Size]byte]V, memoSize)}
}

func (m *memo[V]) get(k [sha256.Size]byte) (V, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.cur[k]
	if !ok {
		if d, ok = m.old[k]; ok {
			m.cur[k] = d
		}
	}
	return d, ok
}

// put remembers d; when the current generation is full it becomes the old
// one and the oldest is dropped, which keeps the recently used.
func (m *memo[V]) put(k [sha256.Size]byte, d V) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.cur) >= memoSize {
		m.old, m.cur = m.cur, make(map[[sha256.Size]byte]V, memoSize)
	}
	m.cur[k] = d
}

// key hashes everything a pure policy can look at: the principal, the
// interaction, the resource and the current version. Every field is
// length-prefixed, so no two inputs hash the same bytes.
func (in Input) key() [sha256.Size]byte {
	h := sha256.New()
	p := in.Principal
	for _, s := range []string{p.Tenant, p.Subject, p.Kind, p.ClientID, p.FhirUser, p.Organization, p.LaunchPatient} {
		writeField(h, []byte(s))
	}
	if p.Verified {
		writeField(h, []byte{1})
	} else {
		writeField(h, []byte{0})
	}
	for _, list := range [][]string{p.Roles, p.Scopes} {
		writeLen(h, len(list))
		for _, s := range list {
			writeField(h, []byte(s))
		}
	}
	it := in.Interaction
	for _, s := range []string{it.Type, it.ResourceType, it.ID, it.Operation} {
		writeField(h, []byte(s))
	}
	writeField(h, in.Resource)
	writeField(h, in.Current)
	var k [sha256.Size]byte
	h.Sum(k[:0])
	return k
}

func writeLen(h hash.Hash, n int) {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(n))
	h.Write(b[:])
}

func writeField(h hash.Hash, b []byte) {
	writeLen(h, len(b))
	h.Write(b)
}

// pure reports whether the policy's decisions depend on nothing but what
// Input.key hashes: no rule reads input.request (time, address) or the
// input document as a whole, and no rule calls a non-deterministic built-in
// (time.now_ns, http.send, rand.intn …). Only a pure policy is memoized.
func pure(modules map[string]*ast.Module) bool {
	ok := true
	for _, m := range modules {
		ast.WalkRefs(m, func(r ast.Ref) bool {
			if !r[0].Equal(ast.InputRootDocument) {
				return false
			}
			if key, isString := refKey(r); !isString || key == "request" {
				ok = false
			}
			return false
		})
		ast.WalkTerms(m, func(t *ast.Term) bool {
			if call, isCall := t.Value.(ast.Call); isCall && nondeterministicTerm(call[0]) {
				ok = false
			}
			return false
		})
		ast.WalkExprs(m, func(e *ast.Expr) bool {
			if e.IsCall() && nondeterministic(e.Operator()) {
				ok = false
			}
			return false
		})
	}
	return ok
}

// readsInteractionID reports whether a rule may read input.interaction.id:
// the id of a create is new every time, so a policy that does not read it
// is memoized without it (see compiled.key).
func readsInteractionID(modules map[string]*ast.Module) bool {
	reads := false
	for _, m := range modules {
		ast.WalkRefs(m, func(r ast.Ref) bool {
			if !r[0].Equal(ast.InputRootDocument) {
				return false
			}
			if key, _ := refKey(r); key == "interaction" {
				// input.interaction whole, input.interaction[x] or .id
				if len(r) < 3 {
					reads = true
				} else if k, isString := r[2].Value.(ast.String); !isString || k == "id" {
					reads = true
				}
			}
			return false
		})
	}
	return reads
}

// refKey is the key a ref into input selects first (input.principal →
// "principal"); not a string for input itself or input[x].
func refKey(r ast.Ref) (string, bool) {
	if len(r) < 2 {
		return "", false
	}
	s, ok := r[1].Value.(ast.String)
	return string(s), ok
}

func nondeterministicTerm(op *ast.Term) bool {
	ref, ok := op.Value.(ast.Ref)
	if !ok {
		return true // a call through a variable: cannot tell
	}
	return nondeterministic(ref)
}

func nondeterministic(op ast.Ref) bool {
	b, found := ast.BuiltinMap[op.String()]
	return found && b.Nondeterministic
}
