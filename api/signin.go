package api

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/resettlement"
)

// LoginBody signs in with a local password. Login is an email address or
// a staff id.
type LoginBody struct {
	Login    string `json:"login"`
	Password string `json:"password"`
}

// SignedIn answers a sign-in.
type SignedIn struct {
	Staff     postgres.Staff `json:"staff"`
	ExpiresAt time.Time      `json:"expires_at"`
}

var errBadLogin = problem(http.StatusUnauthorized, "That email (or staff id) and password do not match an active account.")

func (a *app) login(w http.ResponseWriter, r *http.Request) {
	// A sign-in form posted from another site is refused (login CSRF).
	if a.Auth.CSRF != nil {
		if err := a.Auth.CSRF.Check(r); err != nil {
			writeProblem(w, http.StatusForbidden, "This request came from another site and was refused.")
			return
		}
	}
	var b LoginBody
	if p := decode(r, &b); p != nil {
		writeErr(w, p)
		return
	}
	var errs resettlement.Errors
	if b.Login == "" || len(b.Login) > 200 {
		errs.Add("login", "is required: your email address or staff id")
	}
	if b.Password == "" || len(b.Password) > auth.MaxPasswordLength {
		errs.Add("password", "is required")
	}
	if len(errs) > 0 {
		writeErr(w, fieldProblem(errs))
		return
	}
	ctx := r.Context()
	staff, hash, err := a.DB.Login(ctx, b.Login)
	if err != nil && !isNotFound(err) {
		a.fail(w, r, err)
		return
	}
	ok := false
	if hash != "" {
		ok, _ = auth.VerifyPassword(b.Password, hash)
	} else {
		auth.WasteTime(b.Password) // as long as a real check: no telling which accounts exist
	}
	if !ok {
		actor := "unknown"
		if staff.ID != "" {
			actor = staff.ID
		}
		if err := a.auditAs(ctx, actor, clientIP(r), "signin.failed", "", "method=password"); err != nil {
			a.fail(w, r, err)
			return
		}
		writeErr(w, errBadLogin)
		return
	}
	if err := a.Sessions.Start(ctx, w, staff.ID, "password", clientIP(r)); err != nil {
		a.fail(w, r, err)
		return
	}
	if err := a.auditAs(ctx, staff.ID, clientIP(r), "signin", "", "method=password"); err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, SignedIn{Staff: staff, ExpiresAt: time.Now().Add(a.Sessions.Absolute)})
}

