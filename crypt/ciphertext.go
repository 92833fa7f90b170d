package crypt

import (
	"encoding/binary"
	"fmt"
	"math"
)

// formatV1 is the first byte of every ciphertext: AES-256-GCM, 96-bit random
// nonce, 128-bit tag. A new scheme gets a new byte.
const formatV1 = 0x01

// overhead is what GCM adds: nonce and tag.
const overhead = 12 + 16

// header returns the ciphertext prefix for a DEK version.
func header(version int) []byte {
	return binary.AppendUvarint([]byte{formatV1}, uint64(version))
}

// splitHeader reads the format byte and DEK version of a ciphertext and
// returns the header and the sealed rest (nonce, ciphertext, tag).
func splitHeader(ct []byte) (version int, head, sealed []byte, err error) {
	if len(ct) == 0 || ct[0] != formatV1 {
		return 0, nil, nil, ErrMalformed
	}
	v, n := binary.Uvarint(ct[1:])
	var shortest [binary.MaxVarintLen64]byte
	if n <= 0 || v == 0 || v > math.MaxInt32 || n != binary.PutUvarint(shortest[:], v) {
		// n must also be the shortest encoding: one version, one header.
		return 0, nil, nil, ErrMalformed
	}
	head, sealed = ct[:1+n], ct[1+n:]
	if len(sealed) < overhead {
		return 0, nil, nil, ErrMalformed
	}
	return int(v), head, sealed, nil
}

// VersionOf returns the DEK version a ciphertext was made with, without
// decrypting it: rotation uses it to count what is left to re-encrypt.
func VersionOf(ct []byte) (int, error) {
	v, _, _, err := splitHeader(ct)
	return v, err
}

// valueAAD is what GCM authenticates besides the plaintext: the header (so
// the version cannot be changed), the tenant, and the caller's associated
// data, in an encoding where no two inputs collide.
func valueAAD(head []byte, tenant string, aad []byte) []byte {
	b := make([]byte, 0, len(head)+len(tenant)+len(aad)+2*binary.MaxVarintLen64)
	b = append(b, head...)
	b = appendFields(b, tenant)
	b = binary.AppendUvarint(b, uint64(len(aad)))
	return append(b, aad...)
}

// AAD builds associated data from parts, each length-prefixed, for callers
// that bind a value to several names (tenant, type, id, element path).
func AAD(parts ...string) []byte { return fields(parts...) }

func versionError(err error, version int) error {
	return fmt.Errorf("%w (key version %d)", err, version)
}
