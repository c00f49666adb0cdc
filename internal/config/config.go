// Package config reads Throughgate's settings from flags and environment
// variables, with defaults that run the whole engine on one machine.
//
// Every setting has a flag and an environment variable; a flag wins over
// the environment, the environment over the default. A variable that is set
// but empty counts as set (SMTP_AUTH= means no AUTH), so only an unset one
// falls back to the default. Settings is the one table of them, so
// `throughgate help`, the start-up banner and the README cannot drift apart.
//
// The Temporal client's settings carry the Temporal SDK's standard names
// (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS,
// TEMPORAL_TLS_CLIENT_CERT_PATH, ...), which package app hands to the SDK's
// envconfig, so a Temporal Cloud namespace is configured as the SDK's own
// documentation says.
package config

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/resettlement"
)

// Config is every setting, parsed.
type Config struct {
	HTTPAddr  string
	BaseURL   string
	DataDir   string
	LogLevel  string
	LogFormat string // text or json
	// MetricsAddr is the operations listener's address (/metrics, /healthz,
	// /readyz), off the public HTTP port; "" for none.
	MetricsAddr string

	DatabaseURL string // "" in dev: a private cluster under DataDir
	PGPort      int
	// MigrateDatabaseURL is the tables' owner, for migrations; "" means
	// DatabaseURL (dev's private cluster: its superuser).
	MigrateDatabaseURL string
	// RetentionYears is how long after a case closes its person's details
	// and notes are kept before they are anonymised; 0 never.
	RetentionYears int

	// The Temporal client (api, worker), under the SDK's names.
	TemporalAddress           string
	TemporalNamespace         string
	TemporalAPIKey            string
	PayloadKeys               string // PAYLOAD_KEYS, read by package codec
	Demo                      string // DEMO: "true", "false", or "" (on exactly when DATABASE_URL is empty)
	CodecCORSOrigin           string
	TemporalTLS               string // "true", "false", or "" : on with an API key or any TLS file
	TemporalTLSClientCertPath string
	TemporalTLSClientKeyPath  string
	TemporalTLSServerCAPath   string
	TemporalTLSServerName     string

	TemporalPort   int // embedded server (dev)
	TemporalUIPort int
	TemporalStore  string
	TemporalShards int
	// TemporalCacheSize bounds the embedded server's cache of workflows'
	// mutable state; WorkerCacheSize the worker's sticky cache (README,
	// "Performance", says what each bound costs).
	TemporalCacheSize int
	WorkerCacheSize   int

	SMTPAddr          string // development SMTP server (dev)
	SMTPHost          string
	SMTPPort          int
	SMTPTLS           string
	SMTPTLSCA         string
	SMTPAllowInsecure bool
	SMTPAuth          string
	SMTPUsername      string
	SMTPPassword      string
	SMTPFrom          string
	SMTPReplyTo       string
	SMTPRate          int
	SMTPConnections   int

	// OAuth 2.0 client credentials that fetch SMTP access tokens
	// (xoauth2/oauthbearer) instead of a static one in SMTPPassword.
	SMTPOAuthTokenURL     string
	SMTPOAuthClientID     string
	SMTPOAuthClientSecret string
	SMTPOAuthScope        string

	PolicyFile string
	Policy     resettlement.Policy

	// PartnerLinkDays is how long a partner agency's one-time link works
	// (casework, issue 13).
	PartnerLinkDays int

	// Prison movement events (events.go).
	EventSources        []EventSource     // EVENT_SOURCES: who may post events, and their secrets
	EventTeams          map[string]string // EVENT_TEAMS: establishment to the team new cases go to
	PrisonerSearchURL   string            // "" : events must carry the person's record
	PrisonerSearchToken string
	EventHold           time.Duration // how long an event waits for an earlier one

	OIDCIssuer        string // "" : no OpenID Connect sign-in
	OIDCClientID      string
	OIDCClientSecret  string
	SessionIdle       time.Duration
	SessionMax        time.Duration
	TrustProxyHeaders bool // refused when true: TrustedProxies replaces it
	SignInRate        int
	// TrustedProxies are the reverse proxies whose X-Forwarded-For is
	// believed; none by default.
	TrustedProxies auth.TrustedProxies
	// OIDCRequiredACR, when set, is the acr an OpenID Connect sign-in must
	// carry (e.g. the provider's value for multi-factor).
	OIDCRequiredACR string

	// OpenTelemetry tracing (package otel), under the OpenTelemetry
	// specification's names; off unless an endpoint or OTEL_TRACES_EXPORTER=otlp.
	OTelTracesExporter string // "otlp", "none", or "": otlp when an endpoint is set
	OTelEndpoint       string
	OTelTracesEndpoint string
	OTelProtocol       string // http/protobuf or grpc

	raw map[string]string // effective value of each setting as text, by environment name
}

