package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/hearth-fhir/hearth/fhir"
)

// argon2id parameters: OWASP's recommendation for argon2id (19 MiB, two
// passes, one lane), about 20 ms per hash on these machines: slow for a
// guesser, cheap enough for a login.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024 // KiB
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

// Password length bounds: NIST SP 800-63B asks for at least 8 characters
// and for long passphrases to be accepted; the cap keeps a hash request cheap.
const (
	minPasswordLen = 10
	maxPasswordLen = 256
)

// checkPasswordPolicy refuses passwords a user should not be allowed to set.
func checkPasswordPolicy(pw string) error {
	n := utf8.RuneCountInString(pw)
	if n < minPasswordLen || len(pw) > maxPasswordLen {
		return fhir.Errorf(fhir.KindInvalid, "a password needs %d to %d characters", minPasswordLen, maxPasswordLen)
	}
	return nil
}

// hashPassword returns an argon2id hash in the PHC string format, so the
// parameters travel with the hash and can be raised later.
func hashPassword(pw string) string {
	salt := make([]byte, argonSaltLen)
	rand.Read(salt)
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// dummyHash is checked against when there is no user, so that unknown and
// known usernames take the same time.
var dummyHash = sync.OnceValue(func() string { return hashPassword("not a password anyone has") })

// checkPassword reports whether pw matches a PHC argon2id hash. A malformed
// hash never matches.
func checkPassword(hash, pw string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) || len(pw) > maxPasswordLen {
		return false
	}
	var m uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m > 1<<20 || t > 16 || p == 0 {
		return false
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}
