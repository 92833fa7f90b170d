package engine

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/hearth-fhir/hearth/crypt"
	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/fhir/search"
)

// Search over encrypted elements. A search parameter whose expression
// reaches an encrypted element keeps index rows, but of HMAC tokens
// (crypt.Ring.BlindIndex and PrefixTokens) instead of values, and queries
// on it are rewritten to the same tokens, so the store's SQL runs
// unchanged and never sees a value:
//
//   - token (identifier, telecom, phone, email, address-use …): one row per
//     form a query can take — system|code, code alone, system alone — each
//     a token in the code column with no system;
//   - string (name, family, given, address …): one row per prefix of the
//     normalised value (up to MaxPrefix characters), and one row whose
//     value and exact columns are tokens of the whole normalised and the
//     whole written value. Tokens have one length, so the store's prefix
//     range scan finds exactly the token asked for;
//   - date (birthdate): token rows of the year, month and day, searched by
//     eq at any of those precisions.
//
// What tokens cannot answer is refused with 400: :contains, :text, and
// other modifiers, date comparisons other than eq, values longer than the
// indexed prefixes, sorting, and a criterion that spans several resource
// types of which one encrypts it.

// paramIsEncrypted reports whether p, as it applies to typ, indexes an
// encrypted element.
func (s *sealedStore) paramIsEncrypted(typ string, p *search.Param) bool {
	if p == nil || !s.enc.Elements.Encrypts(typ) {
		return false
	}
	for _, path := range expressionPaths(p.Expression) {
		if s.enc.Elements.Touches(path) {
			return true
		}
	}
	return false
}

// lookup finds a parameter of a type by code; derived index names
// (identifier:text) give their parameter.
func (s *sealedStore) lookup(typ, code string) *search.Param {
	if s.eng == nil || s.eng.registry == nil {
		return nil
	}
	code, _, _ = strings.Cut(code, ":")
	return s.eng.registry.Lookup(typ, code)
}

// expressionPaths reads the element paths of a FHIRPath search expression:
// "Patient.telecom.where(system='email')" is Patient.telecom,
// "(Patient.deceased as dateTime)" Patient.deceased, and each branch of a
// union counts.
func expressionPaths(expr string) []string {
	var out []string
	for _, branch := range strings.Split(expr, "|") {
		b := strings.TrimLeft(strings.TrimSpace(branch), "(")
		b, _, _ = strings.Cut(b, " ")
		var segs []string
		for _, seg := range strings.Split(b, ".") {
			if seg == "" || strings.ContainsAny(seg, "()'=") {
				break
			}
			segs = append(segs, seg)
		}
		if len(segs) >= 2 {
			out = append(out, strings.Join(segs, "."))
		}
	}
	return out
}

// Token domains: each kind of token of a parameter has its own, so that
// tokens of different kinds never coincide.
func tokenDomain(typ, param, kind string) string { return typ + "." + param + ":" + kind }

