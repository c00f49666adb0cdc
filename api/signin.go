package api

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

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
	if err := a.Sessions.Start(ctx, w, staff.ID, "password", remote); err != nil {
		return err
	}
	if err := a.Cases.AuditAs(ctx, staff.ID, remote, "signin", "", "method=password"); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, SignedIn{Staff: staff, ExpiresAt: time.Now().Add(a.Sessions.Absolute)})
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
	var b NewTokenBody
	if pe := decode(r, &b); pe != nil {
		return pe
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
		return casework.FieldsError(errs)
	}
	plain, hash := auth.NewSecret(auth.TokenPrefix)
	exp := time.Now().Add(time.Duration(b.ExpiresInDays) * 24 * time.Hour)
	t, err := a.DB.CreateToken(r.Context(), p.ID(), b.Name, hash, &exp)
	if err == nil {
		err = a.Cases.Audit(r.Context(), auth.FromContext(r.Context()), "token.create", "", "token="+strconv.FormatInt(t.ID, 10))
	}
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, NewToken{ID: t.ID, Name: t.Name, CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt, Token: plain})
}

func (a *app) listTokens(w http.ResponseWriter, r *http.Request) error {
	list, err := a.DB.Tokens(r.Context(), auth.FromContext(r.Context()).ID())
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
	if err == nil {
		err = a.DB.RevokeToken(r.Context(), auth.FromContext(r.Context()).ID(), id)
	}
	if err != nil && (isNotFound(err) || errors.Is(err, strconv.ErrSyntax) || errors.Is(err, strconv.ErrRange)) {
		return casework.Errorf(casework.NotFound, "You have no such token.")
	}
	if err == nil {
		err = a.Cases.Audit(r.Context(), auth.FromContext(r.Context()), "token.revoke", "", "token="+strconv.FormatInt(id, 10))
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
