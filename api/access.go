package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/postgres"
)

// authenticate lets a request through only with a live session or token.
func (a *app) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := a.Auth.Authenticate(r)
		switch {
		case errors.Is(err, auth.ErrUnauthenticated):
			w.Header().Set("WWW-Authenticate", `Bearer realm="throughgate"`)
			writeProblem(w, http.StatusUnauthorized, "Sign in first: send a session cookie from POST /api/v1/auth/login, or a personal access token as Authorization: Bearer.")
			return
		case errors.Is(err, auth.ErrCrossOrigin):
			writeProblem(w, http.StatusForbidden, "This request came from another site and was refused.")
			return
		case err != nil:
			a.fail(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(auth.WithPrincipal(r.Context(), p)))
	})
}

// fail logs an unexpected error and answers 500 (or the problem it is).
func (a *app) fail(w http.ResponseWriter, r *http.Request, err error) {
	var p *problemError
	if !errors.As(err, &p) {
		a.logger.ErrorContext(r.Context(), "request failed", "route", chi.RouteContext(r.Context()).RoutePattern(), "err", err)
	}
	writeErr(w, err)
}

var (
	errForbidden = problem(http.StatusForbidden, "Your role does not allow this.")
	errNoCase    = problem(http.StatusNotFound, "There is no such case, or it is not one you can see.")
)

// caseScope is the caseload the signed-in person may see; 403 for a role
// that sees no cases (administrators).
func caseScope(r *http.Request) (*auth.Principal, postgres.Scope, *problemError) {
	p := auth.FromContext(r.Context())
	s, ok := p.CaseScope()
	if !ok {
		return p, s, problem(http.StatusForbidden, "Administrators manage staff, teams and the audit log, not case contents.")
	}
	return p, s, nil
}

// caseAccess checks the person may see the case: 404 when it does not exist
// or is outside their scope (they may not know it exists), and the refusal
// is audited.
func (a *app) caseAccess(r *http.Request, caseID string) (*auth.Principal, error) {
	p, scope, perr := caseScope(r)
	if perr != nil {
		return p, perr
	}
	found, in, err := a.DB.InScope(r.Context(), scope, caseID)
	if err != nil {
		return p, err
	}
	if !in {
		if found {
			if err := a.audit(r, "case.denied", caseID, chi.RouteContext(r.Context()).RoutePattern()); err != nil {
				return p, err
			}
		}
		return p, errNoCase
	}
	return p, nil
}

// audit appends to the audit log: who, what, which case, from where.
func (a *app) audit(r *http.Request, action, caseID, detail string) error {
	actor := "anonymous"
	if p := auth.FromContext(r.Context()); p != nil {
		actor = p.ID()
	}
	return a.auditAs(r.Context(), actor, clientIP(r), action, caseID, detail)
}

func (a *app) auditAs(ctx context.Context, actor, remote, action, caseID, detail string) error {
	return a.DB.Audit(context.WithoutCancel(ctx), postgres.AuditEntry{Actor: actor, Action: action, CaseID: caseID, Detail: detail, Remote: remote})
}

// requireAdmin answers 403 for anyone but an administrator.
func requireAdmin(r *http.Request) *problemError {
	if !auth.FromContext(r.Context()).IsAdmin() {
		return problem(http.StatusForbidden, "Only administrators manage staff, teams and the audit log.")
	}
	return nil
}
