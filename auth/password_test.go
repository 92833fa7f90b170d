package auth

import (
	"strings"
	"testing"
)

func TestPasswordHash(t *testing.T) {
	h := hashPassword("correct horse battery")
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash = %q", h)
	}
	if h == hashPassword("correct horse battery") {
		t.Error("two hashes of one password are equal: no salt")
	}
	if !checkPassword(h, "correct horse battery") || checkPassword(h, "correct horse batterY") || checkPassword(h, "") {
		t.Error("checkPassword accepts the wrong password or refuses the right one")
	}
	for _, bad := range []string{"", "plain", "$argon2i$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", "$argon2id$v=19$m=99999999,t=2,p=1$c2FsdA$aGFzaA",
		"$argon2id$v=19$m=19456,t=2,p=0$c2FsdA$aGFzaA", "$argon2id$v=19$m=19456,t=2,p=1$!!$aGFzaA", strings.Replace(h, "v=19", "v=16", 1)} {
		if checkPassword(bad, "correct horse battery") {
			t.Errorf("malformed hash %q matched", bad)
		}
	}
	for pw, ok := range map[string]bool{"short": false, "exactly10!": true, strings.Repeat("x", 257): false, "ünïcödé pässwörd": true} {
		if err := checkPasswordPolicy(pw); (err == nil) != ok {
			t.Errorf("policy(%q) = %v", pw, err)
		}
	}
}
