package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/casework"
	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/internal/postgres/pgtest"
)

const testPassword = "a long enough password"

// accounts is the API over a fresh database with an officer, a manager and
// two administrators, each with testPassword, and a clock the test moves.
type accounts struct {
	t   *testing.T
	h   http.Handler
	db  *postgres.DB
	now time.Time
}

func newAccounts(t *testing.T, with ...func(*Deps)) *accounts {
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
			{ID: "admin-1", Name: "Ade Admin", Email: "ade@london.example.org", Role: "admin", Active: true},
			{ID: "admin-2", Name: "Abi Admin", Email: "abi@london.example.org", Role: "admin", Active: true},
		} {
			if err := tx.PutStaff(ctx, s); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	hash, err := auth.HashPassword(testPassword)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"officer-1", "manager-1", "admin-1", "admin-2"} {
		if err := db.SetPassword(ctx, id, hash); err != nil {
			t.Fatal(err)
		}
	}
	f := &accounts{t: t, db: db, now: time.Now()}
	sessions := &auth.Sessions{DB: db, Cookie: auth.CookieConfig{Name: "tg_session"}, Idle: time.Hour, Absolute: 8 * time.Hour}
	r := chi.NewRouter()
	d := Deps{Cases: &casework.Service{DB: db, Now: func() time.Time { return f.now }}, DB: db,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Auth: &auth.Authenticator{DB: db, Sessions: sessions},
		Sessions: sessions, SignInRate: func(h http.Handler) http.Handler { return h }}
	for _, w := range with {
		w(&d)
	}
	Routes(r, d)
	f.h = r
	return f
}

// call sends a request with a session cookie or a bearer token.
func (f *accounts) call(method, path, body string, cred any) *httptest.ResponseRecorder {
	f.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	switch c := cred.(type) {
	case *http.Cookie:
		req.AddCookie(c)
	case string:
		req.Header.Set("Authorization", "Bearer "+c)
	}
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, req)
	return w
}

func cookieOf(w *httptest.ResponseRecorder) *http.Cookie {
	for _, c := range w.Result().Cookies() {
		if c.Name == "tg_session" && c.Value != "" {
			return c
		}
	}
	return nil
}

// login signs in with a password and returns the session and what the
// answer says is still to do.
func (f *accounts) login(login, password string) (*http.Cookie, SignedIn) {
	f.t.Helper()
	w := f.call(http.MethodPost, "/api/v1/auth/login", `{"login":"`+login+`","password":"`+password+`"}`, nil)
	if w.Code != http.StatusOK {
		f.t.Fatalf("sign-in as %s: %d %s", login, w.Code, w.Body)
	}
	var s SignedIn
	if err := json.Unmarshal(w.Body.Bytes(), &s); err != nil {
		f.t.Fatal(err)
	}
	return cookieOf(w), s
}

// fullSession is a session that has passed its second factor, as the
// database holds one (for tests of what comes after signing in).
func (f *accounts) fullSession(staffID string) *http.Cookie {
	f.t.Helper()
	plain, hash := auth.NewSecret(auth.SessionPrefix)
	now := time.Now()
	if err := f.db.CreateSession(context.Background(), postgres.Session{IDHash: hash, StaffID: staffID, ExpiresAt: now.Add(time.Hour),
		Method: "password", MFAAt: &now}); err != nil {
		f.t.Fatal(err)
	}
	return &http.Cookie{Name: "tg_session", Value: plain}
}

func (f *accounts) token(c *http.Cookie) string {
	f.t.Helper()
	w := f.call(http.MethodPost, "/api/v1/tokens", `{"name":"script"}`, c)
	if w.Code != http.StatusCreated {
		f.t.Fatalf("token: %d %s", w.Code, w.Body)
	}
	var nt NewToken
	_ = json.Unmarshal(w.Body.Bytes(), &nt)
	return nt.Token
}

func (f *accounts) want(w *httptest.ResponseRecorder, status int, what string) {
	f.t.Helper()
	if w.Code != status {
		f.t.Fatalf("%s: %d %s, want %d", what, w.Code, w.Body, status)
	}
	if status >= 400 && w.Header().Get("Content-Type") != "application/problem+json" {
		f.t.Fatalf("%s: %s is not a problem document", what, w.Header().Get("Content-Type"))
	}
}

