package auth

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/throughgate/throughgate/internal/postgres"
)

// CookieConfig is how the session cookie is set.
type CookieConfig struct {
	Name   string
	Secure bool
}

// CookieFor chooses the session cookie for the public address. Over https
// it is "__Host-tg_session": Secure, HttpOnly, SameSite=Lax, Path=/, no
// Domain, so no other host or path can set or read it. Browsers refuse
// Secure cookies over plain http, so for a development server whose
// BASE_URL is http://127.0.0.1, http://localhost or http://[::1] the cookie
// is "tg_session" without Secure. Any other http BASE_URL keeps the secure
// cookie (sign-in will not work until the site is served over https) and a
// warning is returned for the log.
func CookieFor(baseURL string) (CookieConfig, string) {
	secure := CookieConfig{Name: "__Host-tg_session", Secure: true}
	u, err := url.Parse(baseURL)
	if err != nil {
		return secure, "BASE_URL is not a URL; the session cookie is Secure"
	}
	if u.Scheme == "https" {
		return secure, ""
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); host == "localhost" || ip != nil && ip.IsLoopback() {
		return CookieConfig{Name: "tg_session", Secure: false}, ""
	}
	return secure, fmt.Sprintf("BASE_URL %s is plain http on a non-loopback host: browsers will not send the Secure "+
		"session cookie, so sign-in works only through an https address", baseURL)
}

// Sessions issues and checks browser sessions.
type Sessions struct {
	DB     *postgres.DB
	Cookie CookieConfig
	// Idle ends a session unused this long; Absolute ends any session this
	// long after sign-in.
	Idle, Absolute time.Duration
}

// Start signs a person in from the browser that sent r: a new session and
// its cookie. A session the browser already held ends, so a shared PC's
// next user cannot leave the last one's session alive behind theirs. The
// cookie has no Max-Age or Expires: it lasts until the browser closes,
// and the server ends the session after Idle or Absolute in any case.
func (s *Sessions) Start(ctx context.Context, w http.ResponseWriter, r *http.Request, staffID, method string) error {
	if c, err := r.Cookie(s.Cookie.Name); err == nil && LooksLike(c.Value, SessionPrefix) {
		if err := s.DB.DeleteSession(ctx, HashSecret(c.Value)); err != nil {
			return err
		}
	}
	plain, hash := NewSecret(SessionPrefix)
	if err := s.DB.CreateSession(ctx, postgres.Session{IDHash: hash, StaffID: staffID,
		ExpiresAt: time.Now().Add(s.Absolute), Method: method, Remote: ClientIP(r)}); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: s.Cookie.Name, Value: plain, Path: "/",
		Secure: s.Cookie.Secure, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	// Sweep sessions that have expired, so the table holds live ones only.
	// Lookups refuse expired sessions anyway; this is housekeeping.
	_, _ = s.DB.DeleteExpiredSessions(ctx, s.Idle)
	return nil
}

