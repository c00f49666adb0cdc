package auth

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

// RFC 6238 appendix B: the SHA-1 test vectors (8 digits, secret
// "12345678901234567890", 30-second steps from the Unix epoch).
func TestTOTPRFC6238Vectors(t *testing.T) {
	secret := []byte("12345678901234567890")
	for _, c := range []struct {
		unix int64
		want string
	}{
		{59, "94287082"}, {1111111109, "07081804"}, {1111111111, "14050471"},
		{1234567890, "89005924"}, {2000000000, "69279037"}, {20000000000, "65353130"},
	} {
		if got := totpCode(secret, TOTPStep(time.Unix(c.unix, 0)), 8); got != c.want {
			t.Errorf("T=%d: %s, want %s", c.unix, got, c.want)
		}
	}
	// RFC 4226 appendix D: HOTP values 0..9 of the same secret, 6 digits.
	for i, want := range []string{"755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"} {
		if got := totpCode(secret, int64(i), 6); got != want {
			t.Errorf("HOTP(%d) = %s, want %s", i, got, want)
		}
	}
}

func TestCheckTOTP(t *testing.T) {
	secret := NewTOTPSecret()
	if len(secret) != 20 {
		t.Fatalf("secret of %d bytes", len(secret))
	}
	now := time.Unix(1_800_000_015, 0)
	step := TOTPStep(now)
	for _, c := range []struct {
		code string
		ok   bool
		step int64
	}{
		{totpCode(secret, step, 6), true, step},
		{totpCode(secret, step-1, 6), true, step - 1}, // the clock of the phone a little behind
		{totpCode(secret, step+1, 6), true, step + 1},
		{totpCode(secret, step-2, 6), false, 0},
		{totpCode(secret, step+2, 6), false, 0},
		{" " + totpCode(secret, step, 6)[:3] + " " + totpCode(secret, step, 6)[3:] + " ", true, step},
		{"", false, 0}, {"12345", false, 0}, {"abcdef", false, 0}, {"1234567", false, 0},
	} {
		got, ok := CheckTOTP(secret, c.code, now)
		if ok != c.ok || ok && got != c.step {
			t.Errorf("%q: %d %v, want %d %v", c.code, got, ok, c.step, c.ok)
		}
	}
	u, err := url.Parse(TOTPURI(secret, "olu@pvi.example.org", "Throughgate"))
	if err != nil || u.Scheme != "otpauth" || u.Host != "totp" || u.Path != "/Throughgate:olu@pvi.example.org" ||
		u.Query().Get("secret") != TOTPSecretText(secret) || u.Query().Get("issuer") != "Throughgate" ||
		u.Query().Get("digits") != "6" || u.Query().Get("period") != "30" || u.Query().Get("algorithm") != "SHA1" {
		t.Errorf("URI %v %v", u, err)
	}
}

func TestRecoveryCodes(t *testing.T) {
	plain, hashes := NewRecoveryCodes()
	if len(plain) != 10 || len(hashes) != 10 {
		t.Fatalf("%d codes", len(plain))
	}
	seen := map[string]bool{}
	for i, p := range plain {
		if len(p) != 19 || strings.Count(p, "-") != 3 || seen[p] {
			t.Errorf("code %q", p)
		}
		seen[p] = true
		if string(HashRecoveryCode(p)) != string(hashes[i]) || string(HashRecoveryCode(strings.ToUpper(strings.ReplaceAll(p, "-", " ")))) != string(hashes[i]) {
			t.Errorf("%q: hash does not survive retyping", p)
		}
		if !LooksLikeRecoveryCode(p) || LooksLikeRecoveryCode("123456") {
			t.Errorf("%q: not told apart from a TOTP code", p)
		}
	}
}
