package fhirpath

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

type tokenKind uint8

const (
	tokEOF        tokenKind = iota
	tokIdent                // name or keyword; text is the name
	tokDelimIdent           // `quoted name`; text is unescaped
	tokString               // 'text'; text is unescaped
	tokNumber               // 12, 1.5; text as written
	tokLong                 // 12L
	tokDateTime             // @2015-02-04T14:34; text without the @
	tokTime                 // @T14:34; text without the @T
	tokVar                  // %name; text is the name
	tokSpecial              // $this, $index, $total; text without the $
	tokPunct                // operators and brackets; text is the symbol
)

type token struct {
	kind tokenKind
	text string
	pos  int
}

// lexer splits an expression into tokens. It is used once per Parse.
type lexer struct {
	src string
	pos int
}

func (l *lexer) next() (token, error) {
	if err := l.skipSpace(); err != nil {
		return token{}, err
	}
	start := l.pos
	if l.pos >= len(l.src) {
		return token{kind: tokEOF, pos: start}, nil
	}
	c := l.src[l.pos]
	switch {
	case isIdentStart(c):
		for l.pos < len(l.src) && isIdentPart(l.src[l.pos]) {
			l.pos++
		}
		return token{kind: tokIdent, text: l.src[start:l.pos], pos: start}, nil
	case c >= '0' && c <= '9':
		return l.number(start), nil
	case c == '`':
		s, err := l.quoted('`')
		return token{kind: tokDelimIdent, text: s, pos: start}, err
	case c == '\'':
		s, err := l.quoted('\'')
		return token{kind: tokString, text: s, pos: start}, err
	case c == '@':
		return l.dateTime(start)
	case c == '%':
		l.pos++
		if l.pos < len(l.src) {
			switch d := l.src[l.pos]; {
			case d == '`' || d == '\'':
				s, err := l.quoted(d)
				return token{kind: tokVar, text: s, pos: start}, err
			case isIdentStart(d):
				for l.pos < len(l.src) && (isIdentPart(l.src[l.pos]) || l.src[l.pos] == '-') {
					l.pos++
				}
				return token{kind: tokVar, text: l.src[start+1 : l.pos], pos: start}, nil
			}
		}
		return token{}, syntaxError(start, "'%%' must be followed by a name")
	case c == '$':
		l.pos++
		for l.pos < len(l.src) && isIdentPart(l.src[l.pos]) {
			l.pos++
		}
		name := l.src[start+1 : l.pos]
		if name != "this" && name != "index" && name != "total" {
			return token{}, syntaxError(start, "unknown special variable $%s", name)
		}
		return token{kind: tokSpecial, text: name, pos: start}, nil
	}
	for _, p := range [...]string{"<=", ">=", "!=", "!~"} {
		if strings.HasPrefix(l.src[l.pos:], p) {
			l.pos += 2
			return token{kind: tokPunct, text: p, pos: start}, nil
		}
	}
	if strings.IndexByte(".[](){},+-*/&|=~<>", c) >= 0 {
		l.pos++
		return token{kind: tokPunct, text: l.src[start:l.pos], pos: start}, nil
	}
	r, _ := utf8.DecodeRuneInString(l.src[l.pos:])
	return token{}, syntaxError(start, "unexpected character %q", r)
}

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isIdentPart(c byte) bool { return isIdentStart(c) || (c >= '0' && c <= '9') }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// skipSpace skips white space and comments.
func (l *lexer) skipSpace() error {
	for l.pos < len(l.src) {
		switch c := l.src[l.pos]; {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			l.pos++
		case strings.HasPrefix(l.src[l.pos:], "//"):
			if i := strings.IndexByte(l.src[l.pos:], '\n'); i >= 0 {
				l.pos += i + 1
			} else {
				l.pos = len(l.src)
			}
		case strings.HasPrefix(l.src[l.pos:], "/*"):
			i := strings.Index(l.src[l.pos+2:], "*/")
			if i < 0 {
				return syntaxError(l.pos, "comment is not closed")
			}
			l.pos += i + 4
		default:
			return nil
		}
	}
	return nil
}

