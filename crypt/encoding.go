package crypt

import "encoding/binary"

// fields encodes strings unambiguously: each is preceded by its length, so
// ("ab","c") and ("a","bc") never encode alike.
func fields(parts ...string) []byte {
	n := 0
	for _, p := range parts {
		n += binary.MaxVarintLen64 + len(p)
	}
	return appendFields(make([]byte, 0, n), parts...)
}

func appendFields(b []byte, parts ...string) []byte {
	for _, p := range parts {
		b = binary.AppendUvarint(b, uint64(len(p)))
		b = append(b, p...)
	}
	return b
}
