// Package devstack is the development engine in one process, what
// `throughgate dev` runs and the integration tests start: a private
// PostgreSQL cluster (unless DATABASE_URL names one), an embedded Temporal
// server, a development SMTP server with its mailbox, the demonstration
// teams and accounts (seed.go), and then the same worker, outbox sender and
// HTTP handler that package app wires for production.
//
// Nothing here is for production: the demonstration accounts share a
// published password, and the SMTP server keeps every email it is sent.
package devstack

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/throughgate/throughgate/internal/app"
	"github.com/throughgate/throughgate/internal/casework"
	"github.com/throughgate/throughgate/internal/codec"
	"github.com/throughgate/throughgate/internal/config"
	"github.com/throughgate/throughgate/internal/devsmtp"
	"github.com/throughgate/throughgate/internal/httpserver"
	"github.com/throughgate/throughgate/internal/mail"
	"github.com/throughgate/throughgate/internal/otel"
	"github.com/throughgate/throughgate/internal/pgcluster"
	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/internal/prometheus"
	"github.com/throughgate/throughgate/internal/temporalserver"
	"github.com/throughgate/throughgate/workflows"
)

// Dev is the whole engine in one process: what `throughgate dev` runs.
type Dev struct {
	Config   config.Config
	PG       *pgcluster.Cluster // nil when DATABASE_URL points elsewhere
	DB       *postgres.DB
	Temporal *temporalserver.Server
	Client   client.Client
	SMTP     *devsmtp.Server
	Worker   worker.Worker
	Cases    *casework.Service
	Metrics  *prometheus.Registry
	URL      string // the API's base address
	// MetricsURL is the operations listener's base address (/metrics,
	// /healthz, /readyz); "" when METRICS_ADDR is not set.
	MetricsURL string
	// Demo is true in a demonstration: the demo accounts, the development
	// SMTP server (SMTP) and its mailbox exist (config.Config.IsDemo).
	Demo bool
	// Tracing is OpenTelemetry's tracing (OTEL_*); nil when off.
	Tracing *otel.Tracing
	// Codec encrypts every Temporal payload (PAYLOAD_KEYS, else the key the
	// stack keeps in DATA_DIR/payload-keys).
	Codec *codec.Codec

	logger                 *slog.Logger
	smtpUser, smtpPassword string
	stop                   []func() error // in reverse order of starting
	served                 chan error
	cancel                 context.CancelFunc
}