// Elevate replaces the browser's session, once it has passed its second
// factor, with a new one (a new id: the one that was only half signed in
// is no use to anyone who saw it) marked as having passed, keeping the
// old one's absolute expiry.
func (s *Sessions) Elevate(ctx context.Context, w http.ResponseWriter, r *http.Request, p *Principal) (expires time.Time, err error) {
	old, ok, err := s.Lookup(ctx, r)
	if err != nil {
		return expires, err
	}
	if !ok || old.StaffID != p.ID() {
		return expires, ErrUnauthenticated
	}
	plain, hash := NewSecret(SessionPrefix)
	now := time.Now()
	err = s.DB.InTx(ctx, func(tx *postgres.DB) error {
		if err := tx.DeleteSession(ctx, old.IDHash); err != nil {
			return err
		}
		return tx.CreateSession(ctx, postgres.Session{IDHash: hash, StaffID: old.StaffID, ExpiresAt: old.ExpiresAt,
			Method: old.Method, Remote: ClientIP(r), MFAAt: &now})
	})
	if err != nil {
		return expires, err
	}
	p.SessionHash, p.Pending = hash, ""
	http.SetCookie(w, &http.Cookie{Name: s.Cookie.Name, Value: plain, Path: "/",
		Secure: s.Cookie.Secure, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	return old.ExpiresAt, nil
}

// SecondFactor is what a member of staff signing in with a password must
// do next: SecondFactorTOTP when they have an authenticator app,
// SecondFactorEnrol when their role requires one and they have none yet,
// or "" for nothing. Single sign-on leaves the second factor to the
// identity provider (OIDC_REQUIRED_ACR).
func SecondFactor(ctx context.Context, db *postgres.DB, staff postgres.Staff) (string, error) {
	enrolled, err := db.TOTPEnrolled(ctx, staff.ID)
	switch {
	case err != nil:
		return "", err
	case enrolled:
		return SecondFactorTOTP, nil
	case RequiresMFA(staff.Role):
		return SecondFactorEnrol, nil
	}
	return "", nil
}

// Lookup finds the live session the request's cookie names.
func (s *Sessions) Lookup(ctx context.Context, r *http.Request) (postgres.Session, bool, error) {
	c, err := r.Cookie(s.Cookie.Name)
	if err != nil || !LooksLike(c.Value, SessionPrefix) {
		return postgres.Session{}, false, nil
	}
	sess, err := s.DB.SessionByHash(ctx, HashSecret(c.Value), s.Idle)
	if errors.Is(err, postgres.ErrNotFound) {
		return sess, false, nil
	}
	return sess, err == nil, err
}

// End signs the browser out: the session row goes and the cookie is cleared.
func (s *Sessions) End(ctx context.Context, w http.ResponseWriter, r *http.Request) error {
	s.Clear(w)
	if c, err := r.Cookie(s.Cookie.Name); err == nil {
		return s.DB.DeleteSession(ctx, HashSecret(c.Value))
	}
	return nil
}

// Clear removes the cookie from the browser.
func (s *Sessions) Clear(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: s.Cookie.Name, Value: "", Path: "/", MaxAge: -1,
		Secure: s.Cookie.Secure, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

// Errors of Authenticate.
var (
	ErrUnauthenticated = errors.New("not signed in")
	ErrCrossOrigin     = errors.New("cross-origin request refused")
)

// Authenticator works out who is behind a request.
type Authenticator struct {
	DB       *postgres.DB
	Sessions *Sessions
	// CSRF checks cookie-authenticated unsafe requests come from our own
	// origin. Bearer-token requests need no such check: a browser never
	// adds the Authorization header on its own.
	CSRF *http.CrossOriginProtection
}

// Authenticate returns the principal behind the request: a bearer token in
// the Authorization header, else the session cookie.
func (a *Authenticator) Authenticate(r *http.Request) (*Principal, error) {
	ctx := r.Context()
	var p Principal
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "Bearer") || !LooksLike(strings.TrimSpace(tok), TokenPrefix) {
			return nil, ErrUnauthenticated
		}
		t, err := a.DB.TokenByHash(ctx, HashSecret(strings.TrimSpace(tok)))
		if errors.Is(err, postgres.ErrNotFound) {
			return nil, ErrUnauthenticated
		}
		if err != nil {
			return nil, err
		}
		p.Staff.ID, p.Via, p.TokenID = t.StaffID, "token", t.ID
	} else {
		sess, ok, err := a.Sessions.Lookup(ctx, r)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, ErrUnauthenticated
		}
		if a.CSRF != nil {
			if err := a.CSRF.Check(r); err != nil {
				return nil, ErrCrossOrigin
			}
		}
		p.Staff.ID, p.Via, p.SessionHash = sess.StaffID, "session", sess.IDHash
		p.Pending = "?" // worked out below, once the account is read
		if sess.Method != "password" || sess.MFAAt != nil {
			p.Pending = ""
		}
	}
	staff, err := a.DB.StaffMember(ctx, p.Staff.ID)
	if errors.Is(err, postgres.ErrNotFound) || err == nil && !staff.Active {
		return nil, ErrUnauthenticated
	}
	if err != nil {
		return nil, err
	}
	p.Staff, p.Remote = staff, ClientIP(r)
	if p.Pending != "" {
		// A password session that has not passed a second factor: the
		// person may need one now (enrolled since, or given a role that
		// requires one) though they did not when it began.
		if p.Pending, err = SecondFactor(ctx, a.DB, staff); err != nil {
			return nil, err
		}
	}
	if p.Reach, err = a.DB.StaffReach(ctx, staff.ID); err != nil {
		return nil, err
	}
	return &p, nil
}