// Setting is one row of the settings table.
type Setting struct {
	Flag, Env, Default, Help string
	Secret                   bool
	Commands                 string // which subcommands read it
	set                      func(c *Config, v string) error
}

func str(p func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error { *p(c) = v; return nil }
}

func integer(name string, p func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return fmt.Errorf("%s must be a whole number, not %q", name, v)
		}
		*p(c) = n
		return nil
	}
}

func boolean(name string, p func(*Config) *bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("%s must be true or false, not %q", name, v)
		}
		*p(c) = b
		return nil
	}
}

func duration(name string, p func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return fmt.Errorf("%s must be a positive duration such as 30m or 12h, not %q", name, v)
		}
		*p(c) = d
		return nil
	}
}

// Settings is the table of every setting.
var Settings = []Setting{
	{Flag: "http-addr", Env: "HTTP_ADDR", Default: "127.0.0.1:8080", Help: "address the API and pages listen on", Commands: "dev api", set: str(func(c *Config) *string { return &c.HTTPAddr })},
	{Flag: "base-url", Env: "BASE_URL", Default: "", Help: "public address of the pages, for links in emails (default: http:// + http-addr)", Commands: "dev api worker", set: str(func(c *Config) *string { return &c.BaseURL })},
	{Flag: "data-dir", Env: "DATA_DIR", Default: ".throughgate", Help: "where dev keeps its PostgreSQL cluster and other state", Commands: "dev", set: str(func(c *Config) *string { return &c.DataDir })},
	{Flag: "demo", Env: "DEMO", Default: "", Help: "dev only: true for the demonstration (demo teams and accounts with the published password, the development SMTP server and its /dev/mail mailbox; loopback addresses only), false for a single-node install on DATABASE_URL with the real SMTP settings; empty: a demonstration exactly when DATABASE_URL is empty", Commands: "dev", set: str(func(c *Config) *string { return &c.Demo })},
	{Flag: "log-level", Env: "LOG_LEVEL", Default: "info", Help: "debug, info, warn or error", Commands: "all", set: str(func(c *Config) *string { return &c.LogLevel })},
	{Flag: "log-format", Env: "LOG_FORMAT", Default: "text", Help: "text (key=value lines) or json (one JSON object a line, for log collectors)", Commands: "all", set: str(func(c *Config) *string { return &c.LogFormat })},
	{Flag: "metrics-addr", Env: "METRICS_ADDR", Default: "", Help: "address of the operations listener: Prometheus /metrics, /healthz and /readyz, for probes and scrapes, off the public port (empty: none)", Commands: "dev api worker", set: str(func(c *Config) *string { return &c.MetricsAddr })},
	{Flag: "database-url", Env: "DATABASE_URL", Default: "", Help: "PostgreSQL URL; dev starts a private cluster when empty", Secret: true, Commands: "all", set: str(func(c *Config) *string { return &c.DatabaseURL })},
	{Flag: "migrate-database-url", Env: "MIGRATE_DATABASE_URL", Default: "", Help: "PostgreSQL URL of the role that owns the tables, for migrations (empty: DATABASE_URL); when set, migrate makes DATABASE_URL's role a member of throughgate_app, which may add to and read the audit log but never change it", Secret: true, Commands: "dev migrate", set: str(func(c *Config) *string { return &c.MigrateDatabaseURL })},
	{Flag: "pg-port", Env: "PG_PORT", Default: "5433", Help: "port of dev's private PostgreSQL on 127.0.0.1", Commands: "dev", set: integer("PG_PORT", func(c *Config) *int { return &c.PGPort })},
	{Flag: "temporal-address", Env: "TEMPORAL_ADDRESS", Default: "127.0.0.1:7233", Help: "Temporal frontend to connect to (Temporal Cloud: NAMESPACE.ACCOUNT.tmprl.cloud:7233, or the region's endpoint with an API key)", Commands: "api worker migrate cases", set: str(func(c *Config) *string { return &c.TemporalAddress })},
	{Flag: "temporal-namespace", Env: "TEMPORAL_NAMESPACE", Default: "default", Help: "Temporal namespace", Commands: "all", set: str(func(c *Config) *string { return &c.TemporalNamespace })},
	{Flag: "temporal-api-key", Env: "TEMPORAL_API_KEY", Default: "", Help: "API key to send to Temporal (Temporal Cloud); turns TLS on unless TEMPORAL_TLS=false", Secret: true, Commands: "api worker migrate cases", set: str(func(c *Config) *string { return &c.TemporalAPIKey })},
	{Flag: "payload-keys", Env: "PAYLOAD_KEYS", Default: "", Help: "keys that encrypt every Temporal payload with AES-256-GCM: ID:BASE64 (32 bytes, e.g. openssl rand -base64 32), comma-separated, the first sealing new payloads; every api and worker needs the same list (dev: kept in DATA_DIR/payload-keys when empty; elsewhere empty leaves payloads unencrypted, with a warning)", Secret: true, Commands: "dev api worker", set: str(func(c *Config) *string { return &c.PayloadKeys })},
	{Flag: "codec-cors-origin", Env: "CODEC_CORS_ORIGIN", Default: "", Help: "origin of the Temporal Web UI allowed to call the codec server at /api/v1/codec with an administrator's session (e.g. http://127.0.0.1:8233)", Commands: "dev api", set: str(func(c *Config) *string { return &c.CodecCORSOrigin })},
	{Flag: "temporal-tls", Env: "TEMPORAL_TLS", Default: "", Help: "true or false: TLS to Temporal (empty: on when an API key or any TEMPORAL_TLS_* file is given); the system's roots unless a CA file is given", Commands: "api worker migrate cases", set: str(func(c *Config) *string { return &c.TemporalTLS })},
	{Flag: "temporal-tls-client-cert-path", Env: "TEMPORAL_TLS_CLIENT_CERT_PATH", Default: "", Help: "client certificate file for mTLS to Temporal", Commands: "api worker migrate cases", set: str(func(c *Config) *string { return &c.TemporalTLSClientCertPath })},
	{Flag: "temporal-tls-client-key-path", Env: "TEMPORAL_TLS_CLIENT_KEY_PATH", Default: "", Help: "client key file for mTLS to Temporal", Commands: "api worker migrate cases", set: str(func(c *Config) *string { return &c.TemporalTLSClientKeyPath })},
	{Flag: "temporal-tls-server-ca-cert-path", Env: "TEMPORAL_TLS_SERVER_CA_CERT_PATH", Default: "", Help: "CA file that signed the Temporal server's certificate (default: the system's roots)", Commands: "api worker migrate cases", set: str(func(c *Config) *string { return &c.TemporalTLSServerCAPath })},
	{Flag: "temporal-tls-server-name", Env: "TEMPORAL_TLS_SERVER_NAME", Default: "", Help: "server name to verify in Temporal's certificate (default: the host of TEMPORAL_ADDRESS)", Commands: "api worker migrate cases", set: str(func(c *Config) *string { return &c.TemporalTLSServerName })},
	{Flag: "temporal-port", Env: "TEMPORAL_PORT", Default: "7233", Help: "port of dev's embedded Temporal server on 127.0.0.1", Commands: "dev", set: integer("TEMPORAL_PORT", func(c *Config) *int { return &c.TemporalPort })},
	{Flag: "temporal-ui-port", Env: "TEMPORAL_UI_PORT", Default: "8233", Help: "port of the embedded Temporal Web UI (0: off)", Commands: "dev", set: integer("TEMPORAL_UI_PORT", func(c *Config) *int { return &c.TemporalUIPort })},
	{Flag: "temporal-store", Env: "TEMPORAL_STORE", Default: "postgres", Help: "embedded Temporal's store: postgres, or sqlite for throwaway runs", Commands: "dev", set: str(func(c *Config) *string { return &c.TemporalStore })},
	{Flag: "temporal-shards", Env: "TEMPORAL_SHARDS", Default: "128", Help: "history shards of the embedded server; fixed at first start", Commands: "dev", set: integer("TEMPORAL_SHARDS", func(c *Config) *int { return &c.TemporalShards })},
	{Flag: "temporal-cache-size", Env: "TEMPORAL_CACHE_SIZE", Default: "2048", Help: "workflows the embedded server keeps in memory between their tasks (its mutable-state cache); one not kept is read from PostgreSQL at its next task", Commands: "dev", set: integer("TEMPORAL_CACHE_SIZE", func(c *Config) *int { return &c.TemporalCacheSize })},
	{Flag: "worker-cache-size", Env: "WORKER_CACHE_SIZE", Default: "250", Help: "workflows the worker keeps in memory between their tasks (the sticky cache); one not kept replays its history at its next task (0: the SDK's default, 10,000)", Commands: "dev worker", set: integer("WORKER_CACHE_SIZE", func(c *Config) *int { return &c.WorkerCacheSize })},
	{Flag: "smtp-addr", Env: "SMTP_ADDR", Default: "127.0.0.1:2525", Help: "address of dev's development SMTP server", Commands: "dev", set: str(func(c *Config) *string { return &c.SMTPAddr })},
	{Flag: "smtp-host", Env: "SMTP_HOST", Default: "", Help: "SMTP relay host (dev: its own server)", Commands: "api worker", set: str(func(c *Config) *string { return &c.SMTPHost })},
	{Flag: "smtp-port", Env: "SMTP_PORT", Default: "587", Help: "SMTP relay port", Commands: "api worker", set: integer("SMTP_PORT", func(c *Config) *int { return &c.SMTPPort })},
	{Flag: "smtp-tls", Env: "SMTP_TLS", Default: "starttls", Help: "starttls, implicit, or none (loopback only, with SMTP_ALLOW_INSECURE)", Commands: "api worker", set: str(func(c *Config) *string { return &c.SMTPTLS })},
	{Flag: "smtp-tls-ca", Env: "SMTP_TLS_CA", Default: "", Help: "CA file to trust for the SMTP relay's certificate (default: the system's)", Commands: "api worker", set: str(func(c *Config) *string { return &c.SMTPTLSCA })},
	{Flag: "smtp-allow-insecure", Env: "SMTP_ALLOW_INSECURE", Default: "false", Help: "allow SMTP without TLS to a loopback host", Commands: "api worker", set: boolean("SMTP_ALLOW_INSECURE", func(c *Config) *bool { return &c.SMTPAllowInsecure })},
	{Flag: "smtp-auth", Env: "SMTP_AUTH", Default: "plain", Help: "plain, login, xoauth2, oauthbearer, or empty for none", Commands: "api worker", set: str(func(c *Config) *string { return &c.SMTPAuth })},
	{Flag: "smtp-username", Env: "SMTP_USERNAME", Default: "", Help: "SMTP user name", Commands: "api worker", set: str(func(c *Config) *string { return &c.SMTPUsername })},
	{Flag: "smtp-password", Env: "SMTP_PASSWORD", Default: "", Help: "SMTP password, or OAuth access token for xoauth2/oauthbearer", Secret: true, Commands: "api worker", set: str(func(c *Config) *string { return &c.SMTPPassword })},
	{Flag: "smtp-oauth-token-url", Env: "SMTP_OAUTH_TOKEN_URL", Default: "", Help: "OAuth token endpoint to fetch xoauth2/oauthbearer access tokens from with the client credentials grant (instead of a static token in SMTP_PASSWORD)", Commands: "api worker", set: str(func(c *Config) *string { return &c.SMTPOAuthTokenURL })},
	{Flag: "smtp-oauth-client-id", Env: "SMTP_OAUTH_CLIENT_ID", Default: "", Help: "OAuth client id for SMTP_OAUTH_TOKEN_URL", Commands: "api worker", set: str(func(c *Config) *string { return &c.SMTPOAuthClientID })},
	{Flag: "smtp-oauth-client-secret", Env: "SMTP_OAUTH_CLIENT_SECRET", Default: "", Help: "OAuth client secret for SMTP_OAUTH_TOKEN_URL", Secret: true, Commands: "api worker", set: str(func(c *Config) *string { return &c.SMTPOAuthClientSecret })},
	{Flag: "smtp-oauth-scope", Env: "SMTP_OAUTH_SCOPE", Default: "", Help: "scope to ask SMTP_OAUTH_TOKEN_URL for, e.g. https://outlook.office365.com/.default", Commands: "api worker", set: str(func(c *Config) *string { return &c.SMTPOAuthScope })},
	{Flag: "smtp-from", Env: "SMTP_FROM", Default: "Throughgate <throughgate@localhost>", Help: "From address of every email", Commands: "api worker", set: str(func(c *Config) *string { return &c.SMTPFrom })},
	{Flag: "smtp-reply-to", Env: "SMTP_REPLY_TO", Default: "", Help: "Reply-To address", Commands: "api worker", set: str(func(c *Config) *string { return &c.SMTPReplyTo })},
	{Flag: "smtp-connections", Env: "SMTP_CONNECTIONS", Default: "4", Help: "SMTP connections each worker's outbox sender uses at once (at least 1)", Commands: "dev worker", set: func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return fmt.Errorf("SMTP_CONNECTIONS must be a whole number of at least 1, got %q", v)
		}
		c.SMTPConnections = n
		return nil
	}},
	{Flag: "smtp-rate", Env: "SMTP_RATE", Default: "600", Help: "emails per minute at most, all workers together (0: no limit)", Commands: "api worker", set: integer("SMTP_RATE", func(c *Config) *int { return &c.SMTPRate })},
	{Flag: "oidc-issuer", Env: "OIDC_ISSUER", Default: "", Help: "OpenID Connect issuer URL for single sign-on (empty: local passwords only)", Commands: "dev api", set: str(func(c *Config) *string { return &c.OIDCIssuer })},
	{Flag: "oidc-client-id", Env: "OIDC_CLIENT_ID", Default: "", Help: "OpenID Connect client id", Commands: "dev api", set: str(func(c *Config) *string { return &c.OIDCClientID })},
	{Flag: "oidc-client-secret", Env: "OIDC_CLIENT_SECRET", Default: "", Help: "OpenID Connect client secret", Secret: true, Commands: "dev api", set: str(func(c *Config) *string { return &c.OIDCClientSecret })},
	{Flag: "session-idle", Env: "SESSION_IDLE", Default: "30m", Help: "a signed-in browser unused this long must sign in again", Commands: "dev api", set: duration("SESSION_IDLE", func(c *Config) *time.Duration { return &c.SessionIdle })},
	{Flag: "session-max", Env: "SESSION_MAX", Default: "12h", Help: "any sign-in ends this long after it began", Commands: "dev api", set: duration("SESSION_MAX", func(c *Config) *time.Duration { return &c.SessionMax })},
	{Flag: "signin-rate", Env: "SIGNIN_RATE", Default: "10", Help: "sign-in attempts allowed per minute from one client address", Commands: "dev api", set: integer("SIGNIN_RATE", func(c *Config) *int { return &c.SignInRate })},
	{Flag: "trust-proxy-headers", Env: "TRUST_PROXY_HEADERS", Default: "false", Help: "replaced by TRUSTED_PROXIES: true is refused (it believed X-Forwarded-For from anyone)", Commands: "dev api", set: boolean("TRUST_PROXY_HEADERS", func(c *Config) *bool { return &c.TrustProxyHeaders })},
	{Flag: "trusted-proxies", Env: "TRUSTED_PROXIES", Default: "", Help: "comma-separated CIDRs of the reverse proxies in front of the API; from them only, the client address is the right-most X-Forwarded-For hop that is not one of them (empty: the peer's address)", Commands: "dev api", set: func(c *Config, v string) error {
		p, err := auth.ParseTrustedProxies(v)
		if err != nil {
			return fmt.Errorf("TRUSTED_PROXIES: %w", err)
		}
		c.TrustedProxies = p
		return nil
	}},
	{Flag: "oidc-required-acr", Env: "OIDC_REQUIRED_ACR", Default: "", Help: "acr value an OpenID Connect sign-in must carry (or several, space-separated: any of them), asked of the provider and checked in the ID token (empty: none)", Commands: "dev api", set: str(func(c *Config) *string { return &c.OIDCRequiredACR })},
	{Flag: "policy-file", Env: "POLICY_FILE", Default: "", Help: "JSON file with the reminder and escalation policy (default: the built-in ladder)", Commands: "dev api", set: str(func(c *Config) *string { return &c.PolicyFile })},
	{Flag: "partner-link-days", Env: "PARTNER_LINK_DAYS", Default: "14", Help: "days a partner agency's one-time link to a waiting step works before it expires (1 to 90)", Commands: "dev api", set: integer("PARTNER_LINK_DAYS", func(c *Config) *int { return &c.PartnerLinkDays })},
	{Flag: "retention-years", Env: "RETENTION_YEARS", Default: "7", Help: "years after a case closes until a daily sweep anonymises its person's details and notes, keeping ids, dates and the audit log (0: never)", Commands: "dev worker", set: integer("RETENTION_YEARS", func(c *Config) *int { return &c.RetentionYears })},
	{Flag: "event-sources", Env: "EVENT_SOURCES", Default: "", Help: "who may post prison movement events to /api/v1/events: NAME:BASE64SECRET (at least 32 bytes, e.g. openssl rand -base64 32), comma-separated; each source signs its events with its secret (empty: every event is refused)", Secret: true, Commands: "dev api", set: func(c *Config, v string) error {
		s, err := ParseEventSources(v)
		c.EventSources = s
		return err
	}},
	{Flag: "event-teams", Env: "EVENT_TEAMS", Default: "", Help: "the team that takes the new cases movement events open at an establishment where several active teams work: CODE:TEAM, comma-separated, e.g. PVI:pvi-resettlement (empty: such events wait in the review queue)", Commands: "dev api worker", set: func(c *Config, v string) error {
		t, err := ParseEventTeams(v)
		c.EventTeams = t
		return err
	}},
	{Flag: "prisoner-search-url", Env: "PRISONER_SEARCH_URL", Default: "", Help: "HMPPS Prisoner Search, or a service of its shape, asked GET URL/prisoner/{prison number} for the person's record (name, date of birth, booking, release dates) when a movement event carries none (empty: events must carry it)", Commands: "dev api worker", set: str(func(c *Config) *string { return &c.PrisonerSearchURL })},
	{Flag: "prisoner-search-token", Env: "PRISONER_SEARCH_TOKEN", Default: "", Help: "bearer token sent to PRISONER_SEARCH_URL", Secret: true, Commands: "dev api worker", set: str(func(c *Config) *string { return &c.PrisonerSearchToken })},
	{Flag: "event-hold", Env: "EVENT_HOLD", Default: "24h", Help: "how long a movement event that depends on an earlier one (a transfer before its reception) waits for it before it is parked for review", Commands: "dev api worker", set: duration("EVENT_HOLD", func(c *Config) *time.Duration { return &c.EventHold })},
	{Flag: "otel-traces-exporter", Env: "OTEL_TRACES_EXPORTER", Default: "", Help: "otlp to send OpenTelemetry traces (HTTP request, Temporal update, workflow, activity) to an OTLP collector, none for none (empty: otlp when an OTEL_EXPORTER_OTLP_*ENDPOINT is set, else none)", Commands: "dev api worker", set: str(func(c *Config) *string { return &c.OTelTracesExporter })},
	{Flag: "otel-exporter-otlp-endpoint", Env: "OTEL_EXPORTER_OTLP_ENDPOINT", Default: "", Help: "OTLP collector's base URL, e.g. http://otel-collector:4318 (http/protobuf: traces go to its /v1/traces) or http://otel-collector:4317 (grpc); setting it turns tracing on", Commands: "dev api worker", set: str(func(c *Config) *string { return &c.OTelEndpoint })},
	{Flag: "otel-exporter-otlp-traces-endpoint", Env: "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", Default: "", Help: "OTLP URL for traces, used as it is (wins over OTEL_EXPORTER_OTLP_ENDPOINT); setting it turns tracing on", Commands: "dev api worker", set: str(func(c *Config) *string { return &c.OTelTracesEndpoint })},
	{Flag: "otel-exporter-otlp-protocol", Env: "OTEL_EXPORTER_OTLP_PROTOCOL", Default: "http/protobuf", Help: "http/protobuf or grpc: how traces are sent to the collector", Commands: "dev api worker", set: str(func(c *Config) *string { return &c.OTelProtocol })},
}

