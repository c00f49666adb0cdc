package api

import (
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/go-chi/httprate"

	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/casework"
	"github.com/throughgate/throughgate/internal/postgres"
)

// Deps is what the API needs.
type Deps struct {
	Cases  *casework.Service
	DB     *postgres.DB
	Checks []Check
	// Mailbox, when set, serves the development SMTP server's messages at
	// /dev/mail and /dev/mail.json. Only `throughgate dev` sets it.
	Mailbox http.Handler
	Logger  *slog.Logger

	// Auth knows who is behind a request; Sessions signs browsers in.
	Auth     *auth.Authenticator
	Sessions *auth.Sessions
	// OIDC, when set, offers single sign-on at /auth/oidc/login.
	OIDC *auth.OIDC
	// TrustProxyHeaders takes the client address from X-Forwarded-For or
	// X-Real-IP. Only behind a proxy that sets them: anyone can send them.
	TrustProxyHeaders bool
	// SignInLimit is how many sign-in attempts one client address may make
	// a minute (0: 10).
	SignInLimit int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

type app struct {
	Deps
	logger *slog.Logger
}

func (a *app) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// New builds the router.
func New(d Deps) http.Handler {
	a := &app{Deps: d, logger: d.Logger}
	if a.logger == nil {
		a.logger = slog.Default()
	}
	r := chi.NewRouter()
	r.Use(middleware.RequestID)
	if d.TrustProxyHeaders {
		r.Use(middleware.RealIP)
	}
	r.Use(requestLog(a.logger), middleware.Recoverer, securityHeaders)
	r.Get("/healthz", healthz)
	r.Get("/readyz", readyz(d.Checks))
	if d.Mailbox != nil {
		r.Handle("/dev/mail", d.Mailbox)
		r.Handle("/dev/mail.json", d.Mailbox)
	}
	limit := d.SignInLimit
	if limit <= 0 {
		limit = 10
	}
	signInRate := httprate.LimitBy(limit, time.Minute, func(r *http.Request) (string, error) { return clientIP(r), nil },
		httprate.WithLimitHandler(func(w http.ResponseWriter, _ *http.Request) {
			writeProblem(w, http.StatusTooManyRequests, "Too many sign-in attempts from this address. Wait a minute and try again.")
		}))
	r.With(signInRate).Get("/auth/oidc/login", a.oidcLogin)
	r.With(signInRate).Get("/auth/oidc/callback", a.oidcCallback)

	r.Route("/api/v1", func(r chi.Router) {
		r.Get("/openapi.json", serveOpenAPI)
		r.With(signInRate).Post("/auth/login", a.login)
		r.Group(func(r chi.Router) {
			r.Use(a.authenticate)
			r.Post("/auth/logout", a.logout)
			r.Get("/me", a.getMe)
			r.Patch("/me", a.patchMe)
			r.Put("/me/password", a.putMyPassword)
			r.Get("/tokens", a.listTokens)
			r.Post("/tokens", a.createToken)
			r.Delete("/tokens/{tokenID}", a.revokeToken)

			r.Get("/cases", a.listCases)
			r.Post("/cases", a.openCase)
			r.Post("/cases/search", a.searchCases)
			r.Get("/cases/{caseID}", a.getCase)
			r.Get("/cases/{caseID}/timeline", a.getTimeline)
			r.Post("/cases/{caseID}/assessment", a.recordAssessment)
			r.Post("/cases/{caseID}/steps/{stepID}/actions", a.actOnStep)
			r.Post("/cases/{caseID}/steps/{stepID}/assign", a.assignStep)
			r.Post("/cases/{caseID}/assign", a.assignCase)
			r.Post("/cases/{caseID}/release-dates", a.changeReleaseDates)
			r.Post("/cases/{caseID}/transfer", a.transfer)
			r.Post("/cases/{caseID}/pause", a.pause)
			r.Post("/cases/{caseID}/resume", a.resume)
			r.Post("/cases/{caseID}/reset", a.reset)
			r.Post("/cases/{caseID}/close", a.closeCase)

			r.Get("/board", a.getBoard)
			r.Get("/board/summary", a.getBoardSummary)
			r.Post("/board/reassign", a.bulkReassign)
			r.Get("/board/undeliverable", a.getUndeliverable)

			r.Get("/staff", a.listStaff)
			r.Post("/staff", a.createStaff)
			r.Get("/staff/{staffID}", a.getStaff)
			r.Patch("/staff/{staffID}", a.patchStaff)
			r.Put("/staff/{staffID}/password", a.putStaffPassword)
			r.Post("/staff/{staffID}/deactivate", a.deactivateStaff)
			r.Get("/teams", a.listTeams)
			r.Post("/teams", a.createTeam)
			r.Patch("/teams/{teamID}", a.patchTeam)
			r.Post("/teams/{teamID}/deactivate", a.deactivateTeam)

			r.Get("/audit", a.listAudit)
			r.Get("/audit.csv", a.exportAudit)
		})
	})
	a.mountPages(r, signInRate)
	r.NotFound(func(w http.ResponseWriter, _ *http.Request) {
		writeProblem(w, http.StatusNotFound, "There is nothing at this address.")
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, http.StatusMethodNotAllowed, r.Method+" is not allowed here.")
	})
	return r
}

// clientIP is the address the request came from (the proxy's view of it
// when TrustProxyHeaders put it in RemoteAddr).
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// requestLog writes one structured line per request. It logs the route
// pattern, not the raw path, so no identifier typed into a URL lands in logs.
func requestLog(logger *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			next.ServeHTTP(ww, r)
			route := chi.RouteContext(r.Context()).RoutePattern()
			if route == "" {
				route = "unmatched"
			}
			level := slog.LevelInfo
			if route == "/healthz" || route == "/readyz" {
				level = slog.LevelDebug
			}
			attrs := []any{"method", r.Method, "route", route, "status", ww.Status(),
				"bytes", ww.BytesWritten(), "ms", time.Since(start).Milliseconds(), "request_id", middleware.GetReqID(r.Context())}
			logger.Log(r.Context(), level, "request", attrs...)
		})
	}
}

// securityHeaders sets the headers every response carries.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		h.Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'")
		if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
			h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
		}
		next.ServeHTTP(w, r)
	})
}
