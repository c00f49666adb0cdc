// Package httpserver is Throughgate's HTTP server: the middleware every
// request passes (request id, one log line, security headers), the health
// endpoints, the sign-in rate limit, and the two surfaces mounted side by
// side: the JSON API (package api) under /api/v1 and the pages (package
// web) at /. Both call the application service, internal/casework.
package httpserver

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/go-chi/httprate"

	"github.com/throughgate/throughgate/api"
	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/casework"
	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/web"
)

// Deps is what the server needs.
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
	// a minute, through the API and the pages together (0: 10).
	SignInLimit int
}

// New builds the whole HTTP handler.
func New(d Deps) http.Handler {
	logger := d.Logger
	if logger == nil {
		logger = slog.Default()
	}
	r := chi.NewRouter()
	r.Use(middleware.RequestID)
	if d.TrustProxyHeaders {
		r.Use(middleware.RealIP)
	}
	r.Use(requestLog(logger), middleware.Recoverer, securityHeaders)
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
	signInRate := httprate.LimitBy(limit, time.Minute, func(r *http.Request) (string, error) { return auth.ClientIP(r), nil },
		httprate.WithLimitHandler(func(w http.ResponseWriter, _ *http.Request) {
			api.WriteProblem(w, http.StatusTooManyRequests, "Too many sign-in attempts from this address. Wait a minute and try again.")
		}))
	api.Routes(r, api.Deps{Cases: d.Cases, DB: d.DB, Logger: logger, Auth: d.Auth, Sessions: d.Sessions, SignInRate: signInRate})
	web.Routes(r, web.Deps{Cases: d.Cases, Auth: d.Auth, Sessions: d.Sessions, OIDC: d.OIDC, Mailbox: d.Mailbox != nil,
		SignInRate: signInRate, Logger: logger})
	r.NotFound(func(w http.ResponseWriter, _ *http.Request) {
		api.WriteProblem(w, http.StatusNotFound, "There is nothing at this address.")
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		api.WriteProblem(w, http.StatusMethodNotAllowed, r.Method+" is not allowed here.")
	})
	return r
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

// writeJSON sends a JSON body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
