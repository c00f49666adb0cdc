package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/casework"
	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/internal/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

const testPassword = "a long enough password"

// signInSite is the pages over a fresh database with a manager (whose
// role requires two-step sign-in) and an officer, and a clock the test
// moves.
type signInSite struct {
	t   *testing.T
	h   http.Handler
	db  *postgres.DB
	now time.Time
}

func newSignInSite(t *testing.T, sso *auth.OIDC) *signInSite {
	t.Helper()
	db := pgtest.New(t)
	ctx := context.Background()
	if err := db.InTx(ctx, func(tx *postgres.DB) error {
		if err := tx.PutTeam(ctx, postgres.Team{ID: "pvi-resettlement", Name: "Pentonville resettlement", Establishment: "PVI", Active: true}); err != nil {
			return err
		}
		for _, s := range []postgres.Staff{
			{ID: "officer-1", Name: "Olu Officer", Email: "olu@pvi.example.org", Role: "officer", Team: "pvi-resettlement", Active: true},
			{ID: "manager-1", Name: "Mo Manager", Email: "mo@pvi.example.org", Role: "manager", Team: "pvi-resettlement", Active: true},
		} {
			if err := tx.PutStaff(ctx, s); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	hash, _ := auth.HashPassword(testPassword)
	for _, id := range []string{"officer-1", "manager-1"} {
		if err := db.SetPassword(ctx, id, hash); err != nil {
			t.Fatal(err)
		}
	}
	s := &signInSite{t: t, db: db, now: time.Now()}
	sessions := &auth.Sessions{DB: db, Cookie: auth.CookieConfig{Name: "tg_session"}, Idle: time.Hour, Absolute: 8 * time.Hour}
	r := chi.NewRouter()
	Routes(r, Deps{Cases: &casework.Service{DB: db, Now: func() time.Time { return s.now }}, Auth: &auth.Authenticator{DB: db, Sessions: sessions},
		Sessions: sessions, OIDC: sso, SignInRate: func(h http.Handler) http.Handler { return h }, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	s.h = r
	return s
}

// do sends a request with the session cookie, and returns the answer and
// the session cookie it set (or the one sent).
func (s *signInSite) do(method, path string, form url.Values, c *http.Cookie) (*httptest.ResponseRecorder, *http.Cookie) {
	s.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if c != nil {
		req.AddCookie(c)
	}
	w := httptest.NewRecorder()
	s.h.ServeHTTP(w, req)
	for _, nc := range w.Result().Cookies() {
		if nc.Name == "tg_session" && nc.Value != "" {
			c = nc
		}
	}
	return w, c
}

func (s *signInSite) expect(w *httptest.ResponseRecorder, status int, location, what string) {
	s.t.Helper()
	if w.Code != status || location != "" && w.Header().Get("Location") != location {
		s.t.Fatalf("%s: %d to %q, want %d to %q\n%s", what, w.Code, w.Header().Get("Location"), status, location, w.Body)
	}
}

var secretShown = regexp.MustCompile(`<code id="totp-secret">([A-Z2-7 ]+)</code>`)

// A manager signing in with a password on the pages is sent to set up an
// authenticator app before anything else, then asked for a code after the
// password every time; an officer goes straight in.
func TestSignInPagesTakeTheSecondStep(t *testing.T) {
	s := newSignInSite(t, nil)
	w, c := s.do(http.MethodPost, "/sign-in", url.Values{"login": {"manager-1"}, "password": {testPassword}, "next": {"/board"}}, nil)
	s.expect(w, http.StatusSeeOther, "/account/two-step", "the password")
	w, _ = s.do(http.MethodGet, "/cases", nil, c)
	s.expect(w, http.StatusSeeOther, "/account/two-step", "the cases before setting up")

	w, _ = s.do(http.MethodGet, "/account/two-step", nil, c)
	s.expect(w, http.StatusOK, "", "the set-up page")
	checkPage(t, "two-step", w.Body.String())
	if !strings.Contains(w.Body.String(), "Set up an authenticator app") || strings.Contains(w.Body.String(), `href="/cases"`) {
		t.Errorf("set-up page:\n%s", w.Body)
	}
	w, _ = s.do(http.MethodPost, "/account/two-step/start", url.Values{}, c)
	s.expect(w, http.StatusOK, "", "starting")
	checkPage(t, "two-step secret", w.Body.String())
	m := secretShown.FindStringSubmatch(w.Body.String())
	if m == nil || !strings.Contains(w.Body.String(), "otpauth://totp/") {
		t.Fatalf("no secret shown:\n%s", w.Body)
	}
	secret, err := auth.ParseTOTPSecretText(m[1])
	if err != nil {
		t.Fatal(err)
	}
	w, _ = s.do(http.MethodPost, "/account/two-step/confirm", url.Values{"code": {"000000"}}, c)
	s.expect(w, http.StatusUnprocessableEntity, "", "a wrong code")
	if !strings.Contains(w.Body.String(), "There is a problem") || !strings.Contains(w.Body.String(), `<code id="totp-secret">`) {
		t.Errorf("the wrong code's page:\n%s", w.Body)
	}
	s.now = s.now.Add(30 * time.Second)
	w, c = s.do(http.MethodPost, "/account/two-step/confirm", url.Values{"code": {auth.TOTPCodeAt(secret, s.now)}}, c)
	s.expect(w, http.StatusOK, "", "the right code")
	checkPage(t, "recovery codes", w.Body.String())
	if n := len(regexp.MustCompile(`<li><code>[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}</code></li>`).FindAllString(w.Body.String(), -1)); n != 10 {
		t.Errorf("%d recovery codes shown:\n%s", n, w.Body)
	}
	w, _ = s.do(http.MethodGet, "/account/two-step", nil, c)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "Two-step sign-in is on") || strings.Contains(w.Body.String(), m[1]) {
		t.Errorf("after setting up: %d\n%s", w.Code, w.Body)
	}

	// Next time: the password, then the code.
	w, c = s.do(http.MethodPost, "/sign-in", url.Values{"login": {"mo@pvi.example.org"}, "password": {testPassword}, "next": {"/board"}}, nil)
	s.expect(w, http.StatusSeeOther, "/sign-in/code?next=%2Fboard", "the password again")
	w, _ = s.do(http.MethodGet, "/cases", nil, c)
	s.expect(w, http.StatusSeeOther, "/sign-in/code?next=%2Fcases", "the cases before the code")
	w, _ = s.do(http.MethodGet, "/sign-in/code?next=%2Fboard", nil, c)
	s.expect(w, http.StatusOK, "", "the code page")
	checkPage(t, "signin-code", w.Body.String())
	if !strings.Contains(w.Body.String(), `autocomplete="one-time-code"`) {
		t.Errorf("code page:\n%s", w.Body)
	}
	w, _ = s.do(http.MethodPost, "/sign-in/code", url.Values{"code": {auth.TOTPCodeAt(secret, s.now)}, "next": {"/board"}}, c)
	s.expect(w, http.StatusUnauthorized, "", "the code used to set up, again")
	s.now = s.now.Add(30 * time.Second)
	w, c2 := s.do(http.MethodPost, "/sign-in/code", url.Values{"code": {auth.TOTPCodeAt(secret, s.now)}, "next": {"/board"}}, c)
	s.expect(w, http.StatusSeeOther, "/board", "the code")
	if c2.Value == c.Value {
		t.Error("the session id was not replaced")
	}
	w, _ = s.do(http.MethodGet, "/account/two-step", nil, c2)
	s.expect(w, http.StatusOK, "", "signed in")

	// An officer without an app goes straight in.
	w, _ = s.do(http.MethodPost, "/sign-in", url.Values{"login": {"officer-1"}, "password": {testPassword}}, nil)
	s.expect(w, http.StatusSeeOther, "/cases", "an officer")
}
