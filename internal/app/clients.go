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
	"go.temporal.io/sdk/contrib/envconfig"
	tlog "go.temporal.io/sdk/log"

	"github.com/throughgate/throughgate/internal/codec"
	"github.com/throughgate/throughgate/internal/config"
	"github.com/throughgate/throughgate/internal/mail"
	"github.com/throughgate/throughgate/internal/otel"
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
	warnUnprotectedAudit(ctx, db, logger)
	return db, nil
}

// TemporalOptions builds the Temporal client's options from the settings
// by the SDK's own rules (go.temporal.io/sdk/contrib/envconfig, the code
// behind the SDK's TEMPORAL_* environment variables): an API key is sent as
// credentials and turns TLS on; TLS verifies the server against the
// system's roots unless a CA file is given, and presents a client
// certificate only when one is given. TEMPORAL_TLS=false turns TLS off
// whatever else is set.
func TemporalOptions(cfg config.Config) (client.Options, error) {
	p := envconfig.ClientConfigProfile{Address: cfg.TemporalAddress, Namespace: cfg.TemporalNamespace, APIKey: cfg.TemporalAPIKey}
	files := cfg.TemporalTLSClientCertPath != "" || cfg.TemporalTLSClientKeyPath != "" ||
		cfg.TemporalTLSServerCAPath != "" || cfg.TemporalTLSServerName != ""
	if cfg.TemporalTLS != "" || files {
		p.TLS = &envconfig.ClientConfigTLS{
			Disabled:         cfg.TemporalTLS == "false",
			ClientCertPath:   cfg.TemporalTLSClientCertPath,
			ClientKeyPath:    cfg.TemporalTLSClientKeyPath,
			ServerCACertPath: cfg.TemporalTLSServerCAPath,
			ServerName:       cfg.TemporalTLSServerName,
		}
	}
	opts, err := p.ToClientOptions(envconfig.ToClientOptionsRequest{})
	if err != nil {
		return client.Options{}, fmt.Errorf("TEMPORAL_TLS_*: %w", err)
	}
	if tc := opts.ConnectionOptions.TLS; tc != nil && tc.MinVersion == 0 {
		tc.MinVersion = tls.VersionTLS12
	}
	c, err := PayloadCodec(cfg.PayloadKeys)
	if err != nil {
		return client.Options{}, err
	}
	if c != nil {
		opts.DataConverter = c.DataConverter()
	}
	return opts, nil
}

// PayloadCodec is the codec that encrypts Temporal payloads with
// PAYLOAD_KEYS (package codec); nil, payloads in clear, when none are set.
func PayloadCodec(keys string) (*codec.Codec, error) {
	if keys == "" {
		return nil, nil
	}
	ks, err := codec.ParseKeys(keys)
	if err != nil {
		return nil, err
	}
	return codec.New(ks)
}

// DialTemporal connects to the Temporal frontend with opts (from
// TemporalOptions, or dev's embedded server), logging through logger,
// reporting the SDK's metrics to metrics (nil: none) and tracing through
// tracing (nil: off). The tracing interceptor goes on the client: it
// writes the trace context into the header of each start and update, and
// the SDK also applies it to every worker made from the client (NewWorker),
// which continues the trace into the workflow and its activities.
func DialTemporal(ctx context.Context, opts client.Options, metrics client.MetricsHandler, tracing *otel.Tracing, logger *slog.Logger) (client.Client, error) {
	// The SDK logs little at info (worker start and stop), and the
	// workflows' own lines — alarms raised, cases changed — are the
	// events worth seeing, so it shares the process's level.
	opts.Logger = tlog.NewStructuredLogger(logger.With("component", "temporal"))
	opts.MetricsHandler = metrics
	traced, err := tracing.TemporalInterceptors()
	if err != nil {
		return nil, err
	}
	opts.Interceptors = append(opts.Interceptors, traced...)
	dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	c, err := client.DialContext(dctx, opts)
	if err != nil {
		return nil, fmt.Errorf("cannot reach Temporal at %s (TEMPORAL_ADDRESS): %w", opts.HostPort, err)
	}
	return c, nil
}

// TracingOptions are the OpenTelemetry settings of cfg for a process named
// service (service.name unless OTEL_SERVICE_NAME says otherwise).
func TracingOptions(cfg config.Config, service string) otel.Options {
	return otel.Options{Exporter: cfg.OTelTracesExporter, Endpoint: cfg.OTelEndpoint, TracesEndpoint: cfg.OTelTracesEndpoint,
		Protocol: cfg.OTelProtocol, ServiceName: service, Version: Version()}
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
		OAuthTokenURL: cfg.SMTPOAuthTokenURL, OAuthClientID: cfg.SMTPOAuthClientID,
		OAuthClientSecret: cfg.SMTPOAuthClientSecret, OAuthScope: cfg.SMTPOAuthScope,
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