func (l *lexer) number(start int) token {
	for l.pos < len(l.src) && isDigit(l.src[l.pos]) {
		l.pos++
	}
	// A point belongs to the number only when a digit follows: in
	// "1.toString()" it starts an invocation.
	if l.pos+1 < len(l.src) && l.src[l.pos] == '.' && isDigit(l.src[l.pos+1]) {
		l.pos++
		for l.pos < len(l.src) && isDigit(l.src[l.pos]) {
			l.pos++
		}
	} else if l.pos < len(l.src) && l.src[l.pos] == 'L' && (l.pos+1 == len(l.src) || !isIdentPart(l.src[l.pos+1])) {
		l.pos++
		return token{kind: tokLong, text: l.src[start : l.pos-1], pos: start}
	}
	return token{kind: tokNumber, text: l.src[start:l.pos], pos: start}
}

// quoted reads a string or delimited identifier and resolves its escapes.
func (l *lexer) quoted(q byte) (string, error) {
	start := l.pos
	l.pos++
	var b strings.Builder
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch {
		case c == q:
			l.pos++
			return b.String(), nil
		case c == '\\':
			if l.pos+1 >= len(l.src) {
				return "", syntaxError(l.pos, "unfinished escape")
			}
			e := l.src[l.pos+1]
			l.pos += 2
			switch e {
			case '\'', '"', '`', '\\', '/':
				b.WriteByte(e)
			case 'f':
				b.WriteByte('\f')
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'u':
				if l.pos+4 > len(l.src) {
					return "", syntaxError(l.pos, "bad \\u escape")
				}
				n, err := strconv.ParseUint(l.src[l.pos:l.pos+4], 16, 32)
				if err != nil {
					return "", syntaxError(l.pos, "bad \\u escape")
				}
				b.WriteRune(rune(n))
				l.pos += 4
			default:
				return "", syntaxError(l.pos-2, "unknown escape \\%c", e)
			}
		default:
			b.WriteByte(c)
			l.pos++
		}
	}
	return "", syntaxError(start, "%c-quoted text is not closed", q)
}

// dateTime reads @date, @dateTime and @Ttime literals. Their shape is
// checked here; the values are checked when the literal is built.
func (l *lexer) dateTime(start int) (token, error) {
	l.pos++
	if l.pos < len(l.src) && l.src[l.pos] == 'T' {
		l.pos++
		if !l.timePart() {
			return token{}, syntaxError(start, "bad time literal")
		}
		return token{kind: tokTime, text: l.src[start+2 : l.pos], pos: start}, nil
	}
	if !l.digits(4) {
		return token{}, syntaxError(start, "bad date literal")
	}
	if l.dashDigits() {
		l.dashDigits()
	}
	if l.pos < len(l.src) && l.src[l.pos] == 'T' {
		l.pos++
		if l.timePart() {
			l.zone()
		}
	}
	return token{kind: tokDateTime, text: l.src[start+1 : l.pos], pos: start}, nil
}

func (l *lexer) digits(n int) bool {
	if l.pos+n > len(l.src) {
		return false
	}
	for i := 0; i < n; i++ {
		if !isDigit(l.src[l.pos+i]) {
			return false
		}
	}
	l.pos += n
	return true
}

// dashDigits reads "-DD"; sep-and-digits groups are all or nothing.
func (l *lexer) dashDigits() bool { return l.sepDigits('-') }

func (l *lexer) sepDigits(sep byte) bool {
	if l.pos+3 > len(l.src) || l.src[l.pos] != sep || !isDigit(l.src[l.pos+1]) || !isDigit(l.src[l.pos+2]) {
		return false
	}
	l.pos += 3
	return true
}

// timePart reads HH[:MM[:SS[.fff]]].
func (l *lexer) timePart() bool {
	if !l.digits(2) {
		return false
	}
	if l.sepDigits(':') && l.sepDigits(':') {
		if l.pos+1 < len(l.src) && l.src[l.pos] == '.' && isDigit(l.src[l.pos+1]) {
			l.pos++
			for l.pos < len(l.src) && isDigit(l.src[l.pos]) {
				l.pos++
			}
		}
	}
	return true
}

// zone reads Z or ±HH:MM.
func (l *lexer) zone() {
	if l.pos >= len(l.src) {
		return
	}
	switch l.src[l.pos] {
	case 'Z':
		l.pos++
	case '+', '-':
		save := l.pos
		l.pos++
		if !l.digits(2) || !l.sepDigits(':') {
			l.pos = save
		}
	}
}
