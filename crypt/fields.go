package crypt

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// An encrypted element keeps its name and has an envelope for a value:
//
//	{"resourceType":"Patient","id":"p1",…,"name":{"_enc":"AQG…"},"birthDate":{"_enc":"AQH…"}}
//
// The envelope holds the base64url ciphertext of the element's JSON value,
// bound to tenant, type, id and the element's path in this resource
// (DocumentReference.content[1].attachment.data). The stored body is valid
// JSON but not valid FHIR: it is only ever served decrypted.

// envelopeKey is the one member of an envelope. No FHIR element is called
// "enc", so a validated resource never holds one.
const envelopeKey = "_enc"

// envelopeStart begins every envelope the ring writes (compact JSON).
var envelopeStart = []byte(`{"` + envelopeKey + `":"`)

// envelopeName is in every envelope, and in no other JSON text: inside a
// string its quotes would be escaped. A body without it has nothing to
// decrypt, and a subtree without it is not parsed.
var envelopeName = []byte(`"` + envelopeKey + `"`)

// b64 is strict so that each ciphertext has one spelling: trailing bits
// that a lenient decoder ignores would let a stored value change without
// failing.
var b64 = base64.RawURLEncoding.Strict()

// EncryptElements replaces every element of body (a typ resource with id)
// that els configures with an envelope, under the tenant's current DEK. A
// body without such elements comes back unchanged (the same slice).
// Elements that already hold an envelope are left as they are.
func (r *Ring) EncryptElements(ctx context.Context, tenant, typ, id string, body []byte, els *Elements) ([]byte, error) {
	paths := els.byType[typ]
	if len(paths) == 0 {
		return body, nil
	}
	seal := func(at string, plain []byte) ([]byte, error) {
		ct, err := r.Encrypt(ctx, tenant, AAD(typ, id, at), plain)
		if err != nil {
			return nil, err
		}
		return envelope(ct), nil
	}
	out, _, err := sealObject(body, paths, typ, seal)
	if err != nil {
		return nil, fmt.Errorf("crypt: encrypt elements of %s/%s: %w", typ, id, err)
	}
	return out, nil
}

// DecryptElements replaces every envelope in body with the element it
// holds. It finds envelopes wherever they are, whatever the configuration
// says today, so that elements encrypted under an older configuration
// still read. Any envelope that fails to decrypt fails the whole body.
func (r *Ring) DecryptElements(ctx context.Context, tenant, typ, id string, body []byte) ([]byte, error) {
	if !bytes.Contains(body, envelopeName) {
		return body, nil
	}
	o := openers.Get().(*opener)
	defer o.release()
	out, _, err := o.value(body, typ, true, func(at string, ct []byte) ([]byte, error) {
		// The plaintext goes into the opener's scratch space too: it is
		// copied into the body the members are rendered into.
		start := len(o.scratch)
		scratch, err := r.DecryptAppend(ctx, tenant, o.scratch, AAD(typ, id, at), ct)
		if err != nil {
			return nil, err
		}
		o.scratch = scratch
		plain := scratch[start:len(scratch):len(scratch)]
		if len(plain) == 0 {
			return nil, ErrMalformed // an element's JSON value is never empty
		}
		return plain, nil
	})
	if err != nil {
		return nil, fmt.Errorf("crypt: decrypt elements of %s/%s: %w", typ, id, err)
	}
	return out, nil
}

