package fhirpath

import (
	"math"
	"math/big"
	"strconv"
	"strings"
)

// decimal is an exact FHIRPath Decimal, u × 10^-scale. FHIR decimals keep
// their precision ("1.10" is not "1.1" when printed), so they are never
// float64. Values are immutable: every operation returns a new u.
type decimal struct {
	u     *big.Int
	scale int32
}

// divisionScale is the number of decimal places a quotient keeps before
// trailing zeros are dropped.
const divisionScale = 8

// maxDecimalScale bounds scales so that hostile input ("1e-999999999")
// cannot make the evaluator allocate without limit.
const maxDecimalScale = 1000

func decimalFromInt(i int64) decimal { return decimal{u: big.NewInt(i)} }

// parseDecimal reads a FHIR/FHIRPath decimal: an optional sign, digits, an
// optional fraction and (as JSON allows) an optional exponent.
func parseDecimal(s string) (decimal, bool) {
	mant, exp := s, int64(0)
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		e, err := strconv.ParseInt(s[i+1:], 10, 32)
		if err != nil {
			return decimal{}, false
		}
		mant, exp = s[:i], e
	}
	neg := false
	if mant != "" && (mant[0] == '-' || mant[0] == '+') {
		neg = mant[0] == '-'
		mant = mant[1:]
	}
	intPart, frac, hasPoint := strings.Cut(mant, ".")
	if intPart == "" || (hasPoint && frac == "") || !allDigits(intPart) || !allDigits(frac) {
		return decimal{}, false
	}
	scale := int64(len(frac)) - exp
	if scale > maxDecimalScale || scale < -maxDecimalScale {
		return decimal{}, false
	}
	u, ok := new(big.Int).SetString(intPart+frac, 10)
	if !ok {
		return decimal{}, false
	}
	if scale < 0 {
		u.Mul(u, pow10(int32(-scale)))
		scale = 0
	}
	if neg {
		u.Neg(u)
	}
	return decimal{u: u, scale: int32(scale)}, true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func pow10(n int32) *big.Int {
	return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil)
}

func (d decimal) String() string {
	s := d.u.String()
	if d.scale == 0 {
		return s
	}
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	if n := int(d.scale) + 1 - len(s); n > 0 {
		s = strings.Repeat("0", n) + s
	}
	s = s[:len(s)-int(d.scale)] + "." + s[len(s)-int(d.scale):]
	if neg {
		s = "-" + s
	}
	return s
}

// withScale returns d with at least scale digits after the point.
func (d decimal) withScale(scale int32) decimal {
	if scale <= d.scale {
		return d
	}
	return decimal{u: new(big.Int).Mul(d.u, pow10(scale-d.scale)), scale: scale}
}

func align(a, b decimal) (decimal, decimal) {
	if a.scale < b.scale {
		return a.withScale(b.scale), b
	}
	return a, b.withScale(a.scale)
}

func (d decimal) cmp(e decimal) int {
	a, b := align(d, e)
	return a.u.Cmp(b.u)
}

func (d decimal) sign() int { return d.u.Sign() }

func (d decimal) add(e decimal) decimal {
	a, b := align(d, e)
	return decimal{u: new(big.Int).Add(a.u, b.u), scale: a.scale}
}

func (d decimal) sub(e decimal) decimal {
	a, b := align(d, e)
	return decimal{u: new(big.Int).Sub(a.u, b.u), scale: a.scale}
}

func (d decimal) mul(e decimal) decimal {
	return decimal{u: new(big.Int).Mul(d.u, e.u), scale: d.scale + e.scale}.limit()
}

func (d decimal) neg() decimal { return decimal{u: new(big.Int).Neg(d.u), scale: d.scale} }

func (d decimal) abs() decimal { return decimal{u: new(big.Int).Abs(d.u), scale: d.scale} }

// limit keeps repeated multiplication from growing the scale without bound.
func (d decimal) limit() decimal {
	if d.scale > maxDecimalScale {
		return d.round(maxDecimalScale, roundHalfUp)
	}
	return d
}

// quo divides exactly to divisionScale places (more when the operands have
// more) and drops trailing zeros; ok is false when e is zero.
func (d decimal) quo(e decimal) (decimal, bool) {
	if e.sign() == 0 {
		return decimal{}, false
	}
	scale := max(int32(divisionScale), d.scale, e.scale)
	// d/e = (du/10^ds) / (eu/10^es); scale the numerator so the integer
	// quotient has scale+1 digits, then round the last one away.
	num := new(big.Int).Mul(d.u, pow10(scale+1+e.scale))
	den := new(big.Int).Mul(e.u, pow10(d.scale))
	q := new(big.Int).Quo(num, den)
	return decimal{u: q, scale: scale + 1}.round(scale, roundHalfUp).trimZeros(), true
}

// trimZeros drops trailing fractional zeros.
func (d decimal) trimZeros() decimal {
	if d.scale == 0 || d.u.Sign() == 0 {
		return decimal{u: d.u, scale: 0}
	}
	u, r, ten := new(big.Int).Set(d.u), new(big.Int), big.NewInt(10)
	s := d.scale
	for s > 0 {
		q, m := new(big.Int).QuoRem(u, ten, r)
		if m.Sign() != 0 {
			break
		}
		u = q
		s--
	}
	return decimal{u: u, scale: s}
}

type roundMode uint8

const (
	roundHalfUp roundMode = iota // half away from zero
	roundFloor
	roundCeiling
	roundTruncate
)

// round returns d with exactly scale digits after the point.
func (d decimal) round(scale int32, mode roundMode) decimal {
	if scale >= d.scale {
		return d.withScale(scale)
	}
	div := pow10(d.scale - scale)
	q, r := new(big.Int).QuoRem(d.u, div, new(big.Int))
	if r.Sign() != 0 {
		switch mode {
		case roundHalfUp:
			twice := new(big.Int).Abs(r)
			twice.Lsh(twice, 1)
			if twice.Cmp(div) >= 0 {
				q.Add(q, big.NewInt(int64(d.u.Sign())))
			}
		case roundFloor:
			if d.u.Sign() < 0 {
				q.Sub(q, big.NewInt(1))
			}
		case roundCeiling:
			if d.u.Sign() > 0 {
				q.Add(q, big.NewInt(1))
			}
		}
	}
	return decimal{u: q, scale: scale}
}

// int64 returns d as an integer when it has no fractional part and fits.
func (d decimal) int64() (int64, bool) {
	t := d.trimZeros()
	if t.scale != 0 || !t.u.IsInt64() {
		return 0, false
	}
	return t.u.Int64(), true
}

func (d decimal) float() float64 {
	f, _ := strconv.ParseFloat(d.String(), 64)
	return f
}

// decimalFromFloat converts the result of a transcendental function. It
// keeps 15 significant digits, which removes binary noise such as
// 1.9999999999999998 while staying within float64's accuracy.
func decimalFromFloat(f float64) (decimal, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return decimal{}, false
	}
	d, ok := parseDecimal(strconv.FormatFloat(f, 'g', 15, 64))
	if !ok {
		return decimal{}, false
	}
	return d.trimZeros(), true
}