// sealIndex replaces the index rows of encrypted parameters by tokens.
func (s *sealedStore) sealIndex(ctx context.Context, tenant, typ string, ix search.Index) (search.Index, error) {
	ring := s.enc.Ring
	enc := func(param string) bool { return s.paramIsEncrypted(typ, s.lookup(typ, param)) }
	var out search.Index
	var err error
	blind := func(domain, value string) string {
		if err != nil {
			return ""
		}
		var tok string
		tok, err = ring.BlindIndex(ctx, tenant, domain, value)
		return tok
	}
	for _, r := range ix.Tokens {
		if !enc(r.Param) {
			out.Tokens = append(out.Tokens, r)
			continue
		}
		out.Tokens = append(out.Tokens,
			search.TokenRow{Param: r.Param, Code: blind(tokenDomain(typ, r.Param, "system|code"), string(crypt.AAD(r.System, r.Code)))},
			search.TokenRow{Param: r.Param, Code: blind(tokenDomain(typ, r.Param, "code"), r.Code)})
		if r.System != "" {
			out.Tokens = append(out.Tokens, search.TokenRow{Param: r.Param, Code: blind(tokenDomain(typ, r.Param, "system"), r.System)})
		}
	}
	for _, r := range ix.Strings {
		if !enc(r.Param) {
			out.Strings = append(out.Strings, r)
			continue
		}
		if strings.Contains(r.Param, ":") {
			continue // :text rows of an encrypted token: not searchable
		}
		prefixes, perr := ring.PrefixTokens(ctx, tenant, tokenDomain(typ, r.Param, "prefix"), r.Value)
		if perr != nil {
			return search.Index{}, perr
		}
		for _, p := range prefixes {
			out.Strings = append(out.Strings, search.StringRow{Param: r.Param, Value: p})
		}
		out.Strings = append(out.Strings, search.StringRow{Param: r.Param,
			Value: blind(tokenDomain(typ, r.Param, "value"), r.Value), Exact: blind(tokenDomain(typ, r.Param, "exact"), r.Exact)})
	}
	for _, r := range ix.Dates {
		if !enc(r.Param) {
			out.Dates = append(out.Dates, r)
			continue
		}
		for _, d := range dateTokens(r.Low, r.High) {
			out.Tokens = append(out.Tokens, search.TokenRow{Param: r.Param, Code: blind(tokenDomain(typ, r.Param, "date"), d)})
		}
	}
	// Other kinds of rows of an encrypted parameter are dropped: not
	// searchable rather than in the clear.
	keep := func(param string) bool { return !enc(param) }
	for _, r := range ix.Numbers {
		if keep(r.Param) {
			out.Numbers = append(out.Numbers, r)
		}
	}
	for _, r := range ix.Quantities {
		if keep(r.Param) {
			out.Quantities = append(out.Quantities, r)
		}
	}
	for _, r := range ix.References {
		if keep(r.Param) {
			out.References = append(out.References, r)
		}
	}
	for _, r := range ix.URIs {
		if keep(r.Param) {
			out.URIs = append(out.URIs, r)
		}
	}
	return out, err
}

// dateTokens names the calendar periods a date row covers, at the
// precisions a birth date has: the year, the month and the day it falls in,
// as far as the row is at least that precise.
func dateTokens(low, high int64) []string {
	lo, hi := time.UnixMicro(low).UTC(), time.UnixMicro(high).UTC()
	if lo.Year() != hi.Year() {
		return nil
	}
	out := []string{lo.Format("2006")}
	if lo.Month() == hi.Month() {
		out = append(out, lo.Format("2006-01"))
		if lo.Day() == hi.Day() {
			out = append(out, lo.Format("2006-01-02"))
		}
	}
	return out
}