func (f *accounts) audited(actor, action, detailHas string) bool {
	f.t.Helper()
	log, err := f.db.AuditLog(context.Background(), postgres.AuditFilter{Actor: actor, Action: action, Limit: 1000})
	if err != nil {
		f.t.Fatal(err)
	}
	for _, e := range log {
		if e.Action == action && strings.Contains(e.Detail, detailHas) {
			return true
		}
	}
	return false
}

// emails lists the events of the account emails a member of staff has
// been sent, with the address each went to.
func (f *accounts) emails(staffID string) map[string]string {
	f.t.Helper()
	rows, err := f.db.AccountEmails(context.Background(), staffID)
	if err != nil {
		f.t.Fatal(err)
	}
	out := map[string]string{}
	for _, r := range rows {
		var d struct {
			Event string `json:"event"`
			By    string `json:"by"`
		}
		_ = json.Unmarshal(r.Data, &d)
		out[d.Event] = r.Recipient + " " + d.By
	}
	return out
}

// A personal access token cannot make more tokens, change a password or
// touch two-step sign-in: a stolen token must not become a way to keep or
// widen access.
func TestTokensCannotManageCredentials(t *testing.T) {
	f := newAccounts(t)
	officer := f.token(f.fullSession("officer-1"))
	admin := f.token(f.fullSession("admin-1"))
	for _, c := range []struct {
		method, path, body, token string
	}{
		{http.MethodPost, "/api/v1/tokens", `{"name":"another"}`, officer},
		{http.MethodPut, "/api/v1/me/password", `{"current":"` + testPassword + `","password":"tangerine lorry umbrella"}`, officer},
		{http.MethodGet, "/api/v1/me/mfa", "", officer},
		{http.MethodPost, "/api/v1/me/mfa/totp", "", officer},
		{http.MethodPost, "/api/v1/me/mfa/totp/confirm", `{"code":"123456"}`, officer},
		{http.MethodPost, "/api/v1/me/mfa/disable", `{"code":"123456"}`, officer},
		{http.MethodPost, "/api/v1/me/mfa/recovery-codes", `{"code":"123456"}`, officer},
		{http.MethodPut, "/api/v1/staff/officer-1/password", `{"password":"tangerine lorry umbrella"}`, admin},
		{http.MethodPost, "/api/v1/staff/officer-1/mfa/reset", "", admin},
	} {
		f.want(f.call(c.method, c.path, c.body, c.token), http.StatusForbidden, c.method+" "+c.path+" with a token")
	}
	if f.call(http.MethodGet, "/api/v1/me", "", officer).Code != http.StatusOK {
		t.Error("the token no longer works for ordinary requests")
	}
}

