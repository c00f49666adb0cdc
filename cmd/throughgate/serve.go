package main

import (
	"context"
	"log/slog"

	"go.temporal.io/sdk/client"

	"github.com/throughgate/throughgate/internal/config"
	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/internal/stack"
)

func runAPI(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
	ln, err := stack.Listen(cfg.HTTPAddr)
	if err != nil {
		return err
	}
	defer ln.Close()
	db, c, release, err := connect(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer release()
	sender, err := stack.NewSender(cfg, logger)
	if err != nil {
		return err
	}
	checks := stack.Checks(db, c, cfg.TemporalNamespace, sender.Check)
	logger.Info("api listening", "addr", ln.Addr().String())
	return stack.Serve(ctx, ln, stack.APIHandler(db, c, cfg, checks, nil, logger))
}

func runWorker(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
	db, c, release, err := connect(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer release()
	w := stack.NewWorker(c, db, cfg, logger)
	if err := w.Start(); err != nil {
		return err
	}
	defer w.Stop()
	if err := stack.EnsureDigestSchedule(ctx, c); err != nil {
		return err
	}
	sender, err := stack.NewSender(cfg, logger)
	if err != nil {
		return err
	}
	defer stack.StartSender(db, sender, cfg.SMTPFrom, logger)()
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
	db, err := stack.OpenDB(ctx, cfg.DatabaseURL, false, logger)
	if err != nil {
		return nil, nil, nil, err
	}
	c, err := stack.DialTemporal(ctx, cfg, cfg.TemporalAddress, logger)
	if err != nil {
		db.Close()
		return nil, nil, nil, err
	}
	return db, c, func() { c.Close(); db.Close() }, nil
}

func runMigrate(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
	if cfg.DatabaseURL == "" {
		return errNeedDatabase
	}
	db, err := stack.OpenDB(ctx, cfg.DatabaseURL, true, logger)
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