// renamed are environment variables Throughgate once read under other
// names. One still set is an error rather than silently ignored: a
// deployment that set TEMPORAL_TLS_CERT would otherwise dial without its
// certificate.
var renamed = map[string]string{
	"TEMPORAL_TLS_CERT": "TEMPORAL_TLS_CLIENT_CERT_PATH",
	"TEMPORAL_TLS_KEY":  "TEMPORAL_TLS_CLIENT_KEY_PATH",
	"TEMPORAL_TLS_CA":   "TEMPORAL_TLS_SERVER_CA_CERT_PATH",
}

// Load reads settings for a subcommand from args and the environment.
// lookupEnv is os.LookupEnv, or a stand-in in tests: a variable that is set
// but empty overrides the default with the empty value.
func Load(command string, args []string, lookupEnv func(string) (string, bool)) (Config, error) {
	var c Config
	for _, old := range slices.Sorted(maps.Keys(renamed)) {
		if _, set := lookupEnv(old); set {
			return c, fmt.Errorf("%s is now called %s (the Temporal SDK's name): rename it", old, renamed[old])
		}
	}
	fs := flag.NewFlagSet(command, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	values := map[string]*string{}
	for _, s := range Settings {
		v := s.Default
		if e, set := lookupEnv(s.Env); set {
			v = e
		}
		values[s.Flag] = fs.String(s.Flag, v, s.Help)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return c, err
		}
		return c, fmt.Errorf("%v (see `throughgate help`)", err)
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q (see `throughgate help`)", fs.Arg(0))
	}
	c.raw = map[string]string{}
	for _, s := range Settings {
		if err := s.set(&c, *values[s.Flag]); err != nil {
			return c, err
		}
		c.raw[s.Env] = *values[s.Flag]
	}
	if err := c.finish(); err != nil {
		return c, err
	}
	c.raw["BASE_URL"], c.raw["DATA_DIR"] = c.BaseURL, c.DataDir
	return c, nil
}

