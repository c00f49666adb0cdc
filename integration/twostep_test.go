package integration

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/throughgate/throughgate/api"
	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/casework"
	"github.com/throughgate/throughgate/internal/devstack"
)

// Two-step sign-in for the tests' sign-ins. Administrators, managers and
// heads of service who sign in with a password must give a code from an
// authenticator app (or set one up, the first time): the tests do what
// such a person would, holding the secret their app was given and the
// recovery codes they wrote down, per dev stack and person.
//
// A code's 30-second step is accepted once per person, so a second sign-in
// within the step of the first uses a recovery code (each once); with none
// left, it waits for the next step.

// twoStepApp is one person's authenticator app on one dev stack, and the
// recovery codes they have not used yet.
type twoStepApp struct {
	secret   []byte
	recovery []string
}

type twoStepKey struct {
	stack *devstack.Dev
	staff string
}

var (
	// twoStepMu also serialises the codes given, so that two sign-ins of
	// one person never spend the same step.
	twoStepMu   sync.Mutex
	twoStepApps = map[twoStepKey]*twoStepApp{}
)

// rememberTwoStep keeps what a person was given when they set up an app.
func rememberTwoStep(d *devstack.Dev, staffID string, secret []byte, recovery []string) {
	twoStepMu.Lock()
	defer twoStepMu.Unlock()
	twoStepApps[twoStepKey{d, staffID}] = &twoStepApp{secret: secret, recovery: append([]string(nil), recovery...)}
}

// twoStepOf is what the tests hold of a person's app (nil: nothing).
func twoStepOf(d *devstack.Dev, staffID string) *twoStepApp {
	twoStepMu.Lock()
	defer twoStepMu.Unlock()
	app := twoStepApps[twoStepKey{d, staffID}]
	if app == nil {
		return nil
	}
	cp := *app
	cp.recovery = append([]string(nil), app.recovery...)
	return &cp
}

// withSignInCode calls use with a code that finishes the person's sign-in
// now: the code their app shows, unless this step has been used already,
// then a recovery code, and with none left the next step's code (after
// waiting for it). use runs under the lock, so it must send the code.
func withSignInCode(t testing.TB, d *devstack.Dev, staffID string, use func(code string)) {
	t.Helper()
	twoStepMu.Lock()
	defer twoStepMu.Unlock()
	m, err := d.DB.TOTP(context.Background(), staffID)
	if err != nil || !m.Confirmed {
		t.Fatalf("%s has no authenticator app set up (%v)", staffID, err)
	}
	key := twoStepKey{d, staffID}
	app := twoStepApps[key]
	if app == nil || string(app.secret) != string(m.Secret) {
		// Set up some other way (a stack restarted on the same data): the
		// app's secret is the one kept, the recovery codes are unknown.
		app = &twoStepApp{secret: m.Secret}
		twoStepApps[key] = app
	}
	switch {
	case auth.TOTPStep(time.Now()) > m.LastStep:
	case len(app.recovery) > 0:
		code := app.recovery[0]
		app.recovery = app.recovery[1:]
		use(code)
		return
	default:
		for auth.TOTPStep(time.Now()) <= m.LastStep {
			time.Sleep(250 * time.Millisecond)
		}
	}
	use(auth.TOTPCodeAt(app.secret, time.Now()))
}

// enrolTOTP sets up an authenticator app for the client's person through
// the API, confirms it with the app's first code, and keeps the secret and
// the recovery codes.
func (c *apiClient) enrolTOTP(d *devstack.Dev, staffID string) {
	c.t.Helper()
	var en casework.TOTPEnrolment
	c.want(c.do("POST", "/api/v1/me/mfa/totp", nil, nil), http.StatusCreated, "set up an authenticator app").decode(c.t, &en)
	secret, err := auth.ParseTOTPSecretText(en.Secret)
	if err != nil || !strings.HasPrefix(en.URI, "otpauth://totp/") || !strings.Contains(en.URI, "secret="+en.Secret) {
		c.t.Fatalf("enrolment %+v: %v", en, err)
	}
	var codes api.RecoveryCodes
	r := c.do("POST", "/api/v1/me/mfa/totp/confirm", map[string]string{"code": auth.TOTPCodeAt(secret, time.Now())}, nil)
	if r.status != http.StatusOK {
		c.t.Fatalf("confirm the authenticator app of %s: %d %s", staffID, r.status, trim(r.body))
	}
	r.decode(c.t, &codes)
	if len(codes.RecoveryCodes) != auth.RecoveryCodeCount {
		c.t.Fatalf("%d recovery codes, want %d", len(codes.RecoveryCodes), auth.RecoveryCodeCount)
	}
	rememberTwoStep(d, staffID, secret, codes.RecoveryCodes)
}

// passSecondFactor finishes a password sign-in with a code.
func (c *apiClient) passSecondFactor(d *devstack.Dev, staffID string) {
	c.t.Helper()
	withSignInCode(c.t, d, staffID, func(code string) {
		c.t.Helper()
		if r := c.do("POST", "/api/v1/auth/mfa", map[string]string{"code": code}, nil); r.status != http.StatusOK {
			c.t.Fatalf("second step of %s's sign-in: %d %s", staffID, r.status, trim(r.body))
		}
	})
}

// staffIDOf is the staff id a login (an id or an email address) names.
func staffIDOf(t testing.TB, d *devstack.Dev, login string) string {
	t.Helper()
	if !strings.Contains(login, "@") {
		return login
	}
	s, err := d.DB.StaffByEmail(context.Background(), login)
	if err != nil {
		t.Fatalf("who is %s: %v", login, err)
	}
	return s.ID
}

// freshTOTPCode is the code the person's app shows, at a step no code of
// theirs has been used for yet (waiting for the next step if need be).
func freshTOTPCode(t testing.TB, d *devstack.Dev, staffID string) string {
	t.Helper()
	twoStepMu.Lock()
	defer twoStepMu.Unlock()
	m, err := d.DB.TOTP(context.Background(), staffID)
	if err != nil || !m.Confirmed {
		t.Fatalf("%s has no authenticator app set up (%v)", staffID, err)
	}
	for auth.TOTPStep(time.Now()) <= m.LastStep {
		time.Sleep(250 * time.Millisecond)
	}
	return auth.TOTPCodeAt(m.Secret, time.Now())
}

// takeRecoveryCode is one of the person's recovery codes, no longer kept
// for the sign-in helper.
func takeRecoveryCode(t testing.TB, d *devstack.Dev, staffID string) string {
	t.Helper()
	twoStepMu.Lock()
	defer twoStepMu.Unlock()
	app := twoStepApps[twoStepKey{d, staffID}]
	if app == nil || len(app.recovery) == 0 {
		t.Fatalf("no recovery code of %s left", staffID)
	}
	code := app.recovery[0]
	app.recovery = app.recovery[1:]
	return code
}

// wrongTOTPCode is six digits that are not the person's code at any step
// the server accepts now.
func wrongTOTPCode(secret []byte) string {
	now := time.Now()
	taken := map[string]bool{}
	for _, d := range []time.Duration{-60, -30, 0, 30, 60} {
		taken[auth.TOTPCodeAt(secret, now.Add(d*time.Second))] = true
	}
	for i := 0; ; i++ {
		code := strings.Repeat(string(rune('0'+i%10)), 6)
		if !taken[code] {
			return code
		}
	}
}
