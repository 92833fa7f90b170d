package fhirpath

import (
	"encoding/base64"
	"encoding/hex"
	"html"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// String functions (http://hl7.org/fhirpath/N1/#string-manipulation).
// Positions and lengths count characters, not bytes.

func stringsHasPrefix(s, p string) bool { return strings.HasPrefix(s, p) }
func stringsHasSuffix(s, p string) bool { return strings.HasSuffix(s, p) }
func stringsContains(s, p string) bool  { return strings.Contains(s, p) }
func stringsToUpper(s string) string    { return strings.ToUpper(s) }
func stringsToLower(s string) string    { return strings.ToLower(s) }
func stringsTrim(s string) string       { return strings.TrimSpace(s) }

// stringTest builds startsWith, endsWith and contains.
func stringTest(name string, f func(s, arg string) bool) func(*evalCtx, []item, *callNode, []item) ([]item, error) {
	return func(c *evalCtx, in []item, call *callNode, out []item) ([]item, error) {
		s, ok, err := stringInput(in, name)
		if err != nil || !ok {
			return out, err
		}
		arg, ok, err := c.stringArg(call, 0)
		if err != nil || !ok {
			return out, err
		}
		return append(out, boolItem(f(s, arg))), nil
	}
}

// stringMap builds upper, lower and trim.
func stringMap(name string, f func(string) string) func(*evalCtx, []item, *callNode, []item) ([]item, error) {
	return func(_ *evalCtx, in []item, _ *callNode, out []item) ([]item, error) {
		s, ok, err := stringInput(in, name)
		if err != nil || !ok {
			return out, err
		}
		return append(out, stringItem(f(s))), nil
	}
}

// runeIndex converts a byte offset in s to a character offset.
func runeIndex(s string, byteOff int) int {
	if byteOff < 0 {
		return -1
	}
	return utf8.RuneCountInString(s[:byteOff])
}

func fnIndexOf(c *evalCtx, in []item, call *callNode, out []item) ([]item, error) {
	s, ok, err := stringInput(in, "indexOf")
	if err != nil || !ok {
		return out, err
	}
	sub, ok, err := c.stringArg(call, 0)
	if err != nil || !ok {
		return out, err
	}
	return append(out, intItem(int64(runeIndex(s, strings.Index(s, sub))))), nil
}

func fnLastIndexOf(c *evalCtx, in []item, call *callNode, out []item) ([]item, error) {
	s, ok, err := stringInput(in, "lastIndexOf")
	if err != nil || !ok {
		return out, err
	}
	sub, ok, err := c.stringArg(call, 0)
	if err != nil || !ok {
		return out, err
	}
	return append(out, intItem(int64(runeIndex(s, strings.LastIndex(s, sub))))), nil
}

func fnSubstring(c *evalCtx, in []item, call *callNode, out []item) ([]item, error) {
	s, ok, err := stringInput(in, "substring")
	if err != nil || !ok {
		return out, err
	}
	start, ok, err := c.intArg(call, 0)
	if err != nil || !ok {
		return out, err
	}
	r := []rune(s)
	if start < 0 || start >= int64(len(r)) {
		return out, nil
	}
	end := int64(len(r))
	if len(call.args) == 2 {
		n, ok, err := c.intArg(call, 1)
		if err != nil {
			return out, err
		}
		if ok {
			if n < 0 {
				n = 0
			}
			end = min(end, start+n)
		}
	}
	return append(out, stringItem(string(r[start:end]))), nil
}

func fnReplace(c *evalCtx, in []item, call *callNode, out []item) ([]item, error) {
	s, ok, err := stringInput(in, "replace")
	if err != nil || !ok {
		return out, err
	}
	pattern, ok1, err := c.stringArg(call, 0)
	if err != nil {
		return out, err
	}
	repl, ok2, err := c.stringArg(call, 1)
	if err != nil || !ok1 || !ok2 {
		return out, err
	}
	if n := int64(strings.Count(s, pattern)); int64(len(s))+n*int64(len(repl)) > maxString {
		return out, evalError("string result longer than %d bytes", maxString)
	}
	return append(out, stringItem(strings.ReplaceAll(s, pattern, repl))), nil
}

// compileRegex compiles a FHIRPath regular expression: '.' matches line
// ends too, and full anchors the whole string.
func compileRegex(pattern string, full bool) (*regexp.Regexp, error) {
	p := "(?s)" + pattern
	if full {
		p = "(?s)^(?:" + pattern + ")$"
	}
	re, err := regexp.Compile(p)
	if err != nil {
		return nil, evalError("invalid regular expression %q", pattern)
	}
	return re, nil
}

func fnMatches(full bool) func(*evalCtx, []item, *callNode, []item) ([]item, error) {
	return func(c *evalCtx, in []item, call *callNode, out []item) ([]item, error) {
		s, ok, err := stringInput(in, "matches")
		if err != nil || !ok {
			return out, err
		}
		pattern, ok, err := c.stringArg(call, 0)
		if err != nil || !ok {
			return out, err
		}
		re, err := compileRegex(pattern, full)
		if err != nil {
			return out, err
		}
		return append(out, boolItem(re.MatchString(s))), nil
	}
}

func fnReplaceMatches(c *evalCtx, in []item, call *callNode, out []item) ([]item, error) {
	s, ok, err := stringInput(in, "replaceMatches")
	if err != nil || !ok {
		return out, err
	}
	pattern, ok1, err := c.stringArg(call, 0)
	if err != nil {
		return out, err
	}
	repl, ok2, err := c.stringArg(call, 1)
	if err != nil || !ok1 || !ok2 {
		return out, err
	}
	if pattern == "" {
		return append(out, stringItem(s)), nil
	}
	re, err := compileRegex(pattern, false)
	if err != nil {
		return out, err
	}
	if n := int64(len(re.FindAllStringIndex(s, -1))); int64(len(s))+n*int64(len(repl)) > maxString {
		return out, evalError("string result longer than %d bytes", maxString)
	}
	return checkString(out, re.ReplaceAllString(s, repl))
}

func fnLength(_ *evalCtx, in []item, _ *callNode, out []item) ([]item, error) {
	s, ok, err := stringInput(in, "length")
	if err != nil || !ok {
		return out, err
	}
	return append(out, intItem(int64(utf8.RuneCountInString(s)))), nil
}

func fnToChars(_ *evalCtx, in []item, _ *callNode, out []item) ([]item, error) {
	s, ok, err := stringInput(in, "toChars")
	if err != nil || !ok {
		return out, err
	}
	for _, r := range s {
		out = append(out, stringItem(string(r)))
	}
	return out, nil
}

func fnSplit(c *evalCtx, in []item, call *callNode, out []item) ([]item, error) {
	s, ok, err := stringInput(in, "split")
	if err != nil || !ok {
		return out, err
	}
	sep, ok, err := c.stringArg(call, 0)
	if err != nil || !ok {
		return out, err
	}
	for _, part := range strings.Split(s, sep) {
		out = append(out, stringItem(part))
	}
	return out, nil
}

func fnJoin(c *evalCtx, in []item, call *callNode, out []item) ([]item, error) {
	sep := ""
	if len(call.args) == 1 {
		s, ok, err := c.stringArg(call, 0)
		if err != nil {
			return out, err
		}
		if ok {
			sep = s
		}
	}
	parts := make([]string, 0, len(in))
	for _, it := range in {
		v, _, _ := it.system()
		s, ok := v.(string)
		if !ok {
			return out, evalError("join() needs strings, found %s", typeLabel(it))
		}
		parts = append(parts, s)
	}
	return checkString(out, strings.Join(parts, sep))
}

func fnEncode(c *evalCtx, in []item, call *callNode, out []item) ([]item, error) {
	s, ok, err := stringInput(in, "encode")
	if err != nil || !ok {
		return out, err
	}
	format, ok, err := c.stringArg(call, 0)
	if err != nil || !ok {
		return out, err
	}
	switch format {
	case "base64":
		return append(out, stringItem(base64.StdEncoding.EncodeToString([]byte(s)))), nil
	case "urlbase64":
		return append(out, stringItem(base64.URLEncoding.EncodeToString([]byte(s)))), nil
	case "hex":
		return append(out, stringItem(hex.EncodeToString([]byte(s)))), nil
	}
	return out, evalError("unknown encoding %q", format)
}

func fnDecode(c *evalCtx, in []item, call *callNode, out []item) ([]item, error) {
	s, ok, err := stringInput(in, "decode")
	if err != nil || !ok {
		return out, err
	}
	format, ok, err := c.stringArg(call, 0)
	if err != nil || !ok {
		return out, err
	}
	var b []byte
	switch format {
	case "base64":
		b, err = base64.StdEncoding.DecodeString(s)
	case "urlbase64":
		b, err = base64.URLEncoding.DecodeString(s)
	case "hex":
		b, err = hex.DecodeString(s)
	default:
		return out, evalError("unknown encoding %q", format)
	}
	if err != nil {
		return out, nil
	}
	return append(out, stringItem(string(b))), nil
}

var htmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#39;")

func fnEscape(c *evalCtx, in []item, call *callNode, out []item) ([]item, error) {
	s, ok, err := stringInput(in, "escape")
	if err != nil || !ok {
		return out, err
	}
	format, ok, err := c.stringArg(call, 0)
	if err != nil || !ok {
		return out, err
	}
	switch format {
	case "html":
		return append(out, stringItem(htmlEscaper.Replace(s))), nil
	case "json":
		q := strconv.Quote(s)
		return append(out, stringItem(q[1:len(q)-1])), nil
	}
	return out, evalError("unknown escape format %q", format)
}

func fnUnescape(c *evalCtx, in []item, call *callNode, out []item) ([]item, error) {
	s, ok, err := stringInput(in, "unescape")
	if err != nil || !ok {
		return out, err
	}
	format, ok, err := c.stringArg(call, 0)
	if err != nil || !ok {
		return out, err
	}
	switch format {
	case "html":
		return append(out, stringItem(html.UnescapeString(s))), nil
	case "json":
		u, ok := unescapeJSON(s)
		if !ok {
			return out, nil
		}
		return append(out, stringItem(u)), nil
	}
	return out, evalError("unknown escape format %q", format)
}

// unescapeJSON resolves the escapes of a JSON string's content; unescaped
// quotes are taken as they are.
func unescapeJSON(s string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 >= len(s) {
			return "", false
		}
		i++
		switch e := s[i]; e {
		case '"', '\\', '/':
			b.WriteByte(e)
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			if i+5 > len(s) {
				return "", false
			}
			n, err := strconv.ParseUint(s[i+1:i+5], 16, 32)
			if err != nil {
				return "", false
			}
			b.WriteRune(rune(n))
			i += 4
		default:
			return "", false
		}
	}
	return b.String(), true
}