// IsDemo reports whether dev runs the demonstration: the demo accounts, the
// development SMTP server and its mailbox (DEMO, else no DATABASE_URL).
func (c Config) IsDemo() bool {
	return c.Demo == "true" || c.Demo == "" && c.DatabaseURL == ""
}

// finish checks the settings hang together and fills in derived ones.
func (c *Config) finish() error {
	if c.Demo != "" && c.Demo != "true" && c.Demo != "false" {
		return fmt.Errorf("DEMO %q must be true, false or empty", c.Demo)
	}
	for _, a := range []struct{ name, addr string }{{"HTTP_ADDR", c.HTTPAddr}, {"SMTP_ADDR", c.SMTPAddr}, {"TEMPORAL_ADDRESS", c.TemporalAddress}} {
		if _, _, err := net.SplitHostPort(a.addr); err != nil {
			return fmt.Errorf("%s %q must be host:port, e.g. 127.0.0.1:8080", a.name, a.addr)
		}
	}
	if c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			return fmt.Errorf("METRICS_ADDR %q must be host:port, e.g. 0.0.0.0:9090, or empty for none", c.MetricsAddr)
		}
	}
	switch strings.ToLower(c.TemporalTLS) { // the SDK's envconfig reads 1 and 0 too
	case "":
	case "true", "1":
		c.TemporalTLS = "true"
	case "false", "0":
		c.TemporalTLS = "false"
	default:
		return fmt.Errorf("TEMPORAL_TLS must be true or false (or empty: on with an API key or a TLS file), not %q", c.TemporalTLS)
	}
	if (c.TemporalTLSClientCertPath == "") != (c.TemporalTLSClientKeyPath == "") {
		return fmt.Errorf("TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH go together: give both or neither")
	}
	for _, p := range []struct {
		name string
		v    int
	}{{"PG_PORT", c.PGPort}, {"TEMPORAL_PORT", c.TemporalPort}, {"SMTP_PORT", c.SMTPPort}} {
		if p.v < 1 || p.v > 65535 {
			return fmt.Errorf("%s must be a port between 1 and 65535", p.name)
		}
	}
	if c.TemporalUIPort > 65535 {
		return fmt.Errorf("TEMPORAL_UI_PORT must be a port between 0 and 65535")
	}
	if c.TemporalStore != "postgres" && c.TemporalStore != "sqlite" {
		return fmt.Errorf("TEMPORAL_STORE must be postgres or sqlite, not %q", c.TemporalStore)
	}
	if c.TemporalShards < 1 || c.TemporalShards > 16384 {
		return fmt.Errorf("TEMPORAL_SHARDS must be between 1 and 16384")
	}
	if c.TemporalCacheSize < 100 {
		// Workflows being worked on are pinned in the cache: too small a
		// cache refuses tasks ("cache capacity is fully occupied").
		return fmt.Errorf("TEMPORAL_CACHE_SIZE must be at least 100")
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("LOG_LEVEL must be debug, info, warn or error, not %q", c.LogLevel)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return fmt.Errorf("LOG_FORMAT must be text or json, not %q", c.LogFormat)
	}
	for _, d := range []struct{ name, url string }{{"DATABASE_URL", c.DatabaseURL}, {"MIGRATE_DATABASE_URL", c.MigrateDatabaseURL}} {
		if d.url == "" {
			continue
		}
		if u, err := url.Parse(d.url); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			return fmt.Errorf("%s must be a postgres:// URL", d.name)
		}
	}
	if c.RetentionYears > 100 {
		return fmt.Errorf("RETENTION_YEARS must be from 0 (never) to 100, not %d", c.RetentionYears)
	}
	if c.PartnerLinkDays < 1 || c.PartnerLinkDays > 90 {
		return fmt.Errorf("PARTNER_LINK_DAYS must be from 1 to 90, not %d", c.PartnerLinkDays)
	}
	if c.BaseURL == "" {
		c.BaseURL = "http://" + c.HTTPAddr
	}
	if c.OIDCIssuer != "" && c.OIDCClientID == "" {
		return fmt.Errorf("OIDC_CLIENT_ID is required with OIDC_ISSUER")
	}
	if c.TrustProxyHeaders {
		return fmt.Errorf("TRUST_PROXY_HEADERS=true believed X-Forwarded-For from any client: list your reverse proxies' addresses in TRUSTED_PROXIES (CIDRs) instead, and drop TRUST_PROXY_HEADERS")
	}
	if c.SessionIdle > c.SessionMax {
		return fmt.Errorf("SESSION_IDLE (%s) cannot be longer than SESSION_MAX (%s)", c.SessionIdle, c.SessionMax)
	}
	if err := checkPrisonerSearch(c.PrisonerSearchURL, c.PrisonerSearchToken); err != nil {
		return err
	}
	if err := c.checkTracing(); err != nil {
		return err
	}
	c.BaseURL = strings.TrimSuffix(c.BaseURL, "/")
	if abs, err := filepath.Abs(c.DataDir); err == nil {
		c.DataDir = abs
	}
	c.Policy = resettlement.DefaultPolicy()
	if c.PolicyFile != "" {
		p, err := LoadPolicy(c.PolicyFile)
		if err != nil {
			return err
		}
		c.Policy = p
	}
	return nil
}