// Changing one's password ends one's other sessions and revokes one's
// tokens, and says how many; the session that changed it carries on. The
// current password is checked under the per-account throttle, audited.
func TestPasswordChangeRevokesTokensAndOtherSessions(t *testing.T) {
	f := newAccounts(t)
	current, _ := f.login("officer-1", testPassword)
	other, _ := f.login("officer-1", testPassword)
	tok1, tok2 := f.token(current), f.token(other)

	f.want(f.call(http.MethodPut, "/api/v1/me/password", `{"current":"`+testPassword+`","password":"1qaz2wsx3edc"}`, current),
		http.StatusUnprocessableEntity, "a common password")
	w := f.call(http.MethodPut, "/api/v1/me/password", `{"current":"`+testPassword+`","password":"tangerine lorry umbrella"}`, current)
	f.want(w, http.StatusOK, "the change")
	var rev casework.Revoked
	if err := json.Unmarshal(w.Body.Bytes(), &rev); err != nil || rev.TokensRevoked != 2 || rev.SessionsEnded != 1 {
		t.Fatalf("answer %s", w.Body)
	}
	if f.call(http.MethodGet, "/api/v1/me", "", current).Code != http.StatusOK {
		t.Error("the session that changed the password ended")
	}
	for what, cred := range map[string]any{"the other session": other, "a token": tok1, "the other token": tok2} {
		if code := f.call(http.MethodGet, "/api/v1/me", "", cred).Code; code != http.StatusUnauthorized {
			t.Errorf("%s still works: %d", what, code)
		}
	}
	if !f.audited("officer-1", "staff.password", "tokens_revoked=2") || !f.audited("officer-1", "token.revoke", "tokens=2") {
		t.Error("the change and the revocation are not audited")
	}
	if _, ok := f.emails("officer-1")["password-changed"]; !ok {
		t.Errorf("no email: %v", f.emails("officer-1"))
	}
	f.login("officer-1", "tangerine lorry umbrella")

	// Guessing the current password is throttled like signing in.
	for i := 1; i <= auth.DefaultThrottle.Free; i++ {
		f.want(f.call(http.MethodPut, "/api/v1/me/password", `{"current":"a wrong guess","password":"another long passphrase"}`, current),
			http.StatusUnprocessableEntity, "a wrong current password")
	}
	w = f.call(http.MethodPut, "/api/v1/me/password", `{"current":"tangerine lorry umbrella","password":"another long passphrase"}`, current)
	f.want(w, http.StatusTooManyRequests, "straight after three wrong guesses")
	if w.Header().Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	if !f.audited("officer-1", "password.failed", "") || !f.audited("officer-1", "signin.throttled", "current-password") {
		t.Error("the guesses are not audited")
	}
}

// An administrator who sets another person's password, role or email
// address cannot do it silently: the person is emailed (at their old
// address for an email change), it is audited, and a password reset ends
// every session and token the person had.
func TestAdministratorsChangesAreTold(t *testing.T) {
	f := newAccounts(t)
	admin := f.fullSession("admin-1")
	s1, _ := f.login("officer-1", testPassword)
	s2, _ := f.login("officer-1", testPassword)
	tok := f.token(s1)

	f.want(f.call(http.MethodPut, "/api/v1/staff/admin-1/password", `{"password":"tangerine lorry umbrella"}`, admin),
		http.StatusConflict, "an administrator's own password through the staff route")
	w := f.call(http.MethodPut, "/api/v1/staff/officer-1/password", `{"password":"tangerine lorry umbrella"}`, admin)
	f.want(w, http.StatusOK, "the reset")
	var rev casework.Revoked
	if err := json.Unmarshal(w.Body.Bytes(), &rev); err != nil || rev.TokensRevoked != 1 || rev.SessionsEnded != 2 {
		t.Fatalf("answer %s", w.Body)
	}
	for _, cred := range []any{s1, s2, tok} {
		if code := f.call(http.MethodGet, "/api/v1/me", "", cred).Code; code != http.StatusUnauthorized {
			t.Errorf("still signed in after the reset: %d", code)
		}
	}
	if !f.audited("admin-1", "staff.password", "staff=officer-1 by=admin") {
		t.Error("the reset is not audited")
	}
	f.want(f.call(http.MethodPatch, "/api/v1/staff/officer-1", `{"role":"manager"}`, admin), http.StatusOK, "a new role")
	f.want(f.call(http.MethodPatch, "/api/v1/staff/officer-1", `{"email":"olu@evil.example.org"}`, admin), http.StatusOK, "a new email")
	got := f.emails("officer-1")
	for event, want := range map[string]string{"password-set": "olu@pvi.example.org Ade Admin", "role-changed": "olu@pvi.example.org Ade Admin",
		"email-changed": "olu@pvi.example.org Ade Admin"} {
		if got[event] != want {
			t.Errorf("%s: %q, want %q (%v)", event, got[event], want, got)
		}
	}
	if !f.audited("admin-1", "staff.role", "from=officer to=manager") || !f.audited("admin-1", "staff.email", "staff=officer-1") {
		t.Error("the role and email changes are not audited")
	}
}

// nextCode moves the clock to the next 30-second step and returns the
// code an authenticator app with the secret shows then.
func (f *accounts) nextCode(secret []byte) string {
	f.now = f.now.Add(30 * time.Second)
	return auth.TOTPCodeAt(secret, f.now)
}

