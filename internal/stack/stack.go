// Package stack wires Throughgate's parts into a running process: the
// worker, the HTTP API, and — for `throughgate dev` — the whole engine in
// one process with its own PostgreSQL, Temporal server and SMTP server.
//
// The subcommands in cmd/throughgate and the integration tests both start
// processes through here, so what the tests exercise is what people run.
package stack

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"

	"github.com/throughgate/throughgate/activities"
	"github.com/throughgate/throughgate/api"
	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/casework"
	"github.com/throughgate/throughgate/internal/config"
	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/workflows"
)

// NewLogger returns the process's logger: one structured line per event.
func NewLogger(level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
}

// OpenDB connects to PostgreSQL, applies migrations when asked (dev, the
// migrate command), and otherwise refuses a schema that is out of date.
func OpenDB(ctx context.Context, url string, migrate bool, logger *slog.Logger) (*postgres.DB, error) {
	db, err := postgres.Open(ctx, url)
	if err != nil {
		return nil, err
	}
	if migrate {
		from, to, err := db.Migrate(ctx)
		if err != nil {
			db.Close()
			return nil, err
		}
		if from != to {
			logger.Info("database migrated", "from", from, "to", to)
		}
		return db, nil
	}
	if err := db.CheckSchema(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// DialTemporal connects to the Temporal frontend, with mTLS when configured.
func DialTemporal(ctx context.Context, cfg config.Config, hostPort string, logger *slog.Logger) (client.Client, error) {
	opts := client.Options{
		HostPort:  hostPort,
		Namespace: cfg.TemporalNamespace,
		// The SDK logs little at info (worker start and stop), and the
		// workflows' own lines — alarms raised, cases changed — are the
		// events worth seeing, so it shares the process's level.
		Logger: tlog.NewStructuredLogger(logger.With("component", "temporal")),
	}
	if cfg.TemporalTLSCert != "" || cfg.TemporalTLSCA != "" {
		tc := &tls.Config{ServerName: cfg.TemporalTLSServer, MinVersion: tls.VersionTLS12}
		if cfg.TemporalTLSCert != "" {
			cert, err := tls.LoadX509KeyPair(cfg.TemporalTLSCert, cfg.TemporalTLSKey)
			if err != nil {
				return nil, fmt.Errorf("TEMPORAL_TLS_CERT / TEMPORAL_TLS_KEY: %w", err)
			}
			tc.Certificates = []tls.Certificate{cert}
		}
		roots, err := loadCA("TEMPORAL_TLS_CA", cfg.TemporalTLSCA)
		if err != nil {
			return nil, err
		}
		tc.RootCAs = roots
		opts.ConnectionOptions.TLS = tc
	}
	dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	c, err := client.DialContext(dctx, opts)
	if err != nil {
		return nil, fmt.Errorf("cannot reach Temporal at %s (TEMPORAL_ADDRESS): %w", hostPort, err)
	}
	return c, nil
}

// loadCA reads a PEM file of CA certificates named by a setting; nil (the
// system's roots) when the setting is empty.
func loadCA(setting, path string) (*x509.CertPool, error) {
	if path == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", setting, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s %s holds no PEM certificate", setting, path)
	}
	return pool, nil
}

// NewWorker registers the workflow and its activities on the task queue.
func NewWorker(c client.Client, db *postgres.DB, cfg config.Config, logger *slog.Logger) worker.Worker {
	w := worker.New(c, workflows.TaskQueue, worker.Options{})
	w.RegisterWorkflow(workflows.ReleaseCase)
	w.RegisterWorkflow(workflows.DailyDigest)
	w.RegisterActivity(&activities.Activities{DB: db, BaseURL: cfg.BaseURL, Logger: logger})
	return w
}

// Listen opens the HTTP listener before anything slow starts, so a port in
// use is reported at once.
func Listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("http address %s is already in use: stop the other process or choose another with --http-addr / HTTP_ADDR", addr)
	}
	return ln, err
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

// Checks are the readiness checks every process that serves HTTP makes.
func Checks(db *postgres.DB, c client.Client, namespace string, smtp func(context.Context) error) []api.Check {
	return []api.Check{
		{Name: "postgres", Fn: db.Ping},
		{Name: "temporal", Fn: func(ctx context.Context) error {
			_, err := c.CheckHealth(ctx, &client.CheckHealthRequest{})
			return err
		}},
		{Name: "worker", Fn: func(ctx context.Context) error { return workerPolling(ctx, c, namespace) }},
		{Name: "smtp", Fn: smtp},
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

// smtpDial checks an SMTP server answers with a 220 greeting.
func smtpDial(addr string) func(context.Context) error {
	return func(ctx context.Context) error {
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return err
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
		buf := make([]byte, 256)
		n, err := conn.Read(buf)
		if err != nil {
			return err
		}
		if !strings.HasPrefix(string(buf[:n]), "220") {
			return fmt.Errorf("unexpected SMTP greeting %q", strings.TrimSpace(string(buf[:n])))
		}
		_, _ = conn.Write([]byte("QUIT\r\n"))
		return nil
	}
}

// APIHandler builds the HTTP handler over the process's parts.
func APIHandler(db *postgres.DB, c client.Client, cfg config.Config, checks []api.Check, mailbox http.Handler, logger *slog.Logger) http.Handler {
	cookie, warning := auth.CookieFor(cfg.BaseURL)
	if warning != "" {
		logger.Warn(warning)
	}
	sessions := &auth.Sessions{DB: db, Cookie: cookie, Idle: cfg.SessionIdle, Absolute: cfg.SessionMax}
	csrf := http.NewCrossOriginProtection()
	if u, err := url.Parse(cfg.BaseURL); err == nil && u.Host != "" {
		_ = csrf.AddTrustedOrigin(u.Scheme + "://" + u.Host)
	}
	var sso *auth.OIDC
	if cfg.OIDCIssuer != "" {
		sso = &auth.OIDC{Issuer: cfg.OIDCIssuer, ClientID: cfg.OIDCClientID, ClientSecret: cfg.OIDCClientSecret,
			RedirectURL: cfg.BaseURL + "/auth/oidc/callback"}
	}
	return api.New(api.Deps{
		Cases:             &casework.Service{DB: db, Temporal: c, Policy: cfg.Policy},
		DB:                db,
		Checks:            checks,
		Mailbox:           mailbox,
		Logger:            logger,
		Auth:              &auth.Authenticator{DB: db, Sessions: sessions, CSRF: csrf},
		Sessions:          sessions,
		OIDC:              sso,
		TrustProxyHeaders: cfg.TrustProxyHeaders,
		SignInLimit:       cfg.SignInRate,
	})
}