// LoadPolicy reads a policy file. Each rung the file names replaces the
// default's whole (a file's {"grace": {"duration": "5s"}} means five
// seconds, not two working days and five seconds); rungs it leaves out keep
// the default.
func LoadPolicy(path string) (resettlement.Policy, error) {
	def := resettlement.DefaultPolicy()
	b, err := os.ReadFile(path)
	if err != nil {
		return def, fmt.Errorf("POLICY_FILE: %w", err)
	}
	var p resettlement.Policy
	if err := unmarshalStrict(b, &p); err != nil {
		return def, fmt.Errorf("POLICY_FILE %s: %w", path, err)
	}
	var present map[string]json.RawMessage
	_ = json.Unmarshal(b, &present)
	for key, keep := range map[string]func(){
		"due_time":      func() { p.DueTime = def.DueTime },
		"grace":         func() { p.Grace = def.Grace },
		"remind_before": func() { p.RemindBefore = def.RemindBefore },
		"remind_on_due": func() { p.RemindOnDue = def.RemindOnDue },
		"escalations":   func() { p.Escalations = def.Escalations },
		"stall_after":   func() { p.StallAfter = def.StallAfter },
		"handover":      func() { p.Handover = def.Handover },
		"backstop":      func() { p.Backstop = def.Backstop },
	} {
		if _, ok := present[key]; !ok {
			keep()
		}
	}
	if err := p.Validate(); err != nil {
		return p, fmt.Errorf("POLICY_FILE %s: %w", path, err)
	}
	return p, nil
}

