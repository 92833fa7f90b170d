package jsonbytes

import "testing"

// stringEndByBytes is the byte-at-a-time scan StringEnd replaced, kept as
// its oracle.
func stringEndByBytes(b []byte, i int) (int, bool) {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1, true
		}
	}
	return 0, false
}

// FuzzStringEnd holds StringEnd to the byte-at-a-time scan.
func FuzzStringEnd(f *testing.F) {
	for _, s := range []string{`"abc"`, `"a\"b"`, `"a\\"`, `"a\\\"b"`, `"\\\\\\"`, `"abc`, `"a\`, `""`, `"\""x"`, `x"ab"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		i := 0
		if len(b) > 0 && b[0] != '"' {
			i = 1 // a string not at the start of the buffer
		}
		if i >= len(b) || b[i] != '"' {
			return
		}
		got, gok := StringEnd(b, i)
		want, wok := stringEndByBytes(b, i)
		if got != want || gok != wok {
			t.Fatalf("StringEnd(%q, %d) = %d, %v; byte scan %d, %v", b, i, got, gok, want, wok)
		}
	})
}

// containerEndByBytes is the bracket count fhir and crypt each had, kept as
// ContainerEnd's oracle.
func containerEndByBytes(b []byte, i int) (int, bool) {
	depth := 0
	for j := i; j < len(b); j++ {
		switch b[j] {
		case '"':
			end, ok := stringEndByBytes(b, j)
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

// FuzzContainerEnd holds ContainerEnd to the byte-at-a-time count.
func FuzzContainerEnd(f *testing.F) {
	for _, s := range []string{`{}`, `[1,{"a":"}"}]`, `{"a":[`, `{"a\"":"]"}x`, `[[[]]]]`, `{"a":"\\"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 || b[0] != '{' && b[0] != '[' {
			return
		}
		got, gok := ContainerEnd(b, 0)
		want, wok := containerEndByBytes(b, 0)
		if got != want || gok != wok {
			t.Fatalf("ContainerEnd(%q) = %d, %v; byte count %d, %v", b, got, gok, want, wok)
		}
	})
}
