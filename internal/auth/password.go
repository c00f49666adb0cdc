package auth

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	_ "embed"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters: OWASP's first recommended set (19 MiB, two passes,
// one lane), about 30 ms on the 2-core machines this runs on. They are
// stored with each hash, so raising them later re-hashes nobody by force.
const (
	argonMemory  = 19 * 1024 // KiB
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

// Password length limits: long enough to make guessing hopeless, short
// enough that hashing cannot be used to tie up the server.
const (
	MinPasswordLength = 12
	MaxPasswordLength = 256
)

// CheckPassword says what is wrong with a new password, or "" if nothing:
// too short, too long, or one of the most common passwords (ASVS 2.1.7).
func CheckPassword(p string) string {
	n := utf8.RuneCountInString(p)
	switch {
	case n < MinPasswordLength:
		return fmt.Sprintf("must be at least %d characters", MinPasswordLength)
	case len(p) > MaxPasswordLength:
		return fmt.Sprintf("must be at most %d bytes", MaxPasswordLength)
	case isCommonPassword(p):
		return "is one of the most common passwords, which are tried first: choose another (three or four unrelated words make a good one)"
	}
	return ""
}

// The common passwords (commonpw/NOTICE.md says which and from where),
// read into a set, lower-cased, the first time a password is checked.
//
//go:embed commonpw/common-passwords.txt.gz
var commonPasswordsGz []byte

var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	zr, err := gzip.NewReader(bytes.NewReader(commonPasswordsGz))
	if err != nil {
		panic("auth: the embedded common-password list is unreadable: " + err.Error())
	}
	set := make(map[string]struct{}, 150_000)
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		if line := sc.Text(); line != "" {
			set[strings.ToLower(line)] = struct{}{}
		}
	}
	if err := sc.Err(); err != nil {
		panic("auth: the embedded common-password list is unreadable: " + err.Error())
	}
	return set
})

func isCommonPassword(p string) bool {
	_, common := commonPasswords()[strings.ToLower(p)]
	return common
}

// CommonPasswordCount is how many passwords CheckPassword refuses as common.
func CommonPasswordCount() int { return len(commonPasswords()) }

var b64 = base64.RawStdEncoding

// HashPassword returns the argon2id hash of a password in the PHC string
// format: $argon2id$v=19$m=19456,t=2,p=1$salt$key.
func HashPassword(password string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

var errBadHash = errors.New("not an argon2id hash")

// VerifyPassword reports whether password matches the encoded hash.
func VerifyPassword(password, encoded string) (bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errBadHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, errBadHash
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || t == 0 || p == 0 || m > 1<<21 || t > 20 {
		return false, errBadHash
	}
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false, errBadHash
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) < 16 {
		return false, errBadHash
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// dummyHash is verified against when no account matches, so a sign-in for
// an unknown name takes as long as one for a known name.
var dummyHash, _ = HashPassword("no account has this password")

// WasteTime spends as long as one password check.
func WasteTime(password string) { _, _ = VerifyPassword(password, dummyHash) }
