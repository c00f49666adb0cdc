package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Two-step sign-in: time-based one-time passwords (TOTP, RFC 6238: HOTP of
// RFC 4226 over 30-second steps, HMAC-SHA-1, six digits — what every
// authenticator app speaks), and single-use recovery codes for a lost
// phone. Local accounts of roles that see many cases or administer the
// service must use it (RequiresMFA); officers may.
//
// The TOTP secret is shown once, when the person enrols, and never
// returned after; it is kept in PostgreSQL as it is (not encrypted: a
// verifier needs the secret itself), in a table of its own
// (staff_totp). Recovery codes are kept as SHA-256 hashes only.

const (
	totpPeriod = 30 // seconds
	totpDigits = 6
	// totpSkew is how many steps either side of now a code may be from:
	// a phone's clock a little out.
	totpSkew = 1
	// RecoveryCodeCount is how many recovery codes a person is given.
	RecoveryCodeCount = 10
)

// RequiresMFA reports whether a role must sign in with a second factor
// when it signs in with a password: administrators, managers and heads of
// service.
func RequiresMFA(role string) bool {
	return role == RoleAdmin || role == RoleManager || role == RoleHead
}

// NewTOTPSecret returns a new random 160-bit secret (RFC 4226's
// recommended length for HMAC-SHA-1).
func NewTOTPSecret() []byte {
	b := make([]byte, 20)
	_, _ = rand.Read(b)
	return b
}

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// TOTPSecretText is the secret as authenticator apps take it typed in:
// base32, no padding.
func TOTPSecretText(secret []byte) string { return b32.EncodeToString(secret) }

// TOTPURI is the otpauth:// address an authenticator app reads (as a QR
// code or a link) to add the account.
func TOTPURI(secret []byte, account, issuer string) string {
	q := url.Values{}
	q.Set("secret", TOTPSecretText(secret))
	q.Set("issuer", issuer)
	q.Set("algorithm", "SHA1")
	q.Set("digits", fmt.Sprint(totpDigits))
	q.Set("period", fmt.Sprint(totpPeriod))
	u := url.URL{Scheme: "otpauth", Host: "totp", Path: "/" + issuer + ":" + account, RawQuery: q.Encode()}
	return u.String()
}

// TOTPStep is the 30-second step a moment falls in.
func TOTPStep(t time.Time) int64 { return t.Unix() / totpPeriod }

// totpCode is the HOTP value (RFC 4226 §5.3) of the secret at a counter.
func totpCode(secret []byte, counter int64, digits int) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(counter))
	mac := hmac.New(sha1.New, secret)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	bin := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	mod := uint32(1)
	for range digits {
		mod *= 10
	}
	return fmt.Sprintf("%0*d", digits, bin%mod)
}

// normaliseCode drops the spaces and dashes people type in codes.
func normaliseCode(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '\t' {
			return -1
		}
		return r
	}, s)
}

// CheckTOTP finds the step, within a step of now either side, whose code
// is code. The caller accepts it only if the step is later than the last
// one accepted for the person, so a code cannot be used twice.
func CheckTOTP(secret []byte, code string, now time.Time) (step int64, ok bool) {
	code = normaliseCode(code)
	if len(code) != totpDigits {
		return 0, false
	}
	for _, c := range code {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	t := TOTPStep(now)
	for d := -totpSkew; d <= totpSkew; d++ {
		if subtle.ConstantTimeCompare([]byte(totpCode(secret, t+int64(d), totpDigits)), []byte(code)) == 1 {
			return t + int64(d), true
		}
	}
	return 0, false
}

// Recovery codes are 16 characters of Crockford's base32 (80 random
// bits), shown in four groups: abcd-efgh-jkmn-pqrs.
const recoveryAlphabet = "0123456789abcdefghjkmnpqrstvwxyz"

// NewRecoveryCodes returns RecoveryCodeCount new recovery codes and the
// hashes to keep in their place.
func NewRecoveryCodes() (plain []string, hashes [][]byte) {
	for range RecoveryCodeCount {
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		var sb strings.Builder
		for i, x := range b {
			if i > 0 && i%4 == 0 {
				sb.WriteByte('-')
			}
			sb.WriteByte(recoveryAlphabet[x&31])
		}
		plain = append(plain, sb.String())
		hashes = append(hashes, HashRecoveryCode(sb.String()))
	}
	return plain, hashes
}

// HashRecoveryCode is the stored form of a recovery code, however it was
// typed (case, spaces and dashes do not matter).
func HashRecoveryCode(code string) []byte {
	h := sha256.Sum256([]byte(strings.ToLower(normaliseCode(code))))
	return h[:]
}

// LooksLikeRecoveryCode tells a recovery code from a TOTP code.
func LooksLikeRecoveryCode(code string) bool { return len(normaliseCode(code)) == 16 }

// TOTPCodeAt is the code an authenticator app shows for the secret at t
// (for tests and tools; the server only checks codes).
func TOTPCodeAt(secret []byte, t time.Time) string { return totpCode(secret, TOTPStep(t), totpDigits) }

// ParseTOTPSecretText reads a secret as TOTPSecretText writes it.
func ParseTOTPSecretText(s string) ([]byte, error) {
	return b32.DecodeString(strings.ToUpper(normaliseCode(s)))
}