// A manager signing in with a password must set up an authenticator app
// before anything else, and from then on give a code after the password;
// a code works once, a recovery code once; the role cannot turn it off.
func TestManagersMustUseTwoStepSignIn(t *testing.T) {
	f := newAccounts(t)
	c, signed := f.login("manager-1", testPassword)
	if signed.SecondFactor != auth.SecondFactorEnrol {
		t.Fatalf("second factor %q, want enrol", signed.SecondFactor)
	}
	for _, path := range []string{"/api/v1/me", "/api/v1/cases", "/api/v1/tokens"} {
		f.want(f.call(http.MethodGet, path, "", c), http.StatusUnauthorized, path+" before enrolling")
	}
	f.want(f.call(http.MethodPost, "/api/v1/tokens", `{"name":"x"}`, c), http.StatusUnauthorized, "a token before enrolling")
	f.want(f.call(http.MethodPost, "/api/v1/auth/mfa", `{"code":"123456"}`, c), http.StatusConflict, "a code before enrolling")

	w := f.call(http.MethodPost, "/api/v1/me/mfa/totp", "", c)
	f.want(w, http.StatusCreated, "starting enrolment")
	var en casework.TOTPEnrolment
	if err := json.Unmarshal(w.Body.Bytes(), &en); err != nil || en.Secret == "" || !strings.HasPrefix(en.URI, "otpauth://totp/Throughgate:mo@pvi.example.org?") {
		t.Fatalf("enrolment %s", w.Body)
	}
	secret, err := auth.ParseTOTPSecretText(en.Secret)
	if err != nil {
		t.Fatal(err)
	}
	f.want(f.call(http.MethodPost, "/api/v1/me/mfa/totp/confirm", `{"code":"000000"}`, c), http.StatusUnprocessableEntity, "a wrong code")
	confirming := f.nextCode(secret)
	w = f.call(http.MethodPost, "/api/v1/me/mfa/totp/confirm", `{"code":"`+confirming+`"}`, c)
	f.want(w, http.StatusOK, "confirming")
	var rc RecoveryCodes
	if err := json.Unmarshal(w.Body.Bytes(), &rc); err != nil || len(rc.RecoveryCodes) != 10 {
		t.Fatalf("recovery codes %s", w.Body)
	}
	if f.call(http.MethodGet, "/api/v1/me", "", c).Code != http.StatusUnauthorized {
		t.Error("the half-signed-in session id still works after enrolment: it should have been replaced")
	}
	c = cookieOf(w)
	f.want(f.call(http.MethodGet, "/api/v1/me", "", c), http.StatusOK, "after enrolling")
	w = f.call(http.MethodGet, "/api/v1/me/mfa", "", c)
	if !strings.Contains(w.Body.String(), `"totp":true`) || strings.Contains(w.Body.String(), en.Secret) {
		t.Errorf("status %s", w.Body)
	}
	f.want(f.call(http.MethodPost, "/api/v1/me/mfa/totp", "", c), http.StatusConflict, "enrolling again")
	f.want(f.call(http.MethodPost, "/api/v1/me/mfa/disable", `{"code":"`+f.nextCode(secret)+`"}`, c), http.StatusForbidden, "a manager turning it off")
	if !f.audited("manager-1", "mfa.enrol", "") {
		t.Error("enrolment not audited")
	}
	if _, ok := f.emails("manager-1")["mfa-enabled"]; !ok {
		t.Error("no email about the new authenticator app")
	}

	// Signing in again: the code comes after the password.
	c, signed = f.login("manager-1", testPassword)
	if signed.SecondFactor != auth.SecondFactorTOTP {
		t.Fatalf("second factor %q, want totp", signed.SecondFactor)
	}
	f.want(f.call(http.MethodGet, "/api/v1/me", "", c), http.StatusUnauthorized, "before the code")
	f.want(f.call(http.MethodPost, "/api/v1/me/mfa/totp", "", c), http.StatusConflict, "enrolling another app before the code")
	f.want(f.call(http.MethodPost, "/api/v1/auth/mfa", `{"code":"`+confirming+`"}`, c), http.StatusUnauthorized, "a code used already")
	w = f.call(http.MethodPost, "/api/v1/auth/mfa", `{"code":"`+f.nextCode(secret)+`"}`, c)
	f.want(w, http.StatusOK, "the code")
	c = cookieOf(w)
	f.want(f.call(http.MethodGet, "/api/v1/me", "", c), http.StatusOK, "after the code")

	// A recovery code instead, once.
	c2, _ := f.login("manager-1", testPassword)
	f.want(f.call(http.MethodPost, "/api/v1/auth/mfa", `{"code":"`+strings.ToUpper(rc.RecoveryCodes[0])+`"}`, c2), http.StatusOK, "a recovery code")
	c3, _ := f.login("manager-1", testPassword)
	f.want(f.call(http.MethodPost, "/api/v1/auth/mfa", `{"code":"`+rc.RecoveryCodes[0]+`"}`, c3), http.StatusUnauthorized, "the recovery code again")
	if !strings.Contains(f.call(http.MethodGet, "/api/v1/me/mfa", "", c).Body.String(), `"recovery_codes_left":9`) {
		t.Error("the used recovery code still counted")
	}
	// New recovery codes replace the old.
	w = f.call(http.MethodPost, "/api/v1/me/mfa/recovery-codes", `{"code":"`+f.nextCode(secret)+`"}`, c)
	f.want(w, http.StatusOK, "new recovery codes")
	c4, _ := f.login("manager-1", testPassword)
	f.want(f.call(http.MethodPost, "/api/v1/auth/mfa", `{"code":"`+rc.RecoveryCodes[1]+`"}`, c4), http.StatusUnauthorized, "an old recovery code")
	if !f.audited("manager-1", "mfa.verify", "recovery-code") || !f.audited("manager-1", "mfa.failed", "") || !f.audited("manager-1", "mfa.recovery_codes", "") {
		t.Error("second factors not audited")
	}

	// Guessing codes is throttled with the password.
	c5, _ := f.login("manager-1", testPassword)
	for i := 1; i <= auth.DefaultThrottle.Free; i++ {
		f.call(http.MethodPost, "/api/v1/auth/mfa", `{"code":"000000"}`, c5)
	}
	w = f.call(http.MethodPost, "/api/v1/auth/mfa", `{"code":"`+auth.TOTPCodeAt(secret, f.now.Add(30*time.Second))+`"}`, c5)
	f.want(w, http.StatusTooManyRequests, "a right code straight after three wrong ones")

	// An administrator resets it (a lost phone): sessions and tokens end,
	// and the manager enrols again at the next sign-in.
	admin := f.fullSession("admin-1")
	w = f.call(http.MethodPost, "/api/v1/staff/manager-1/mfa/reset", "", admin)
	f.want(w, http.StatusOK, "the reset")
	if f.call(http.MethodGet, "/api/v1/me", "", c).Code != http.StatusUnauthorized {
		t.Error("a session outlived the reset")
	}
	f.now = f.now.Add(auth.DefaultThrottle.LockFor)
	if _, signed = f.login("manager-1", testPassword); signed.SecondFactor != auth.SecondFactorEnrol {
		t.Errorf("after the reset: %q", signed.SecondFactor)
	}
	if !f.audited("admin-1", "mfa.reset", "staff=manager-1") || f.emails("manager-1")["mfa-reset"] == "" {
		t.Error("the reset is not audited or told")
	}
}

