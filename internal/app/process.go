package app

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"

	"go.temporal.io/sdk/client"

	"github.com/throughgate/throughgate/internal/config"
	"github.com/throughgate/throughgate/internal/httpserver"
	"github.com/throughgate/throughgate/internal/otel"
	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/internal/prometheus"
)

// NewLogger returns the process's logger: one structured line per event,
// as key=value text or (format "json") one JSON object a line.
func NewLogger(level, format string) *slog.Logger { return newLogger(os.Stderr, level, format) }

func newLogger(w io.Writer, level, format string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	opts := &slog.HandlerOptions{Level: l}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// RunAPI is `throughgate api`: the HTTP API and pages against an external
// Temporal, PostgreSQL and SMTP relay, until ctx ends. Its metrics — HTTP
// requests and the Temporal client's — are on the operations listener.
func RunAPI(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
	ln, err := Listen(cfg.HTTPAddr)
	if err != nil {
		return err
	}
	defer ln.Close()
	p, stop, err := startProcess(ctx, cfg, "throughgate-api", logger)
	if err != nil {
		return err
	}
	defer stop()
	sender, err := NewSender(cfg, logger)
	if err != nil {
		return err
	}
	checks := Checks(p.db, p.c, cfg.TemporalNamespace, sender.Check)
	ServeOps(ctx, p.ops, httpserver.Ops(p.metrics.Handler(), checks, Version(), logger), logger)
	logger.Info("api listening", "addr", ln.Addr().String())
	return Serve(ctx, ln, HTTPHandler(p.db, p.c, cfg, checks, nil, p.metrics.HTTP(), p.tracing, logger))
}

// RunWorker is `throughgate worker`: the workflow worker, the daily digest
// schedule and the outbox sender against an external Temporal, PostgreSQL
// and SMTP relay, until ctx ends. Its operations listener serves the
// probes and its metrics: the Temporal worker's, and the read model's
// gauges (open cases, overdue steps, the outbox).
func RunWorker(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
	p, stop, err := startProcess(ctx, cfg, "throughgate-worker", logger)
	if err != nil {
		return err
	}
	defer stop()
	db, c := p.db, p.c
	p.metrics.ReadModel(db.ReadModelMetrics, prometheus.ReadModelTTL)
	w := NewWorker(c, db, cfg, logger)
	if err := w.Start(); err != nil {
		return err
	}
	defer w.Stop()
	if err := EnsureDigestSchedule(ctx, c); err != nil {
		return err
	}
	if err := EnsureRetentionSchedule(ctx, c); err != nil {
		return err
	}
	sender, err := NewSender(cfg, logger)
	if err != nil {
		return err
	}
	defer StartSender(db, sender, cfg.SMTPFrom, cfg.SMTPConnections, logger)()
	defer StartDispatcher(db, cfg, logger)()
	defer StartRegrader(db, logger)()
	defer StartEventSweeper(eventService(db, c, cfg), logger)()
	ServeOps(ctx, p.ops, httpserver.Ops(p.metrics.Handler(), WorkerChecks(db, c, sender.Check), Version(), logger), logger)
	logger.Info("worker polling", "task_queue", "throughgate-cases")
	<-ctx.Done()
	return nil
}

// process is what the api and worker processes both run on: the
// operations listener (nil when METRICS_ADDR is empty), tracing, the
// metrics registry (which also takes the Temporal client's metrics), the
// database and the Temporal client.
type process struct {
	ops     net.Listener
	tracing *otel.Tracing
	metrics *prometheus.Registry
	db      *postgres.DB
	c       client.Client
}

// startProcess starts those parts for the service named; stop undoes them
// in reverse order.
func startProcess(ctx context.Context, cfg config.Config, service string, logger *slog.Logger) (_ *process, _ func(), err error) {
	var undo []func()
	stop := func() {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
	}
	defer func() {
		if err != nil {
			stop()
		}
	}()
	p := &process{}
	if p.ops, err = ListenOps(cfg.MetricsAddr); err != nil {
		return nil, nil, err
	}
	if p.ops != nil {
		undo = append(undo, func() { p.ops.Close() })
	}
	if p.tracing, err = otel.Start(ctx, TracingOptions(cfg, service), logger); err != nil {
		return nil, nil, err
	}
	undo = append(undo, p.tracing.ShutdownLater(logger))
	p.metrics = prometheus.New(Version(), logger)
	temporalMetrics, stopMetrics := p.metrics.Temporal()
	undo = append(undo, stopMetrics)
	db, c, release, err := connectWithMetrics(ctx, cfg, temporalMetrics, p.tracing, logger)
	if err != nil {
		return nil, nil, err
	}
	undo = append(undo, release)
	p.db, p.c = db, c
	return p, stop, nil
}

// connect opens the database (refusing an out-of-date schema) and dials
// Temporal: what api, worker and the other commands need. release closes both.
func connect(ctx context.Context, cfg config.Config, logger *slog.Logger) (*postgres.DB, client.Client, func(), error) {
	return connectWithMetrics(ctx, cfg, nil, nil, logger)
}

// connectWithMetrics is connect with the Temporal SDK's metrics reported
// to metrics, and tracing (nil: off) on the Temporal client.
func connectWithMetrics(ctx context.Context, cfg config.Config, metrics client.MetricsHandler, tracing *otel.Tracing, logger *slog.Logger) (*postgres.DB, client.Client, func(), error) {
	if cfg.DatabaseURL == "" {
		return nil, nil, nil, errNeedDatabase
	}
	opts, err := TemporalOptions(cfg)
	if err != nil {
		return nil, nil, nil, err
	}
	if cfg.PayloadKeys == "" {
		logger.Warn("PAYLOAD_KEYS is not set: workflow payloads are stored in Temporal unencrypted (they hold ids, dates and states, no personal data)")
	}
	db, err := OpenDB(ctx, cfg.DatabaseURL, false, logger)
	if err != nil {
		return nil, nil, nil, err
	}
	c, err := DialTemporal(ctx, opts, metrics, tracing, logger)
	if err != nil {
		db.Close()
		return nil, nil, nil, err
	}
	return db, c, func() { c.Close(); db.Close() }, nil
}

// RunMigrate is `throughgate migrate`: it applies the embedded migrations
// to DATABASE_URL, as MIGRATE_DATABASE_URL's role when that is set
// (MigrateDB).
func RunMigrate(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
	if cfg.DatabaseURL == "" {
		return errNeedDatabase
	}
	if err := MigrateDB(ctx, cfg.MigrateDatabaseURL, cfg.DatabaseURL, logger); err != nil {
		return err
	}
	logger.Info("database schema is up to date")
	// The case workflow's search attributes, which its first start needs.
	opts, err := TemporalOptions(cfg)
	if err != nil {
		return err
	}
	c, err := DialTemporal(ctx, opts, nil, nil, logger)
	if err != nil {
		return err
	}
	defer c.Close()
	return RegisterSearchAttributes(ctx, c, cfg.TemporalNamespace, logger)
}

type configError string

func (e configError) Error() string { return string(e) }

const errNeedDatabase = configError("DATABASE_URL is required outside `throughgate dev` (e.g. postgres://user:pass@host:5432/throughgate)")
