package api

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/casework"
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
	// SecondFactor is what the session must still do before anything
	// else: "totp" (send a code to POST /api/v1/auth/mfa) or "enrol" (the
	// person's role requires an authenticator app: set one up with POST
	// /api/v1/me/mfa/totp). Absent: nothing, the person is signed in.
	SecondFactor string `json:"second_factor,omitempty"`
}

func (a *app) login(w http.ResponseWriter, r *http.Request) error {
	// A sign-in form posted from another site is refused (login CSRF).
	if a.Auth.CSRF != nil {
		if err := a.Auth.CSRF.Check(r); err != nil {
			return errCrossOrigin
		}
	}
	var b LoginBody
	if err := decode(r, &b); err != nil {
		return err
	}
	ctx, remote := r.Context(), auth.ClientIP(r)
	staff, err := a.Cases.SignIn(ctx, b.Login, b.Password, remote)
	if err != nil {
		return err
	}
	next, err := auth.SecondFactor(ctx, a.DB, staff)
	if err != nil {
		return err
	}
	if err := a.Sessions.Start(ctx, w, r, staff.ID, "password"); err != nil {
		return err
	}
	detail := "method=password"
	if next != "" {
		detail += " second_factor=" + next
	}
	if err := a.Cases.AuditAs(ctx, staff.ID, remote, "signin", "", detail); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, SignedIn{Staff: staff, ExpiresAt: time.Now().Add(a.Sessions.Absolute), SecondFactor: next})
}

// MFACodeBody carries a code from an authenticator app, or a recovery code.
type MFACodeBody struct {
	Code string `json:"code"`
}

// Check checks the code's shape (whether it is right is the service's).
func (b MFACodeBody) Check() error {
	if strings.TrimSpace(b.Code) == "" || len(b.Code) > 64 {
		return casework.FieldsError(resettlement.Errors{{Field: "code", Message: "is required: the six digits your authenticator app shows, or a recovery code"}})
	}
	return nil
}

func decodeCode(r *http.Request) (MFACodeBody, error) {
	var b MFACodeBody
	if err := decode(r, &b); err != nil {
		return b, err
	}
	return b, b.Check()
}

// verifyMFA finishes a password sign-in with a TOTP or recovery code: the
// session is replaced by one that has passed (a new id).
func (a *app) verifyMFA(w http.ResponseWriter, r *http.Request) error {
	p := auth.FromContext(r.Context())
	switch {
	case p.Via != "session":
		return casework.Errorf(casework.Conflict, "A personal access token needs no second factor.")
	case p.Pending == "":
		return casework.Errorf(casework.Conflict, "You are signed in already: this session needs no code.")
	case p.Pending == auth.SecondFactorEnrol:
		return casework.Errorf(casework.Conflict, "Set up an authenticator app first (POST /api/v1/me/mfa/totp): your role signs in with two steps.")
	}
	b, err := decodeCode(r)
	if err != nil {
		return err
	}
	if err := a.Cases.VerifySecondFactor(r.Context(), p, b.Code, true); err != nil {
		return err
	}
	expires, err := a.Sessions.Elevate(r.Context(), w, r, p)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, SignedIn{Staff: p.Staff, ExpiresAt: expires})
}

func (a *app) getMFA(w http.ResponseWriter, r *http.Request) error {
	st, err := a.Cases.MFAStatusOf(r.Context(), auth.FromContext(r.Context()))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, st)
}

// startTOTP begins setting up an authenticator app: the secret, this once.
func (a *app) startTOTP(w http.ResponseWriter, r *http.Request) error {
	en, err := a.Cases.StartTOTP(r.Context(), auth.FromContext(r.Context()))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, en)
}

// RecoveryCodes are single-use codes that stand in for the authenticator
// app, shown this once: only their hashes are kept.
type RecoveryCodes struct {
	RecoveryCodes []string `json:"recovery_codes"`
}

// confirmTOTP finishes setting up an authenticator app with a code it
// made; the session counts as having passed its second factor (a new id).
func (a *app) confirmTOTP(w http.ResponseWriter, r *http.Request) error {
	p := auth.FromContext(r.Context())
	if err := casework.RequireSession(p); err != nil {
		return err
	}
	b, err := decodeCode(r)
	if err != nil {
		return err
	}
	codes, err := a.Cases.ConfirmTOTP(r.Context(), p, b.Code)
	if err != nil {
		return err
	}
	if _, err := a.Sessions.Elevate(r.Context(), w, r, p); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, RecoveryCodes{RecoveryCodes: codes})
}

func (a *app) disableTOTP(w http.ResponseWriter, r *http.Request) error {
	p := auth.FromContext(r.Context())
	if err := casework.RequireSession(p); err != nil {
		return err
	}
	b, err := decodeCode(r)
	if err != nil {
		return err
	}
	if err := a.Cases.DisableTOTP(r.Context(), p, b.Code); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *app) newRecoveryCodes(w http.ResponseWriter, r *http.Request) error {
	p := auth.FromContext(r.Context())
	if err := casework.RequireSession(p); err != nil {
		return err
	}
	b, err := decodeCode(r)
	if err != nil {
		return err
	}
	codes, err := a.Cases.RegenerateRecoveryCodes(r.Context(), p, b.Code)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, RecoveryCodes{RecoveryCodes: codes})
}

func (a *app) logout(w http.ResponseWriter, r *http.Request) error {
	p := auth.FromContext(r.Context())
	if p.Via != "session" {
		return casework.Errorf(casework.Malformed, "Sign-out ends a browser session; revoke a token with DELETE /api/v1/tokens/{id}.")
	}
	err := a.DB.DeleteSession(r.Context(), p.SessionHash)
	a.Sessions.Clear(w)
	if err == nil {
		err = a.Cases.Audit(r.Context(), auth.FromContext(r.Context()), "signout", "", "")
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
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

func (a *app) createToken(w http.ResponseWriter, r *http.Request) error {
	p := auth.FromContext(r.Context())
	if err := casework.RequireSession(p); err != nil {
		return err // a token cannot make tokens, whatever its body says
	}
	var b NewTokenBody
	if pe := decode(r, &b); pe != nil {
		return pe
	}
	t, err := a.Cases.CreateToken(r.Context(), p, b.Name, b.ExpiresInDays)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, NewToken{ID: t.ID, Name: t.Name, CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt, Token: t.Secret})
}

func (a *app) listTokens(w http.ResponseWriter, r *http.Request) error {
	list, err := a.Cases.Tokens(r.Context(), auth.FromContext(r.Context()))
	if err != nil {
		return err
	}
	if list == nil {
		list = []postgres.Token{}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"items": list})
}

func (a *app) revokeToken(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(chi.URLParam(r, "tokenID"), 10, 64)
	if err != nil {
		return casework.Errorf(casework.NotFound, "You have no such token.")
	}
	if err := a.Cases.RevokeToken(r.Context(), auth.FromContext(r.Context()), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
