package web

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/casework"
	"github.com/throughgate/throughgate/resettlement"
)

var errNoOIDC = casework.Errorf(casework.NotFound, "Single sign-on is not set up here (OIDC_ISSUER): sign in with a password.")

// OpenID Connect sign-in. The state, nonce and PKCE verifier of a sign-in
// in progress wait in a short-lived cookie, bound to the browser that began.

const oidcCookieAge = 10 * time.Minute

func (a *site) oidcCookie() string {
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

func (a *site) oidcLogin(w http.ResponseWriter, r *http.Request) error {
	if a.OIDC == nil {
		return errNoOIDC
	}
	state, nonce, verifier := randomString(), randomString(), randomString()
	to, err := a.OIDC.AuthCodeURL(r.Context(), state, nonce, verifier)
	if err != nil {
		a.Logger.ErrorContext(r.Context(), "single sign-on unavailable", "err", err)
		return casework.Errorf(casework.Unavailable, "Single sign-on is unavailable just now. Try again shortly.")
	}
	http.SetCookie(w, &http.Cookie{Name: a.oidcCookie(), Value: state + "." + nonce + "." + verifier, Path: "/",
		MaxAge: int(oidcCookieAge.Seconds()), Secure: a.Sessions.Cookie.Secure, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, to, http.StatusFound)
	return nil
}

func (a *site) oidcCallback(w http.ResponseWriter, r *http.Request) error {
	if a.OIDC == nil {
		return errNoOIDC
	}
	c, err := r.Cookie(a.oidcCookie())
	http.SetCookie(w, &http.Cookie{Name: a.oidcCookie(), Value: "", Path: "/", MaxAge: -1, Secure: a.Sessions.Cookie.Secure, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	parts := []string{}
	if err == nil {
		parts = strings.Split(c.Value, ".")
	}
	q := r.URL.Query()
	if len(parts) != 3 || q.Get("state") == "" || q.Get("state") != parts[0] {
		return casework.Errorf(casework.Malformed, "This sign-in was not started from this browser, or took too long. Start again.",
			resettlement.FieldError{Field: "state", Message: "does not match the sign-in in progress"})
	}
	if e := q.Get("error"); e != "" {
		return casework.Errorf(casework.Unauthenticated, "The identity provider did not sign you in.")
	}
	id, err := a.OIDC.Exchange(r.Context(), q.Get("code"), parts[2], parts[1])
	if errors.Is(err, auth.ErrACR) {
		_ = a.Cases.AuditAs(r.Context(), "unknown", auth.ClientIP(r), "signin.failed", "", "method=oidc reason=acr acr="+id.ACR)
		return casework.Errorf(casework.Unauthenticated, "Your identity provider signed you in without the extra check Throughgate needs (such as a code from your phone). Start again and complete it.")
	}
	if err != nil {
		a.Logger.WarnContext(r.Context(), "single sign-on refused", "err", err)
		_ = a.Cases.AuditAs(r.Context(), "unknown", auth.ClientIP(r), "signin.failed", "", "method=oidc")
		return casework.Errorf(casework.Unauthenticated, "Single sign-on did not succeed. Start again; if it keeps failing, tell the service desk.")
	}
	staff, err := a.Cases.SignInByOIDC(r.Context(), id, auth.ClientIP(r))
	if err == nil {
		err = a.Sessions.Start(r.Context(), w, r, staff.ID, "oidc")
	}
	if err == nil {
		err = a.Cases.AuditAs(r.Context(), staff.ID, auth.ClientIP(r), "signin", "", "method=oidc")
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
	return nil
}
