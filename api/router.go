package api

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

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
}

// New builds the router.
func New(d Deps) http.Handler {
	r := chi.NewRouter()
	r.Use(middleware.RequestID, middleware.RealIP, requestLog(d.Logger), middleware.Recoverer, securityHeaders)
	r.Get("/healthz", healthz)
	r.Get("/readyz", readyz(d.Checks))
	if d.Mailbox != nil {
		r.Handle("/dev/mail", d.Mailbox)
		r.Handle("/dev/mail.json", d.Mailbox)
	}
	r.NotFound(func(w http.ResponseWriter, _ *http.Request) {
		writeProblem(w, http.StatusNotFound, "There is nothing at this address.")
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, http.StatusMethodNotAllowed, r.Method+" is not allowed here.")
	})
	return r
}

// requestLog writes one structured line per request. It logs the route
// pattern, not the raw path, so no identifier typed into a URL lands in logs.
func requestLog(logger *slog.Logger) func(http.Handler) http.Handler {
	if logger == nil {
		logger = slog.Default()
	}
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
			logger.Log(r.Context(), level, "request", "method", r.Method, "route", route, "status", ww.Status(),
				"bytes", ww.BytesWritten(), "ms", time.Since(start).Milliseconds(), "request_id", middleware.GetReqID(r.Context()))
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
		h.Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'")
		next.ServeHTTP(w, r)
	})
}
