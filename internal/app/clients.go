package app

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"time"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"

	"github.com/throughgate/throughgate/internal/config"
	"github.com/throughgate/throughgate/internal/mail"
	"github.com/throughgate/throughgate/internal/postgres"
)

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

// NewSender builds the SMTP sender from the settings.
func NewSender(cfg config.Config, logger *slog.Logger) (*mail.Sender, error) {
	roots, err := loadCA("SMTP_TLS_CA", cfg.SMTPTLSCA)
	if err != nil {
		return nil, err
	}
	return mail.NewSender(mail.Config{RootCAs: roots,
		Host: cfg.SMTPHost, Port: cfg.SMTPPort, TLSMode: cfg.SMTPTLS, AllowInsecure: cfg.SMTPAllowInsecure,
		Auth: cfg.SMTPAuth, Username: cfg.SMTPUsername, Password: cfg.SMTPPassword,
		From: cfg.SMTPFrom, ReplyTo: cfg.SMTPReplyTo, RatePerMinute: cfg.SMTPRate,
	}, logger)
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