// Start starts every part and returns once GET /readyz would say ready.
// On error, whatever had started is stopped again.
func Start(ctx context.Context, cfg config.Config, logger *slog.Logger) (_ *Dev, err error) {
	d := &Dev{Config: cfg, logger: logger}
	defer func() {
		if err != nil {
			_ = d.Stop()
		}
	}()
	if cfg.PayloadKeys == "" {
		if cfg.PayloadKeys, err = payloadKeys(cfg.DataDir); err != nil {
			return nil, err
		}
		d.Config.PayloadKeys = cfg.PayloadKeys
	}
	if d.Codec, err = app.PayloadCodec(cfg.PayloadKeys); err != nil {
		return nil, err
	}
	ln, err := app.Listen(cfg.HTTPAddr)
	if err != nil {
		return nil, err
	}
	d.stop = append(d.stop, func() error { ln.Close(); return nil })
	d.URL = "http://" + ln.Addr().String()
	ops, err := app.ListenOps(cfg.MetricsAddr)
	if err != nil {
		return nil, err
	}
	if ops != nil {
		d.stop = append(d.stop, func() error { ops.Close(); return nil })
		d.MetricsURL = "http://" + ops.Addr().String()
	}

	dbURL, migrateURL, appURL := cfg.DatabaseURL, cfg.MigrateDatabaseURL, cfg.DatabaseURL
	if dbURL == "" {
		// As root, the server runs as the postgres user: when it cannot
		// reach DATA_DIR (root's home is 0700), the data lives under
		// /var/tmp/throughgate-0/ instead, linked from DATA_DIR/postgres.
		pgDir, err := pgcluster.ReachableDir(filepath.Join(cfg.DataDir, "postgres"))
		if err != nil {
			return nil, err
		}
		if pgDir != filepath.Join(cfg.DataDir, "postgres") {
			logger.Info("PostgreSQL runs as the postgres user, which cannot reach the data directory: its data lives elsewhere",
				"dir", pgDir, "linked_from", filepath.Join(cfg.DataDir, "postgres"))
		}
		d.PG, err = pgcluster.Start(ctx, pgcluster.Options{Dir: pgDir, Port: cfg.PGPort, Logger: logger})
		if err != nil {
			return nil, err
		}
		d.stop = append(d.stop, func() error { return d.PG.Stop(context.Background()) })
		if err := d.PG.CreateDatabase(ctx, "throughgate"); err != nil {
			return nil, err
		}
		// The superuser owns the tables and migrates; the engine connects
		// as the application's role, which cannot change the audit log.
		if err := d.PG.CreateRole(ctx, postgres.AppRole); err != nil {
			return nil, err
		}
		dbURL, migrateURL = d.PG.URL("throughgate"), d.PG.URL("throughgate")
		appURL = d.PG.URLAs(postgres.AppRole, "throughgate")
	}
	if err := app.MigrateDB(ctx, migrateURL, appURL, logger); err != nil {
		return nil, err
	}
	d.DB, err = app.OpenDB(ctx, appURL, false, logger)
	if err != nil {
		return nil, err
	}
	d.stop = append(d.stop, func() error { d.DB.Close(); return nil })
	// The demonstration's accounts share a published password, so they
	// exist only in an explicit demo, and a demo listens on loopback only.
	// A single-node install (DATABASE_URL) has none, and no development
	// mail server: its emails go to the real SMTP relay.
	if d.Demo = cfg.IsDemo(); d.Demo {
		if !loopbackOnly(cfg.HTTPAddr) {
			return nil, fmt.Errorf("HTTP_ADDR %s: a demonstration's accounts share a published password, so it listens on a loopback address only (127.0.0.1); for a real install set DATABASE_URL and DEMO=false", cfg.HTTPAddr)
		}
		if err := SeedDemo(ctx, d.DB); err != nil {
			return nil, fmt.Errorf("creating the demo teams and staff: %w", err)
		}
	}

	topts := temporalserver.Options{
		Store: cfg.TemporalStore, SQLitePath: filepath.Join(cfg.DataDir, "temporal.sqlite"),
		Port: cfg.TemporalPort, UIPort: cfg.TemporalUIPort, Namespace: cfg.TemporalNamespace,
		SearchAttributes: workflows.SearchAttributes(), NumHistoryShards: int32(cfg.TemporalShards),
		HistoryCacheSize: cfg.TemporalCacheSize, Logger: logger,
	}
	if cfg.TemporalStore == "postgres" {
		pc, err := pgx.ParseConfig(dbURL)
		if err != nil {
			return nil, err
		}
		topts.PostgresHost, topts.PostgresPort = pc.Host, int(pc.Port)
		topts.PostgresUser, topts.PostgresPassword = pc.User, pc.Password
	}
	d.Temporal, err = temporalserver.Start(ctx, topts)
	if err != nil {
		return nil, err
	}
	d.stop = append(d.stop, d.Temporal.Stop)

	if d.Demo {
		password := make([]byte, 12)
		rand.Read(password)
		d.smtpUser, d.smtpPassword = "throughgate", hex.EncodeToString(password)
		d.SMTP, err = devsmtp.Start(devsmtp.Options{Addr: cfg.SMTPAddr, Username: d.smtpUser, Password: d.smtpPassword,
			RequireTLS: true, Logger: logger})
		if err != nil {
			return nil, err
		}
		d.stop = append(d.stop, d.SMTP.Close)
	}

	// Every metric of the production processes, in one registry: the
	// Temporal SDK's, the HTTP server's and the read model's.
	d.Metrics = prometheus.New(app.Version(), logger)
	temporalMetrics, stopMetrics := d.Metrics.Temporal()
	d.stop = append(d.stop, func() error { stopMetrics(); return nil })
	d.Metrics.ReadModel(d.DB.ReadModelMetrics, prometheus.ReadModelTTL)
	// Tracing, when OTEL_* turn it on, as the api and worker trace.
	d.Tracing, err = otel.Start(ctx, app.TracingOptions(cfg, "throughgate-dev"), logger)
	if err != nil {
		return nil, err
	}
	d.stop = append(d.stop, func() error { d.Tracing.ShutdownLater(logger)(); return nil })
	// The embedded server: plain gRPC on loopback, whatever TEMPORAL_TLS_* say,
	// and uncompressed. The SDK gzips every request by default (and the
	// server its answers in kind), which saves a network nothing here: it
	// was 4.5 % of this process's processor time while an import opened
	// cases (README, Performance).
	d.Client, err = app.DialTemporal(ctx, client.Options{HostPort: d.Temporal.HostPort(), Namespace: cfg.TemporalNamespace,
		DataConverter:     d.Codec.DataConverter(),
		ConnectionOptions: client.ConnectionOptions{GrpcCompression: &client.GrpcCompressionNone{}}},
		temporalMetrics, d.Tracing, logger)
	if err != nil {
		return nil, err
	}
	d.stop = append(d.stop, func() error { d.Client.Close(); return nil })
	d.Worker = app.NewWorker(d.Client, d.DB, cfg, logger)
	if err := d.Worker.Start(); err != nil {
		return nil, fmt.Errorf("starting the worker: %w", err)
	}
	d.stop = append(d.stop, func() error { d.Worker.Stop(); return nil })
	if err := app.EnsureDigestSchedule(ctx, d.Client); err != nil {
		return nil, err
	}
	if err := app.EnsureRetentionSchedule(ctx, d.Client); err != nil {
		return nil, err
	}
	var sender *mail.Sender
	if d.Demo {
		sender, err = d.Sender()
	} else {
		sender, err = app.NewSender(cfg, logger)
	}
	if err != nil {
		return nil, err
	}
	d.stop = append(d.stop, app.StartSender(d.DB, sender, cfg.SMTPFrom, cfg.SMTPConnections, logger))
	stopDispatcher := app.StartDispatcher(d.DB, cfg, logger)
	d.stop = append(d.stop, func() error { stopDispatcher(); return nil })
	stopRegrader := app.StartRegrader(d.DB, logger)
	d.stop = append(d.stop, func() error { stopRegrader(); return nil })

	d.Cases = &casework.Service{DB: d.DB, Temporal: d.Client, Policy: cfg.Policy, Events: app.EventSettings(cfg),
		BaseURL: cfg.BaseURL, PartnerLinkDays: cfg.PartnerLinkDays}
	stopSweeper := app.StartEventSweeper(d.Cases, logger)
	d.stop = append(d.stop, func() error { stopSweeper(); return nil })
	smtpCheck, mailbox := sender.Check, http.Handler(nil)
	if d.Demo {
		smtpCheck, mailbox = smtpDial(d.SMTP.Addr()), d.SMTP.Handler()
	}
	checks := app.Checks(d.DB, d.Client, cfg.TemporalNamespace, smtpCheck)
	h := app.HTTPHandler(d.DB, d.Client, cfg, checks, mailbox, d.Metrics.HTTP(), d.Tracing, logger)
	sctx, cancel := context.WithCancel(context.Background())
	d.cancel = cancel
	d.served = make(chan error, 1)
	go func() { d.served <- app.Serve(sctx, ln, h) }()
	d.stop = append(d.stop, func() error { cancel(); return <-d.served })
	app.ServeOps(sctx, ops, httpserver.Ops(d.Metrics.Handler(), checks, app.Version(), logger), logger)

	if err := waitReady(ctx, checks); err != nil {
		return nil, err
	}
	return d, nil
}