// An officer may turn two-step sign-in on, and off again with a code.
func TestOfficersMayTurnTwoStepSignInOnAndOff(t *testing.T) {
	f := newAccounts(t)
	c, signed := f.login("officer-1", testPassword)
	if signed.SecondFactor != "" {
		t.Fatalf("second factor %q for an officer without an app", signed.SecondFactor)
	}
	w := f.call(http.MethodPost, "/api/v1/me/mfa/totp", "", c)
	f.want(w, http.StatusCreated, "starting")
	var en casework.TOTPEnrolment
	_ = json.Unmarshal(w.Body.Bytes(), &en)
	secret, _ := auth.ParseTOTPSecretText(en.Secret)
	w = f.call(http.MethodPost, "/api/v1/me/mfa/totp/confirm", `{"code":"`+f.nextCode(secret)+`"}`, c)
	f.want(w, http.StatusOK, "confirming")
	c = cookieOf(w)
	c2, signed := f.login("officer-1", testPassword)
	if signed.SecondFactor != auth.SecondFactorTOTP {
		t.Fatalf("after enrolling: %q", signed.SecondFactor)
	}
	f.want(f.call(http.MethodGet, "/api/v1/me", "", c2), http.StatusUnauthorized, "before the code")
	f.want(f.call(http.MethodPost, "/api/v1/me/mfa/disable", `{"code":"000000"}`, c), http.StatusUnprocessableEntity, "off with a wrong code")
	f.want(f.call(http.MethodPost, "/api/v1/me/mfa/disable", `{"code":"`+f.nextCode(secret)+`"}`, c), http.StatusNoContent, "off")
	if !f.audited("officer-1", "mfa.disable", "") || f.emails("officer-1")["mfa-disabled"] == "" {
		t.Error("turning it off is not audited or told")
	}
	if _, signed = f.login("officer-1", testPassword); signed.SecondFactor != "" {
		t.Errorf("after turning it off: %q", signed.SecondFactor)
	}
}

