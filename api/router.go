package api

import (
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"
	"go.temporal.io/sdk/converter"

	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/casework"
	"github.com/throughgate/throughgate/internal/postgres"
)

// Deps is what the API needs; httpserver.New sets every field.
type Deps struct {
	Cases *casework.Service
	// DB serves the administration of staff, teams and tokens.
	DB     *postgres.DB
	Logger *slog.Logger

	// Auth knows who is behind a request; Sessions signs browsers in.
	Auth     *auth.Authenticator
	Sessions *auth.Sessions
	// SignInRate limits sign-in attempts per client address; the pages'
	// sign-in shares it.
	SignInRate func(http.Handler) http.Handler
	// Codec decrypts workflow payloads for the Temporal UI (codec.go); nil
	// when payloads are not encrypted. CodecOrigin is the UI's origin.
	Codec       converter.PayloadCodec
	CodecOrigin string
}

type app struct{ Deps }

// handlerFunc is a handler that returns its failure rather than writing it.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// Routes mounts the API under /api/v1 on r.
func Routes(r chi.Router, d Deps) {
	a := &app{d}
	h, signInRate := a.route, d.SignInRate
	r.Route("/api/v1", func(r chi.Router) {
		r.Get("/openapi.json", serveOpenAPI)
		r.Options("/codec/decode", a.codecPreflight)
		r.Options("/codec/encode", a.codecPreflight)
		r.With(signInRate).Post("/auth/login", h(a.login))
		// Prison movement events: signed by their source, not a session (events.go).
		r.Post("/events", h(a.postEvent))
		// Signed in with a password but perhaps not yet through the second
		// factor (auth.Principal.Pending): finishing that, and signing out.
		r.Group(func(r chi.Router) {
			r.Use(a.authenticateHalfway)
			r.Post("/auth/logout", h(a.logout))
			r.With(signInRate).Post("/auth/mfa", h(a.verifyMFA))
			r.Get("/me/mfa", h(a.getMFA))
			r.Post("/me/mfa/totp", h(a.startTOTP))
			r.Post("/me/mfa/totp/confirm", h(a.confirmTOTP))
		})
		r.Group(func(r chi.Router) {
			r.Use(a.authenticate)
			r.Get("/me", h(a.getMe))
			r.Patch("/me", h(a.patchMe))
			r.Put("/me/password", h(a.putMyPassword))
			r.Get("/tokens", h(a.listTokens))
			r.Post("/tokens", h(a.createToken))
			r.Delete("/tokens/{tokenID}", h(a.revokeToken))
			r.Post("/me/mfa/disable", h(a.disableTOTP))
			r.Post("/me/mfa/recovery-codes", h(a.newRecoveryCodes))

			r.Get("/cases", h(a.listCases))
			r.Post("/cases", h(a.openCase))
			r.Post("/cases/search", h(a.searchCases))
			r.Get("/cases/{caseID}", h(a.getCase))
			r.Get("/cases/{caseID}/timeline", h(a.getTimeline))
			r.Post("/cases/{caseID}/assessment", h(act[casework.RecordAssessment](a, nil)))
			r.Post("/cases/{caseID}/steps/{stepID}/actions", h(act(a, func(r *http.Request, c *casework.ActOnStep) { c.StepID = chi.URLParam(r, "stepID") })))
			r.Post("/cases/{caseID}/steps/{stepID}/assign", h(act(a, func(r *http.Request, c *casework.Assign) { c.StepID = chi.URLParam(r, "stepID") })))
			// Partner links and consent (issue 13: partners.go, consent.go).
			r.Get("/cases/{caseID}/steps/{stepID}/partner-links", h(a.listPartnerLinks))
			r.Post("/cases/{caseID}/steps/{stepID}/partner-links", h(a.createPartnerLink))
			r.Post("/cases/{caseID}/steps/{stepID}/partner-links/{linkID}/revoke", h(a.revokePartnerLink))
			r.Get("/cases/{caseID}/consents", h(a.listConsents))
			r.Post("/cases/{caseID}/consents", h(a.recordConsent))
			r.Post("/cases/{caseID}/consents/{consentID}/withdraw", h(a.withdrawConsent))
			r.Post("/cases/{caseID}/assign", h(act[casework.Assign](a, nil)))
			r.Post("/cases/{caseID}/release-dates", h(act[casework.ChangeReleaseDates](a, nil)))
			r.Post("/cases/{caseID}/transfer", h(act[casework.Transfer](a, nil)))
			r.Post("/cases/{caseID}/pause", h(act[casework.Pause](a, nil)))
			r.Post("/cases/{caseID}/resume", h(act[casework.Resume](a, nil)))
			r.Post("/cases/{caseID}/reset", h(act[casework.Reset](a, nil)))
			r.Post("/cases/{caseID}/close", h(act[casework.Close](a, nil)))

			r.Get("/board", h(a.getBoard))
			r.Get("/board/summary", h(a.getBoardSummary))
			r.Post("/board/reassign", h(a.bulkReassign))
			r.Get("/board/undeliverable", h(a.getUndeliverable))

			// Loading a caseload from a CSV file (imports.go).
			r.Post("/imports", h(a.postImport))
			r.Get("/imports/{importID}", h(a.getImport))

			r.Get("/staff", h(a.listStaff))
			r.Post("/staff", h(a.createStaff))
			r.Get("/staff/{staffID}", h(a.getStaff))
			r.Patch("/staff/{staffID}", h(a.patchStaff))
			r.Put("/staff/{staffID}/password", h(a.putStaffPassword))
			r.Post("/staff/{staffID}/deactivate", h(a.deactivateStaff))
			r.Post("/staff/{staffID}/mfa/reset", h(a.resetStaffMFA))
			r.Get("/teams", h(a.listTeams))
			r.Post("/teams", h(a.createTeam))
			r.Patch("/teams/{teamID}", h(a.patchTeam))
			r.Post("/teams/{teamID}/deactivate", h(a.deactivateTeam))

			r.Post("/codec/decode", h(a.codecServer))
			r.Post("/codec/encode", h(a.codecServer))

			r.Get("/events/review", h(a.getEventReview))
			r.Post("/events/{eventID}/apply", h(a.applyEvent))
			r.Post("/events/{eventID}/dismiss", h(a.dismissEvent))

			r.Get("/audit", h(a.listAudit))
			r.Get("/audit.csv", h(a.exportAudit))
			r.Post("/admin/subject-access", h(a.exportSubjectAccess))
		})
		r.NotFound(func(w http.ResponseWriter, _ *http.Request) {
			WriteProblem(w, http.StatusNotFound, "There is nothing at this address.")
		})
		r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
			WriteProblem(w, http.StatusMethodNotAllowed, r.Method+" is not allowed here.")
		})
	})
}

