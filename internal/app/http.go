package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"syscall"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/casework"
	"github.com/throughgate/throughgate/internal/config"
	"github.com/throughgate/throughgate/internal/httpserver"
	"github.com/throughgate/throughgate/internal/otel"
	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/workflows"
)

// Listen opens the HTTP listener before anything slow starts, so a port in
// use is reported at once.
func Listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("http address %s is already in use: stop the other process or choose another with --http-addr / HTTP_ADDR", addr)
	}
	return ln, err
}

// ListenOps opens the operations listener (METRICS_ADDR) early, like
// Listen; nil when none is set.
func ListenOps(addr string) (net.Listener, error) {
	if addr == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("metrics address %s is already in use: stop the other process or choose another with --metrics-addr / METRICS_ADDR", addr)
	}
	return ln, err
}

// ServeOps serves the operations handler on ln (nil: nothing to do) in the
// background until ctx ends.
func ServeOps(ctx context.Context, ln net.Listener, h http.Handler, logger *slog.Logger) {
	if ln == nil {
		return
	}
	logger.Info("operations listening: /metrics, /healthz, /readyz", "addr", ln.Addr().String())
	go func() {
		if err := Serve(ctx, ln, h); err != nil {
			logger.Error("operations listener stopped", "err", err)
		}
	}()
}

// Serve runs the HTTP server on ln until ctx ends, then drains it.
func Serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 2 * time.Minute}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

// Checks are the readiness checks of a process that serves the API: its
// dependencies, and that some worker polls the case task queue.
func Checks(db *postgres.DB, c client.Client, namespace string, smtp func(context.Context) error) []httpserver.Check {
	return []httpserver.Check{
		{Name: "postgres", Fn: db.Ping},
		{Name: "temporal", Fn: temporalHealth(c)},
		{Name: "worker", Fn: func(ctx context.Context) error { return workerPolling(ctx, c, namespace) }},
		{Name: "smtp", Fn: smtp},
	}
}

// WorkerChecks are the worker's readiness checks, on its operations
// listener: PostgreSQL, Temporal and the SMTP relay answer.
func WorkerChecks(db *postgres.DB, c client.Client, smtp func(context.Context) error) []httpserver.Check {
	return []httpserver.Check{
		{Name: "postgres", Fn: db.Ping},
		{Name: "temporal", Fn: temporalHealth(c)},
		{Name: "smtp", Fn: smtp},
	}
}

func temporalHealth(c client.Client) func(context.Context) error {
	return func(ctx context.Context) error {
		_, err := c.CheckHealth(ctx, &client.CheckHealthRequest{})
		return err
	}
}

// workerPolling asks Temporal whether any worker polls the case task queue
// — the only way an API process can know cases are being worked.
func workerPolling(ctx context.Context, c client.Client, namespace string) error {
	resp, err := c.WorkflowService().DescribeTaskQueue(ctx, &workflowservice.DescribeTaskQueueRequest{
		Namespace:     namespace,
		TaskQueue:     &taskqueuepb.TaskQueue{Name: workflows.TaskQueue, Kind: enumspb.TASK_QUEUE_KIND_NORMAL},
		TaskQueueType: enumspb.TASK_QUEUE_TYPE_WORKFLOW,
	})
	if err != nil {
		return err
	}
	if len(resp.GetPollers()) == 0 {
		return fmt.Errorf("no worker is polling task queue %s: start `throughgate worker`", workflows.TaskQueue)
	}
	return nil
}

// HTTPHandler builds the HTTP server (the JSON API and the pages) over
// the process's parts; metrics (nil: none) is told of every request, and
// tracing (nil: off) traces each.
func HTTPHandler(db *postgres.DB, c client.Client, cfg config.Config, checks []httpserver.Check, mailbox http.Handler,
	metrics httpserver.RequestObserver, tracing *otel.Tracing, logger *slog.Logger) http.Handler {
	cookie, warning := auth.CookieFor(cfg.BaseURL)
	if warning != "" {
		logger.Warn(warning)
	}
	sessions := &auth.Sessions{DB: db, Cookie: cookie, Idle: cfg.SessionIdle, Absolute: cfg.SessionMax}
	csrf := http.NewCrossOriginProtection()
	if u, err := url.Parse(cfg.BaseURL); err == nil && u.Host != "" {
		_ = csrf.AddTrustedOrigin(u.Scheme + "://" + u.Host)
	}
	// The Temporal UI calls the codec server from its own origin; the codec
	// changes nothing, and CORS lets only CODEC_CORS_ORIGIN read its answers.
	csrf.AddInsecureBypassPattern("POST /api/v1/codec/decode")
	csrf.AddInsecureBypassPattern("POST /api/v1/codec/encode")
	payloads, err := PayloadCodec(cfg.PayloadKeys)
	if err != nil {
		logger.Error("PAYLOAD_KEYS: the codec server is off", "err", err) // the Temporal client refused them first
	}
	var sso *auth.OIDC
	if cfg.OIDCIssuer != "" {
		sso = &auth.OIDC{Issuer: cfg.OIDCIssuer, ClientID: cfg.OIDCClientID, ClientSecret: cfg.OIDCClientSecret,
			RedirectURL: cfg.BaseURL + "/auth/oidc/callback", RequiredACR: cfg.OIDCRequiredACR}
	}
	return httpserver.New(httpserver.Deps{
		Cases: &casework.Service{DB: db, Temporal: c, Policy: cfg.Policy, Events: EventSettings(cfg),
			BaseURL: cfg.BaseURL, PartnerLinkDays: cfg.PartnerLinkDays},
		DB:             db,
		Checks:         checks,
		Mailbox:        mailbox,
		Logger:         logger,
		Auth:           &auth.Authenticator{DB: db, Sessions: sessions, CSRF: csrf},
		Sessions:       sessions,
		OIDC:           sso,
		TrustedProxies: cfg.TrustedProxies,
		SignInLimit:    cfg.SignInRate,
		Version:        Version(),
		Metrics:        metrics,
		Trace:          requestTracer(tracing),
		Codec:          payloads,
		CodecOrigin:    cfg.CodecCORSOrigin,
	})
}

// requestTracer is tracing as the HTTP server's tracer: none when off (a
// nil *otel.Tracing would be a non-nil interface).
func requestTracer(tracing *otel.Tracing) httpserver.RequestTracer {
	if tracing == nil {
		return nil
	}
	return tracing
}