// Print writes the settings a subcommand uses, secrets masked, for the
// start-up log.
func (c Config) Print(w io.Writer, command string) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, s := range Settings {
		if s.Commands != "all" && !strings.Contains(" "+s.Commands+" ", " "+command+" ") {
			continue
		}
		v := c.raw[s.Env]
		if s.Secret && v != "" {
			v = mask(v)
		}
		fmt.Fprintf(tw, "  %s\t%s\n", s.Env, v)
	}
	tw.Flush()
}

// mask hides a secret, keeping a URL's shape so an operator can still see
// which database it points at.
func mask(v string) string {
	if u, err := url.Parse(v); err == nil && u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
		return u.String()
	}
	if strings.Contains(v, "://") {
		return v
	}
	return "xxxxx"
}

// Help writes every setting as a table, for `throughgate help`.
func Help(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  FLAG\tENVIRONMENT\tDEFAULT\tUSED BY\tMEANING")
	for _, s := range Settings {
		def := s.Default
		if def == "" {
			def = "-"
		}
		fmt.Fprintf(tw, "  --%s\t%s\t%s\t%s\t%s\n", s.Flag, s.Env, def, s.Commands, s.Help)
	}
	tw.Flush()
}

// MarkdownTable writes the settings as the Markdown table in README.md
// (`throughgate help --markdown`), so the README is regenerated rather than
// kept in step by hand.
func MarkdownTable(w io.Writer) {
	fmt.Fprintln(w, "| flag | environment | default | used by | meaning |")
	fmt.Fprintln(w, "| --- | --- | --- | --- | --- |")
	for _, s := range Settings {
		def := ""
		if s.Default != "" {
			def = "`" + s.Default + "`"
		}
		fmt.Fprintf(w, "| `--%s` | `%s` | %s | %s | %s |\n", s.Flag, s.Env, def, s.Commands, s.Help)
	}
}