func (a *app) logout(w http.ResponseWriter, r *http.Request) {
	p := auth.FromContext(r.Context())
	if p.Via != "session" {
		writeErr(w, problem(http.StatusBadRequest, "Sign-out ends a browser session; revoke a token with DELETE /api/v1/tokens/{id}."))
		return
	}
	err := a.DB.DeleteSession(r.Context(), p.SessionHash)
	a.Sessions.Clear(w)
	if err == nil {
		err = a.audit(r, "signout", "", "")
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// NewTokenBody asks for a personal access token.
type NewTokenBody struct {
	Name          string `json:"name"`
	ExpiresInDays int    `json:"expires_in_days,omitempty"` // 0: 90 days
}

// NewToken is a personal access token, shown once.
type NewToken struct {
	ID        int64      `json:"id"`
	Name      string     `json:"name"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	// Token is the secret, shown this once: only its hash is kept.
	Token string `json:"token"`
}

func (a *app) createToken(w http.ResponseWriter, r *http.Request) {
	p := auth.FromContext(r.Context())
	var b NewTokenBody
	if pe := decode(r, &b); pe != nil {
		writeErr(w, pe)
		return
	}
	var errs resettlement.Errors
	if strings.TrimSpace(b.Name) == "" || utf8.RuneCountInString(b.Name) > 100 || strings.ContainsAny(b.Name, "<>\x00") {
		errs.Add("name", "is required: what the token is for (up to 100 characters)")
	}
	if b.ExpiresInDays == 0 {
		b.ExpiresInDays = 90
	}
	if b.ExpiresInDays < 1 || b.ExpiresInDays > 366 {
		errs.Add("expires_in_days", "must be from 1 to 366")
	}
	if len(errs) > 0 {
		writeErr(w, fieldProblem(errs))
		return
	}
	plain, hash := auth.NewSecret(auth.TokenPrefix)
	exp := time.Now().Add(time.Duration(b.ExpiresInDays) * 24 * time.Hour)
	t, err := a.DB.CreateToken(r.Context(), p.ID(), b.Name, hash, &exp)
	if err == nil {
		err = a.audit(r, "token.create", "", "token="+strconv.FormatInt(t.ID, 10))
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, NewToken{ID: t.ID, Name: t.Name, CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt, Token: plain})
}

func (a *app) listTokens(w http.ResponseWriter, r *http.Request) {
	list, err := a.DB.Tokens(r.Context(), auth.FromContext(r.Context()).ID())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if list == nil {
		list = []postgres.Token{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": list})
}

func (a *app) revokeToken(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(chi.URLParam(r, "tokenID"), 10, 64)
	if err == nil {
		err = a.DB.RevokeToken(r.Context(), auth.FromContext(r.Context()).ID(), id)
	}
	if err != nil && (isNotFound(err) || errors.Is(err, strconv.ErrSyntax) || errors.Is(err, strconv.ErrRange)) {
		writeErr(w, problem(http.StatusNotFound, "You have no such token."))
		return
	}
	if err == nil {
		err = a.audit(r, "token.revoke", "", "token="+strconv.FormatInt(id, 10))
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// OpenID Connect sign-in. The state, nonce and PKCE verifier of a sign-in
// in progress wait in a short-lived cookie, bound to the browser that began.

const oidcCookieAge = 10 * time.Minute

func (a *app) oidcCookie() string {
	if a.Sessions.Cookie.Secure {
		return "__Host-tg_oidc"
	}
	return "tg_oidc"
}

func randomString() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (a *app) oidcLogin(w http.ResponseWriter, r *http.Request) {
	if a.OIDC == nil {
		writeProblem(w, http.StatusNotFound, "Single sign-on is not set up here (OIDC_ISSUER): sign in with a password.")
		return
	}
	state, nonce, verifier := randomString(), randomString(), randomString()
	to, err := a.OIDC.AuthCodeURL(r.Context(), state, nonce, verifier)
	if err != nil {
		a.logger.ErrorContext(r.Context(), "single sign-on unavailable", "err", err)
		writeProblem(w, http.StatusServiceUnavailable, "Single sign-on is unavailable just now. Try again shortly.")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: a.oidcCookie(), Value: state + "." + nonce + "." + verifier, Path: "/",
		MaxAge: int(oidcCookieAge.Seconds()), Secure: a.Sessions.Cookie.Secure, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, to, http.StatusFound)
}

func (a *app) oidcCallback(w http.ResponseWriter, r *http.Request) {
	if a.OIDC == nil {
		writeProblem(w, http.StatusNotFound, "Single sign-on is not set up here (OIDC_ISSUER): sign in with a password.")
		return
	}
	c, err := r.Cookie(a.oidcCookie())
	http.SetCookie(w, &http.Cookie{Name: a.oidcCookie(), Value: "", Path: "/", MaxAge: -1, Secure: a.Sessions.Cookie.Secure, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	parts := []string{}
	if err == nil {
		parts = strings.Split(c.Value, ".")
	}
	q := r.URL.Query()
	if len(parts) != 3 || q.Get("state") == "" || q.Get("state") != parts[0] {
		writeProblem(w, http.StatusBadRequest, "This sign-in was not started from this browser, or took too long. Start again.",
			resettlement.FieldError{Field: "state", Message: "does not match the sign-in in progress"})
		return
	}
	if e := q.Get("error"); e != "" {
		writeProblem(w, http.StatusUnauthorized, "The identity provider did not sign you in.")
		return
	}
	email, err := a.OIDC.Exchange(r.Context(), q.Get("code"), parts[2], parts[1])
	if err != nil {
		a.logger.WarnContext(r.Context(), "single sign-on refused", "err", err)
		_ = a.auditAs(r.Context(), "unknown", clientIP(r), "signin.failed", "", "method=oidc")
		writeProblem(w, http.StatusUnauthorized, "Single sign-on did not succeed. Start again; if it keeps failing, tell the service desk.")
		return
	}
	staff, err := a.DB.StaffByEmail(r.Context(), email)
	if isNotFound(err) {
		_ = a.auditAs(r.Context(), "unknown", clientIP(r), "signin.failed", "", "method=oidc no active account")
		writeProblem(w, http.StatusForbidden, "You signed in, but no active Throughgate account has your email address. Ask an administrator.")
		return
	}
	if err == nil {
		err = a.Sessions.Start(r.Context(), w, staff.ID, "oidc", clientIP(r))
	}
	if err == nil {
		err = a.auditAs(r.Context(), staff.ID, clientIP(r), "signin", "", "method=oidc")
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}
