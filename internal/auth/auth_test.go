package auth

import (
	"slices"
	"strings"
	"testing"

	"github.com/throughgate/throughgate/internal/postgres"
)

func TestPasswordHashing(t *testing.T) {
	h, err := HashPassword("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash %q", h)
	}
	if ok, err := VerifyPassword("correct horse battery staple", h); !ok || err != nil {
		t.Errorf("right password refused: %v", err)
	}
	if ok, _ := VerifyPassword("Correct horse battery staple", h); ok {
		t.Error("wrong password accepted")
	}
	h2, _ := HashPassword("correct horse battery staple")
	if h2 == h {
		t.Error("two hashes of one password are equal: no salt")
	}
	for _, bad := range []string{"", "plain", "$argon2i$v=19$m=19456,t=2,p=1$c2FsdA$a2V5", "$argon2id$v=19$m=99999999,t=2,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=19456,t=2,p=1$!!$a2V5"} {
		if ok, err := VerifyPassword("x", bad); ok || err == nil {
			t.Errorf("%q: %v %v", bad, ok, err)
		}
	}
	if CheckPassword("short") == "" || CheckPassword(strings.Repeat("x", 300)) == "" || CheckPassword("long enough password") != "" {
		t.Error("password rules")
	}
}

func TestSecrets(t *testing.T) {
	a, ha := NewSecret(TokenPrefix)
	b, _ := NewSecret(TokenPrefix)
	if a == b || !LooksLike(a, TokenPrefix) || LooksLike(a, SessionPrefix) || LooksLike(a+"x", TokenPrefix) {
		t.Errorf("%q %q", a, b)
	}
	if string(HashSecret(a)) != string(ha) || len(ha) != 32 {
		t.Error("hash")
	}
}

func TestCookieFor(t *testing.T) {
	for _, c := range []struct {
		url, name string
		secure    bool
		warns     bool
	}{
		{"https://throughgate.example.org", "__Host-tg_session", true, false},
		{"http://127.0.0.1:8080", "tg_session", false, false},
		{"http://localhost:8080", "tg_session", false, false},
		{"http://[::1]:8080", "tg_session", false, false},
		{"http://throughgate.internal:8080", "__Host-tg_session", true, true},
	} {
		got, warning := CookieFor(c.url)
		if got.Name != c.name || got.Secure != c.secure || (warning != "") != c.warns {
			t.Errorf("%s: %+v %q", c.url, got, warning)
		}
	}
}

func TestScopes(t *testing.T) {
	reach := postgres.Reach{TeamEstablishment: "PVI", Managed: []string{"pvi"}, Headed: []string{"bxi", "pvi"}}
	for _, c := range []struct {
		role      string
		est, team []string
		sees      bool
		board     bool
	}{
		{RoleOfficer, []string{"PVI"}, nil, true, false},
		{RoleManager, nil, []string{"pvi"}, true, true},
		{RoleHead, nil, []string{"bxi", "pvi"}, true, true},
		{RoleAdmin, nil, nil, false, false},
	} {
		p := &Principal{Staff: postgres.Staff{ID: "x", Role: c.role}, Reach: reach}
		s, sees := p.CaseScope()
		if sees != c.sees || !slices.Equal(s.Establishments, c.est) || !slices.Equal(s.Teams, c.team) || p.CanSeeBoard() != c.board {
			t.Errorf("%s: %+v %v", c.role, s, sees)
		}
	}
	officer := &Principal{Staff: postgres.Staff{Role: RoleOfficer}, Reach: reach}
	if !officer.CanWorkTeam("any-team", "PVI") || officer.CanWorkTeam("bxi", "BXI") {
		t.Error("officer's reach")
	}
	lost := &Principal{Staff: postgres.Staff{Role: RoleOfficer}}
	if s, _ := lost.CaseScope(); len(s.Establishments) != 0 {
		t.Error("an officer in no team sees a prison")
	}
}

// A password long enough is still refused when it is one of the most
// common: the SecLists top 100,000, and the longer passwords of its top
// million, whatever their case.
func TestCommonPasswordsRefused(t *testing.T) {
	for _, p := range []string{"1qaz2wsx3edc", "123qweasdzxc", "Q1W2E3R4T5Y6", "qwe123asd456", "vladgreyd19961970vg"} {
		if msg := CheckPassword(p); !strings.Contains(msg, "common") {
			t.Errorf("%q: %q, want refused as common", p, msg)
		}
	}
	if msg := CheckPassword("password"); msg == "" {
		t.Error("password accepted")
	}
	if msg := CheckPassword("tangerine lorry umbrella"); msg != "" {
		t.Errorf("an uncommon passphrase refused: %s", msg)
	}
	if n := CommonPasswordCount(); n < 100_000 {
		t.Errorf("%d common passwords loaded", n)
	}
}
