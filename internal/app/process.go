package app

import (
	"context"
	"log/slog"
	"os"

	"go.temporal.io/sdk/client"

	"github.com/throughgate/throughgate/internal/config"
	"github.com/throughgate/throughgate/internal/postgres"
)

// NewLogger returns the process's logger: one structured line per event.
func NewLogger(level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
}

// RunAPI is `throughgate api`: the HTTP API and pages against an external
// Temporal, PostgreSQL and SMTP relay, until ctx ends.
func RunAPI(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
	ln, err := Listen(cfg.HTTPAddr)
	if err != nil {
		return err
	}
	defer ln.Close()
	db, c, release, err := connect(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer release()
	sender, err := NewSender(cfg, logger)
	if err != nil {
		return err
	}
	checks := Checks(db, c, cfg.TemporalNamespace, sender.Check)
	logger.Info("api listening", "addr", ln.Addr().String())
	return Serve(ctx, ln, HTTPHandler(db, c, cfg, checks, nil, logger))
}

// RunWorker is `throughgate worker`: the workflow worker, the daily digest
// schedule and the outbox sender against an external Temporal, PostgreSQL
// and SMTP relay, until ctx ends.
func RunWorker(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
	db, c, release, err := connect(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer release()
	w := NewWorker(c, db, cfg, logger)
	if err := w.Start(); err != nil {
		return err
	}
	defer w.Stop()
	if err := EnsureDigestSchedule(ctx, c); err != nil {
		return err
	}
	sender, err := NewSender(cfg, logger)
	if err != nil {
		return err
	}
	defer StartSender(db, sender, cfg.SMTPFrom, logger)()
	logger.Info("worker polling", "task_queue", "throughgate-cases")
	<-ctx.Done()
	return nil
}

// connect opens the database (refusing an out-of-date schema) and dials
// Temporal: what both api and worker need. release closes both.
func connect(ctx context.Context, cfg config.Config, logger *slog.Logger) (*postgres.DB, client.Client, func(), error) {
	if cfg.DatabaseURL == "" {
		return nil, nil, nil, errNeedDatabase
	}
	db, err := OpenDB(ctx, cfg.DatabaseURL, false, logger)
	if err != nil {
		return nil, nil, nil, err
	}
	c, err := DialTemporal(ctx, cfg, cfg.TemporalAddress, logger)
	if err != nil {
		db.Close()
		return nil, nil, nil, err
	}
	return db, c, func() { c.Close(); db.Close() }, nil
}

// RunMigrate is `throughgate migrate`: it applies the embedded migrations
// to DATABASE_URL.
func RunMigrate(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
	if cfg.DatabaseURL == "" {
		return errNeedDatabase
	}
	db, err := OpenDB(ctx, cfg.DatabaseURL, true, logger)
	if err != nil {
		return err
	}
	db.Close()
	logger.Info("database schema is up to date")
	return nil
}

type configError string

func (e configError) Error() string { return string(e) }

const errNeedDatabase = configError("DATABASE_URL is required outside `throughgate dev` (e.g. postgres://user:pass@host:5432/throughgate)")