// waitReady polls the readiness checks until all pass: the worker needs a
// moment to register its pollers with the server.
func waitReady(ctx context.Context, checks []httpserver.Check) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		var failed error
		for _, c := range checks {
			cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			err := c.Fn(cctx)
			cancel()
			if err != nil {
				failed = fmt.Errorf("%s: %w", c.Name, err)
				break
			}
		}
		if failed == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after 30s: %w", failed)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Stop stops every part, newest first.
func (d *Dev) Stop() error {
	var errs []error
	for i := len(d.stop) - 1; i >= 0; i-- {
		if err := d.stop[i](); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, err)
		}
	}
	d.stop = nil
	return errors.Join(errs...)
}

// Served returns a channel that yields if the HTTP server stops by itself.
func (d *Dev) Served() <-chan error { return d.served }

// SMTPPort is the port the development SMTP server listens on.
func (d *Dev) SMTPPort() int {
	_, p, _ := net.SplitHostPort(d.SMTP.Addr())
	n, _ := strconv.Atoi(p)
	return n
}

// Sender returns an SMTP sender pointed at the development SMTP server,
// with its credentials and certificate.
func (d *Dev) Sender() (*mail.Sender, error) {
	host, port, _ := net.SplitHostPort(d.SMTP.Addr())
	p, _ := strconv.Atoi(port)
	return mail.NewSender(mail.Config{Host: host, Port: p, TLSMode: "starttls", Auth: "plain",
		Username: d.smtpUser, Password: d.smtpPassword, From: d.Config.SMTPFrom, RootCAs: d.SMTP.CertPool(),
		RatePerMinute: d.Config.SMTPRate}, d.logger)
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

// payloadKeys is the dev stack's own payload key, made at its first start
// and kept beside its data (0600), so the cases' histories stay readable
// across restarts.
func payloadKeys(dataDir string) (string, error) {
	path := filepath.Join(dataDir, "payload-keys")
	if b, err := os.ReadFile(path); err == nil {
		return strings.TrimSpace(string(b)), nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	k, err := codec.NewKey("dev-1")
	if err != nil {
		return "", err
	}
	// 0711, not 0700: the key file itself is 0600, and as root the private
	// PostgreSQL runs as the postgres user, which must pass through
	// DATA_DIR to its data (else pgcluster.ReachableDir moves it out).
	if err := os.MkdirAll(dataDir, 0o711); err != nil {
		return "", err
	}
	return k.String(), os.WriteFile(path, []byte(k.String()+"\n"), 0o600)
}

// loopbackOnly reports whether a listen address accepts loopback
// connections only.
func loopbackOnly(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
