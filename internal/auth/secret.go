package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"
)

// Prefixes of the secrets Throughgate issues, so a leaked one is easy to
// recognise (and for secret scanners to find).
const (
	TokenPrefix   = "tgp_" // personal access token
	SessionPrefix = "tgs_" // session cookie value
)

// NewSecret returns a new random 32-byte secret with a prefix, and the hash
// to store in its place.
func NewSecret(prefix string) (plain string, hash []byte) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	plain = prefix + base64.RawURLEncoding.EncodeToString(b)
	return plain, HashSecret(plain)
}

// HashSecret is the stored form of a secret: its SHA-256. The secret has
// 256 bits of entropy, so a fast hash is enough; no salt is needed.
func HashSecret(plain string) []byte {
	h := sha256.Sum256([]byte(plain))
	return h[:]
}

// LooksLike reports whether s has the prefix and length of a secret we issue.
func LooksLike(s, prefix string) bool {
	return strings.HasPrefix(s, prefix) && len(s) == len(prefix)+43
}
