// Package httpserver is Throughgate's HTTP server: the middleware every
// request passes (request id, one log line and its metrics, security
// headers), the health endpoints, the sign-in rate limit, and the two
// surfaces mounted side by side: the JSON API (package api) under /api/v1 and
// the pages (package web) at /. Both call the application service,
// internal/casework. Ops (ops.go) is the operations listener's handler:
// /metrics, /healthz and /readyz off the public port.
package httpserver

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/go-chi/httprate"
	"go.temporal.io/sdk/converter"

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
	// TrustedProxies are the reverse proxies whose X-Forwarded-For is
	// believed (TRUSTED_PROXIES); nil: none, the client address is the
	// peer's (auth.TrustedProxies.ClientAddress).
	TrustedProxies auth.TrustedProxies
	// SignInLimit is how many sign-in attempts one client address may make
	// a minute, through the API and the pages together (0: 10).
	SignInLimit int
	// Version is the build's version, in /healthz's answer.
	Version string
	// Metrics, when set, is told of every request: the Prometheus request
	// metrics (package prometheus).
	Metrics RequestObserver
	// Trace, when set, traces every request: OpenTelemetry's server span
	// (package otel).
	Trace RequestTracer
	// Codec, when set, serves the Temporal UI's codec server (api/codec.go)
	// to CodecOrigin.
	Codec       converter.PayloadCodec
	CodecOrigin string
}

// RequestObserver records each answered request by its chi route pattern.
type RequestObserver interface {
	ObserveRequest(method, route string, status int, elapsed time.Duration)
}

// RequestTracer begins a request's trace span, returning the request that
// carries it to the handlers (and so to the Temporal client), and end,
// called once the request is answered with its chi route pattern and status.
type RequestTracer interface {
	StartRequest(r *http.Request) (_ *http.Request, end func(route string, status int))
}

// New builds the whole HTTP handler.
func New(d Deps) http.Handler {
	logger := d.Logger
	if logger == nil {
		logger = slog.Default()
	}
	r := chi.NewRouter()
	r.Use(middleware.RequestID)
	r.Use(d.TrustedProxies.Middleware) // the client address, once: auth.ClientIP
	r.Use(requestLog(logger, d.Metrics, d.Trace), middleware.Recoverer, securityHeaders)
	r.Get("/healthz", healthz(d.Version))
	r.Get("/readyz", readyz(d.Checks, adminOf(d.Auth)))
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
	api.Routes(r, api.Deps{Cases: d.Cases, DB: d.DB, Logger: logger, Auth: d.Auth, Sessions: d.Sessions, SignInRate: signInRate,
		Codec: d.Codec, CodecOrigin: d.CodecOrigin})
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

// requestLog writes one structured line per request, and tells metrics and
// tracer (when set) of it. It logs the route pattern, not the raw path, so
// no identifier typed into a URL lands in logs, a metric's label or a span.
func requestLog(logger *slog.Logger, metrics RequestObserver, tracer RequestTracer) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			endSpan := func(string, int) {}
			if tracer != nil {
				r, endSpan = tracer.StartRequest(r)
			}
			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			next.ServeHTTP(ww, r)
			route := chi.RouteContext(r.Context()).RoutePattern()
			if route == "" {
				route = "unmatched"
			}
			elapsed := time.Since(start)
			if metrics != nil {
				metrics.ObserveRequest(r.Method, route, ww.Status(), elapsed)
			}
			endSpan(route, ww.Status())
			level := slog.LevelInfo
			if route == "/healthz" || route == "/readyz" {
				level = slog.LevelDebug
			}
			attrs := []any{"method", r.Method, "route", route, "status", ww.Status(),
				"bytes", ww.BytesWritten(), "ms", elapsed.Milliseconds(), "request_id", middleware.GetReqID(r.Context())}
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