// route adapts a handler: its error becomes a problem document, and a
// fault on our side is logged (its text never shown: it may hold internals).
func (a *app) route(h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			if wait := casework.RetryAfterOf(err); wait > 0 { // a throttled account: when to try again
				w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
			}
			if _, ok := casework.ErrorOf(err); !ok {
				a.Logger.ErrorContext(r.Context(), "request failed", "route", chi.RouteContext(r.Context()).RoutePattern(), "err", err)
			}
			a.auditRefusal(r, err)
			writeError(w, err)
		}
	}
}

// auditRefusal records a 403 (casework.Service.Refused) with the route
// asked for; the answer goes out whatever the audit's fate.
func (a *app) auditRefusal(r *http.Request, err error) {
	if a.Cases == nil {
		return
	}
	route := chi.RouteContext(r.Context()).RoutePattern()
	if route == "" || strings.HasSuffix(route, "*") {
		route = r.URL.Path
	}
	if aerr := a.Cases.Refused(r.Context(), auth.FromContext(r.Context()), auth.ClientIP(r), r.Method+" "+route,
		chi.URLParam(r, "caseID"), err); aerr != nil {
		a.Logger.ErrorContext(r.Context(), "auditing a refusal", "route", route, "err", aerr)
	}
}

// authenticate lets a request through only with a live session or token,
// and a session only once it has passed its second factor.
func (a *app) authenticate(next http.Handler) http.Handler { return a.signedIn(next, false) }

// authenticateHalfway also lets through a password session that has yet to
// pass its second factor (or, the person's role requiring one, to set it
// up), for the routes that do that.
func (a *app) authenticateHalfway(next http.Handler) http.Handler { return a.signedIn(next, true) }

func (a *app) signedIn(next http.Handler, halfway bool) http.Handler {
	return a.route(func(w http.ResponseWriter, r *http.Request) error {
		p, err := a.Auth.Authenticate(r)
		switch {
		case errors.Is(err, auth.ErrUnauthenticated):
			w.Header().Set("WWW-Authenticate", `Bearer realm="throughgate"`)
			return casework.Errorf(casework.Unauthenticated, "Sign in first: send a session cookie from POST /api/v1/auth/login, or a personal access token as Authorization: Bearer.")
		case errors.Is(err, auth.ErrCrossOrigin):
			return errCrossOrigin
		case err != nil:
			return err
		}
		if p.Pending != "" && !halfway {
			w.Header().Set("WWW-Authenticate", `Bearer realm="throughgate"`)
			if p.Pending == auth.SecondFactorEnrol {
				return errEnrolFirst
			}
			return errCodeFirst
		}
		next.ServeHTTP(w, r.WithContext(auth.WithPrincipal(r.Context(), p)))
		return nil
	})
}

var (
	errCodeFirst = casework.Errorf(casework.Unauthenticated,
		"Finish signing in: send the code from your authenticator app (or a recovery code) to POST /api/v1/auth/mfa.")
	errEnrolFirst = casework.Errorf(casework.Unauthenticated,
		"Your role signs in with two steps: set up an authenticator app first (POST /api/v1/me/mfa/totp, then /api/v1/me/mfa/totp/confirm).")
)

var (
	errCrossOrigin = casework.Errorf(casework.Forbidden, "This request came from another site and was refused.")
	errNotAdmin    = casework.Errorf(casework.Forbidden, "Only administrators manage staff, teams and the audit log.")
)

// requireAdmin refuses anyone but an administrator.
func requireAdmin(r *http.Request) error {
	if !auth.FromContext(r.Context()).IsAdmin() {
		return errNotAdmin
	}
	return nil
}

func isNotFound(err error) bool { return errors.Is(err, postgres.ErrNotFound) }