// ReencryptElements moves every envelope of body that is not under the
// tenant's current DEK to it, and returns whether anything changed.
// Rotation runs it over stored rows; the plaintext never leaves memory.
func (r *Ring) ReencryptElements(ctx context.Context, tenant, typ, id string, body []byte) ([]byte, bool, error) {
	if !bytes.Contains(body, envelopeName) {
		return body, false, nil
	}
	current, err := r.CurrentVersion(ctx, tenant)
	if err != nil {
		return nil, false, err
	}
	out, changed, err := new(opener).value(body, typ, true, func(at string, ct []byte) ([]byte, error) {
		if v, err := VersionOf(ct); err == nil && v == current {
			return nil, nil // keep
		}
		aad := AAD(typ, id, at)
		plain, err := r.Decrypt(ctx, tenant, aad, ct)
		if err != nil {
			return nil, err
		}
		fresh, err := r.Encrypt(ctx, tenant, aad, plain)
		if err != nil {
			return nil, err
		}
		return envelope(fresh), nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("crypt: re-encrypt elements of %s/%s: %w", typ, id, err)
	}
	return out, changed, nil
}

// ElementVersions counts the envelopes of body per DEK version, without
// decrypting anything: how much is left to re-encrypt.
func ElementVersions(body []byte) (map[int]int, error) {
	counts := map[int]int{}
	if !bytes.Contains(body, envelopeName) {
		return counts, nil
	}
	_, _, err := new(opener).value(body, "", true, func(_ string, ct []byte) ([]byte, error) {
		v, err := VersionOf(ct)
		if err != nil {
			return nil, err
		}
		counts[v]++
		return nil, nil
	})
	return counts, err
}

func envelope(ct []byte) []byte {
	out := make([]byte, 0, len(envelopeStart)+b64.EncodedLen(len(ct))+2)
	out = append(out, envelopeStart...)
	out = b64.AppendEncode(out, ct)
	return append(out, '"', '}')
}

// sealObject seals the members of obj that paths name (each path relative
// to obj); at is obj's path. It returns obj itself when nothing changed.
func sealObject(obj []byte, paths [][]string, at string, seal func(at string, plain []byte) ([]byte, error)) ([]byte, bool, error) {
	ms, ok, err := objectMembers(obj)
	if err != nil || !ok {
		// Not an object where the path expects one: the validator would not
		// have let a value through that holds the element, so nothing to do.
		return obj, false, err
	}
	changed := false
	for i, m := range ms {
		name := m.name()
		whole := false
		var sub [][]string
		for _, p := range paths {
			if len(p) == 1 {
				// The element itself, or its primitive extension (_birthDate).
				if matchesName(p[0], strings.TrimPrefix(name, "_")) {
					whole = true
				}
			} else if matchesName(p[0], name) {
				sub = append(sub, p[1:])
			}
		}
		here := at + "." + name
		var val []byte
		var ch bool
		switch {
		case whole:
			if isEnvelope(m.val) {
				continue
			}
			val, err = seal(here, m.val)
			ch = true
		case len(sub) > 0:
			val, ch, err = sealValue(m.val, sub, here, seal)
		}
		if err != nil {
			return nil, false, err
		}
		if ch {
			ms[i].val, changed = val, true
		}
	}
	if !changed {
		return obj, false, nil
	}
	return renderObject(ms), true, nil
}

// sealValue descends into an object, or into every item of an array.
func sealValue(val []byte, paths [][]string, at string, seal func(string, []byte) ([]byte, error)) ([]byte, bool, error) {
	items, isArray, err := arrayItems(val)
	if err != nil {
		return nil, false, err
	}
	if !isArray {
		return sealObject(val, paths, at, seal)
	}
	changed := false
	for i, it := range items {
		v, ch, err := sealObject(it, paths, at+"["+strconv.Itoa(i)+"]", seal)
		if err != nil {
			return nil, false, err
		}
		if ch {
			items[i], changed = v, true
		}
	}
	if !changed {
		return val, false, nil
	}
	return renderArray(items), true, nil
}

// opener finds and opens the envelopes of one body at a time. Its scratch
// space — the members of the objects on the way down, the ciphertexts
// decoded and, for DecryptElements, their plaintexts — is reused from one
// body to the next: a search page decrypts twenty, and these were most of
// what decrypting allocated. Everything a body's result holds is copied
// out of it (renderObject, renderArray, the clone in value).
type opener struct {
	members []member
	scratch []byte
}

var openers = sync.Pool{New: func() any { return new(opener) }}

// maxOpenerScratch and maxOpenerMembers bound what an opener keeps
// between bodies, so that one large body is not held on to.
const (
	maxOpenerScratch = 64 << 10
	maxOpenerMembers = 1024
)

// release empties o and puts it back in the pool: the plaintexts it held
// are zeroed, and it keeps no reference into the body.
func (o *opener) release() {
	clear(o.scratch)
	clear(o.members[:cap(o.members)])
	if cap(o.scratch) > maxOpenerScratch {
		o.scratch = nil
	}
	if cap(o.members) > maxOpenerMembers {
		o.members = nil
	}
	o.members, o.scratch = o.members[:0], o.scratch[:0]
	openers.Put(o)
}

// value finds the envelopes in val (whose path is at) and replaces each
// with what open returns for its ciphertext; nil keeps the envelope.
// Subtrees without an envelope are not parsed. top says val is the whole
// body: what open returns may be scratch space, so an envelope that is
// the whole body is copied.
func (o *opener) value(val []byte, at string, top bool, open func(at string, ct []byte) ([]byte, error)) ([]byte, bool, error) {
	first := len(o.members)
	members, ok, err := appendMembers(o.members, val)
	if err != nil {
		return nil, false, err
	}
	if ok {
		// This object's members; nested objects append theirs after
		// them and give the room back.
		o.members = members
		ms := members[first:len(members):len(members)]
		defer func() { o.members = o.members[:first] }()
		if slices.ContainsFunc(ms, func(m member) bool { return m.is(envelopeKey) }) {
			// An envelope, or something made to look like one: either way
			// not data to serve as it is.
			if len(ms) != 1 {
				return nil, false, fmt.Errorf("%s: %w", at, ErrMalformed)
			}
			ct, err := o.ciphertext(ms[0].val)
			if err != nil {
				return nil, false, fmt.Errorf("%s: %w", at, err)
			}
			out, err := open(at, ct)
			if err != nil {
				return nil, false, fmt.Errorf("%s: %w", at, err)
			}
			if top {
				out = bytes.Clone(out)
			}
			return out, out != nil, nil
		}
		changed := false
		for i, m := range ms {
			if !bytes.Contains(m.val, envelopeName) {
				continue
			}
			v, ch, err := o.value(m.val, at+"."+m.name(), false, open)
			if err != nil {
				return nil, false, err
			}
			if ch {
				ms[i].val, changed = v, true
			}
		}
		if !changed {
			return val, false, nil
		}
		return renderObject(ms), true, nil
	}
	items, ok, err := arrayItems(val)
	if err != nil || !ok {
		return val, false, err
	}
	changed := false
	for i, it := range items {
		if !bytes.Contains(it, envelopeName) {
			continue
		}
		v, ch, err := o.value(it, at+"["+strconv.Itoa(i)+"]", false, open)
		if err != nil {
			return nil, false, err
		}
		if ch {
			items[i], changed = v, true
		}
	}
	if !changed {
		return val, false, nil
	}
	return renderArray(items), true, nil
}

// ciphertext decodes an envelope's string into the scratch space.
func (o *opener) ciphertext(val []byte) ([]byte, error) {
	if len(val) < 2 || val[0] != '"' || val[len(val)-1] != '"' {
		return nil, ErrMalformed
	}
	start := len(o.scratch)
	scratch, err := b64.AppendDecode(o.scratch, val[1:len(val)-1])
	if err != nil {
		return nil, ErrMalformed
	}
	o.scratch = scratch
	return scratch[start:len(scratch):len(scratch)], nil
}

// isEnvelope reports whether a value is an envelope.
func isEnvelope(val []byte) bool {
	if !bytes.HasPrefix(val, envelopeStart) {
		return false
	}
	ms, ok, err := objectMembers(val)
	return err == nil && ok && len(ms) == 1
}