// The staff and token routes keep the pages' rules (casework): one's own
// settings are checked as the settings page checks them, a change refused
// in part changes nothing, and a token may give up a token of its owner's.
func TestStaffRoutesKeepThePagesRules(t *testing.T) {
	f := newAccounts(t)
	officer, admin := f.fullSession("officer-1"), f.fullSession("admin-1")
	w := f.call(http.MethodPatch, "/api/v1/me", `{"notify":"digest","away_until":"2020-01-01"}`, officer)
	f.want(w, http.StatusUnprocessableEntity, "an away day in the past")
	var p Problem
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil || len(p.Errors) != 1 || p.Errors[0].Field != "away_until" {
		t.Errorf("problem %s", w.Body)
	}
	f.want(f.call(http.MethodPatch, "/api/v1/staff/manager-1", `{"notify":"digest"}`, officer), http.StatusForbidden, "another's settings")
	f.want(f.call(http.MethodPatch, "/api/v1/staff/officer-1", `{"role":"manager","email":"nope","notify":"digest"}`, admin),
		http.StatusUnprocessableEntity, "a good role with a bad email")
	w = f.call(http.MethodGet, "/api/v1/staff/officer-1", "", officer)
	f.want(w, http.StatusOK, "one's own record")
	var s postgres.Staff
	if err := json.Unmarshal(w.Body.Bytes(), &s); err != nil || s.Role != "officer" || s.Notify != "each" || s.AwayUntil != nil {
		t.Errorf("a refused change was applied: %s", w.Body)
	}
	f.want(f.call(http.MethodPatch, "/api/v1/me", `{"notify":"digest"}`, officer), http.StatusOK, "one's own settings")
	if !f.audited("officer-1", "staff.settings", "notify=digest") {
		t.Error("one's own settings are not audited as the settings page's are")
	}
	w = f.call(http.MethodGet, "/api/v1/staff", "", admin)
	f.want(w, http.StatusOK, "the staff list")
	var list struct{ Items []postgres.Staff }
	if err := json.Unmarshal(w.Body.Bytes(), &list); err != nil || len(list.Items) != 4 {
		t.Errorf("the staff list is not every member of staff: %s", w.Body)
	}

	tok := f.token(officer)
	w = f.call(http.MethodGet, "/api/v1/tokens", "", tok)
	var tokens struct{ Items []postgres.Token }
	if err := json.Unmarshal(w.Body.Bytes(), &tokens); err != nil || len(tokens.Items) != 1 {
		t.Fatalf("tokens %s", w.Body)
	}
	f.want(f.call(http.MethodDelete, "/api/v1/tokens/x", "", tok), http.StatusNotFound, "a token id that is not a number")
	f.want(f.call(http.MethodDelete, fmt.Sprintf("/api/v1/tokens/%d", tokens.Items[0].ID), "", tok), http.StatusNoContent, "a token revokes itself")
	f.want(f.call(http.MethodGet, "/api/v1/me", "", tok), http.StatusUnauthorized, "the revoked token")
}
