// Package jsonbytes holds the byte-level JSON step that Hearth's scanners
// over stored and compacted bodies share.
package jsonbytes

import "bytes"

// StringEnd returns the index just after the JSON string whose opening
// quote is b[i], and false when the string is not terminated. Escapes are
// skipped, not checked. It jumps from quote to quote (bytes.IndexByte is
// vectorised, and strings in resources are often paragraphs): a quote ends
// the string unless an odd run of backslashes escapes it.
func StringEnd(b []byte, i int) (int, bool) {
	for j := i + 1; ; {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return 0, false
		}
		q := j + k
		run := 0
		for p := q - 1; p > i && b[p] == '\\'; p-- {
			run++
		}
		if run%2 == 0 {
			return q + 1, true
		}
		j = q + 1
	}
}

// ContainerEnd returns the index just after the object or array whose
// opening bracket is b[i], counting brackets outside strings, and false
// when it is not closed. Contents are not checked.
func ContainerEnd(b []byte, i int) (int, bool) {
	depth := 0
	for j := i; j < len(b); j++ {
		switch b[j] {
		case '"':
			end, ok := StringEnd(b, j)
			if !ok {
				return 0, false
			}
			j = end - 1
		case '{', '[':
			depth++
		case '}', ']':
			if depth--; depth == 0 {
				return j + 1, true
			}
		}
	}
	return 0, false
}