// dateQueryToken is the one period a date query value names, when it is
// exactly a year, a month or a day.
func dateQueryToken(low, high int64) (string, bool) {
	lo := time.UnixMicro(low).UTC()
	y := time.Date(lo.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
	m := time.Date(lo.Year(), lo.Month(), 1, 0, 0, 0, 0, time.UTC)
	d := time.Date(lo.Year(), lo.Month(), lo.Day(), 0, 0, 0, 0, time.UTC)
	switch {
	case lo.Equal(y) && high == y.AddDate(1, 0, 0).UnixMicro()-1:
		return lo.Format("2006"), true
	case lo.Equal(m) && high == m.AddDate(0, 1, 0).UnixMicro()-1:
		return lo.Format("2006-01"), true
	case lo.Equal(d) && high == d.AddDate(0, 0, 1).UnixMicro()-1:
		return lo.Format("2006-01-02"), true
	}
	return "", false
}

// sealCriteria rewrites criteria for resources of types (all types when
// empty) into token lookups where they touch encrypted elements.
func (s *sealedStore) sealCriteria(ctx context.Context, tenant string, types []string, cs []search.Criterion) ([]search.Criterion, error) {
	if len(cs) == 0 {
		return cs, nil
	}
	out := make([]search.Criterion, len(cs))
	for i, c := range cs {
		var err error
		if out[i], err = s.sealCriterion(ctx, tenant, types, c); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *sealedStore) sealCriterion(ctx context.Context, tenant string, types []string, c search.Criterion) (search.Criterion, error) {
	switch {
	case c.Has != nil:
		h := *c.Has
		where, err := s.sealCriterion(ctx, tenant, []string{h.Type}, h.Where)
		h.Where, c.Has = where, &h
		return c, err
	case c.Chain != nil:
		ch := *c.Chain
		targets := ch.Types
		if len(targets) == 0 && c.Param != nil {
			targets = c.Param.Targets
		}
		where, err := s.sealCriterion(ctx, tenant, targets, ch.Where)
		ch.Where, c.Chain = where, &ch
		return c, err
	case c.Param == nil:
		return c, nil
	}
	if len(types) == 0 {
		types = s.enc.Elements.Types()
	}
	var encIn []string
	for _, t := range types {
		if s.paramIsEncrypted(t, s.lookup(t, c.Param.Code)) {
			encIn = append(encIn, t)
		}
	}
	if len(encIn) == 0 {
		return c, nil
	}
	typ := encIn[0]
	if len(types) != 1 {
		return c, refuse(typ, c.Param.Code, "a search over several resource types; search "+typ+" on its own")
	}
	return s.sealValues(ctx, tenant, typ, c)
}

// sealValues turns a criterion on an encrypted parameter of typ into token
// lookups.
func (s *sealedStore) sealValues(ctx context.Context, tenant, typ string, c search.Criterion) (search.Criterion, error) {
	code := c.Param.Code
	if c.Modifier == search.ModMissing {
		return c, nil // presence is not encrypted
	}
	ring := s.enc.Ring
	values := make([]search.Value, 0, len(c.Values))
	tok := func(kind, v string) (string, error) {
		return ring.BlindIndex(ctx, tenant, tokenDomain(typ, code, kind), v)
	}
	switch c.Param.Type {
	case search.TypeToken:
		if c.Modifier != search.ModNone && c.Modifier != search.ModNot {
			return c, refuse(typ, code, ":"+string(c.Modifier))
		}
		for _, v := range c.Values {
			tv, ok := v.(search.TokenValue)
			if !ok {
				return c, refuse(typ, code, "this kind of value")
			}
			var t string
			var err error
			switch {
			case tv.AnyCode:
				t, err = tok("system", tv.System)
			case tv.HasSystem:
				t, err = tok("system|code", string(crypt.AAD(tv.System, tv.Code)))
			default:
				t, err = tok("code", tv.Code)
			}
			if err != nil {
				return c, err
			}
			values = append(values, search.TokenValue{Code: t})
		}
	case search.TypeString:
		if c.Modifier != search.ModNone && c.Modifier != search.ModExact {
			return c, refuse(typ, code, ":"+string(c.Modifier))
		}
		for _, v := range c.Values {
			sv, ok := v.(search.StringValue)
			if !ok {
				return c, refuse(typ, code, "this kind of value")
			}
			if c.Modifier == search.ModExact {
				val, err := tok("value", sv.Value)
				if err != nil {
					return c, err
				}
				exact, err := tok("exact", sv.Raw)
				if err != nil {
					return c, err
				}
				values = append(values, search.StringValue{Value: val, Raw: exact})
				continue
			}
			p, err := ring.PrefixToken(ctx, tenant, tokenDomain(typ, code, "prefix"), sv.Value)
			if errors.Is(err, crypt.ErrPrefixTooLong) {
				return c, fhir.Errorf(fhir.KindInvalid, "%s.%s is encrypted: a search value may have at most %d characters (or use :exact)",
					typ, code, ring.MaxPrefix())
			}
			if err != nil {
				return c, err
			}
			values = append(values, search.StringValue{Value: p})
		}
	case search.TypeDate:
		if c.Modifier != search.ModNone {
			return c, refuse(typ, code, ":"+string(c.Modifier))
		}
		for _, v := range c.Values {
			dv, ok := v.(search.DateValue)
			if !ok || (dv.Prefix != search.PrefixEQ && dv.Prefix != "") {
				return c, refuse(typ, code, "comparisons other than eq")
			}
			d, ok := dateQueryToken(dv.Low, dv.High)
			if !ok {
				return c, refuse(typ, code, "a value that is not a year, a month or a day")
			}
			t, err := tok("date", d)
			if err != nil {
				return c, err
			}
			values = append(values, search.TokenValue{Code: t})
		}
		p := *c.Param
		p.Type = search.TypeToken
		c.Param = &p
	default:
		return c, refuse(typ, code, "a search")
	}
	c.Values = values
	return c, nil
}

// refuse says what a search on an encrypted element cannot do.
func refuse(typ, code, what string) error {
	return fhir.Errorf(fhir.KindInvalid, "%s is encrypted on %s: %s is not supported on encrypted elements", code, typ, what).At(typ + "." + code)
}
