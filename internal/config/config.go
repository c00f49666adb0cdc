// Package config reads Throughgate's settings from flags and environment
// variables, with defaults that run the whole engine on one machine.
//
// Every setting has a flag and an environment variable; a flag wins over
// the environment, the environment over the default. Settings is the one
// table of them, so `throughgate help`, the start-up banner and the README
// cannot drift apart.
package config

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/throughgate/throughgate/resettlement"
)

// Config is every setting, parsed.
type Config struct {
	HTTPAddr string
	BaseURL  string
	DataDir  string
	LogLevel string

	DatabaseURL string // "" in dev: a private cluster under DataDir
	PGPort      int

	TemporalAddress   string
	TemporalNamespace string
	TemporalTLSCert   string
	TemporalTLSKey    string
	TemporalTLSCA     string
	TemporalTLSServer string
	TemporalPort      int // embedded server (dev)
	TemporalUIPort    int
	TemporalStore     string
	TemporalShards    int

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

	PolicyFile string
	Policy     resettlement.Policy

	OIDCIssuer        string // "" : no OpenID Connect sign-in
	OIDCClientID      string
	OIDCClientSecret  string
	SessionIdle       time.Duration
	SessionMax        time.Duration
	TrustProxyHeaders bool
	SignInRate        int

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
	{Flag: "log-level", Env: "LOG_LEVEL", Default: "info", Help: "debug, info, warn or error", Commands: "all", set: str(func(c *Config) *string { return &c.LogLevel })},
	{Flag: "database-url", Env: "DATABASE_URL", Default: "", Help: "PostgreSQL URL; dev starts a private cluster when empty", Secret: true, Commands: "all", set: str(func(c *Config) *string { return &c.DatabaseURL })},
	{Flag: "pg-port", Env: "PG_PORT", Default: "5433", Help: "port of dev's private PostgreSQL on 127.0.0.1", Commands: "dev", set: integer("PG_PORT", func(c *Config) *int { return &c.PGPort })},
	{Flag: "temporal-address", Env: "TEMPORAL_ADDRESS", Default: "127.0.0.1:7233", Help: "Temporal frontend to connect to", Commands: "api worker", set: str(func(c *Config) *string { return &c.TemporalAddress })},
	{Flag: "temporal-namespace", Env: "TEMPORAL_NAMESPACE", Default: "default", Help: "Temporal namespace", Commands: "all", set: str(func(c *Config) *string { return &c.TemporalNamespace })},
	{Flag: "temporal-tls-cert", Env: "TEMPORAL_TLS_CERT", Default: "", Help: "client certificate file for mTLS to Temporal", Commands: "api worker", set: str(func(c *Config) *string { return &c.TemporalTLSCert })},
	{Flag: "temporal-tls-key", Env: "TEMPORAL_TLS_KEY", Default: "", Help: "client key file for mTLS to Temporal", Secret: true, Commands: "api worker", set: str(func(c *Config) *string { return &c.TemporalTLSKey })},
	{Flag: "temporal-tls-ca", Env: "TEMPORAL_TLS_CA", Default: "", Help: "CA file that signed the Temporal server's certificate", Commands: "api worker", set: str(func(c *Config) *string { return &c.TemporalTLSCA })},
	{Flag: "temporal-tls-server-name", Env: "TEMPORAL_TLS_SERVER_NAME", Default: "", Help: "server name to verify in Temporal's certificate", Commands: "api worker", set: str(func(c *Config) *string { return &c.TemporalTLSServer })},
	{Flag: "temporal-port", Env: "TEMPORAL_PORT", Default: "7233", Help: "port of dev's embedded Temporal server on 127.0.0.1", Commands: "dev", set: integer("TEMPORAL_PORT", func(c *Config) *int { return &c.TemporalPort })},
	{Flag: "temporal-ui-port", Env: "TEMPORAL_UI_PORT", Default: "8233", Help: "port of the embedded Temporal Web UI (0: off)", Commands: "dev", set: integer("TEMPORAL_UI_PORT", func(c *Config) *int { return &c.TemporalUIPort })},
	{Flag: "temporal-store", Env: "TEMPORAL_STORE", Default: "postgres", Help: "embedded Temporal's store: postgres, or sqlite for throwaway runs", Commands: "dev", set: str(func(c *Config) *string { return &c.TemporalStore })},
	{Flag: "temporal-shards", Env: "TEMPORAL_SHARDS", Default: "128", Help: "history shards of the embedded server; fixed at first start", Commands: "dev", set: integer("TEMPORAL_SHARDS", func(c *Config) *int { return &c.TemporalShards })},
	{Flag: "smtp-addr", Env: "SMTP_ADDR", Default: "127.0.0.1:2525", Help: "address of dev's development SMTP server", Commands: "dev", set: str(func(c *Config) *string { return &c.SMTPAddr })},
	{Flag: "smtp-host", Env: "SMTP_HOST", Default: "", Help: "SMTP relay host (dev: its own server)", Commands: "api worker", set: str(func(c *Config) *string { return &c.SMTPHost })},
	{Flag: "smtp-port", Env: "SMTP_PORT", Default: "587", Help: "SMTP relay port", Commands: "api worker", set: integer("SMTP_PORT", func(c *Config) *int { return &c.SMTPPort })},
	{Flag: "smtp-tls", Env: "SMTP_TLS", Default: "starttls", Help: "starttls, implicit, or none (loopback only, with SMTP_ALLOW_INSECURE)", Commands: "api worker", set: str(func(c *Config) *string { return &c.SMTPTLS })},
	{Flag: "smtp-tls-ca", Env: "SMTP_TLS_CA", Default: "", Help: "CA file to trust for the SMTP relay's certificate (default: the system's)", Commands: "api worker", set: str(func(c *Config) *string { return &c.SMTPTLSCA })},
	{Flag: "smtp-allow-insecure", Env: "SMTP_ALLOW_INSECURE", Default: "false", Help: "allow SMTP without TLS to a loopback host", Commands: "api worker", set: boolean("SMTP_ALLOW_INSECURE", func(c *Config) *bool { return &c.SMTPAllowInsecure })},
	{Flag: "smtp-auth", Env: "SMTP_AUTH", Default: "plain", Help: "plain, login, xoauth2, oauthbearer, or empty for none", Commands: "api worker", set: str(func(c *Config) *string { return &c.SMTPAuth })},
	{Flag: "smtp-username", Env: "SMTP_USERNAME", Default: "", Help: "SMTP user name", Commands: "api worker", set: str(func(c *Config) *string { return &c.SMTPUsername })},
	{Flag: "smtp-password", Env: "SMTP_PASSWORD", Default: "", Help: "SMTP password, or OAuth access token for xoauth2/oauthbearer", Secret: true, Commands: "api worker", set: str(func(c *Config) *string { return &c.SMTPPassword })},
	{Flag: "smtp-from", Env: "SMTP_FROM", Default: "Throughgate <throughgate@localhost>", Help: "From address of every email", Commands: "api worker", set: str(func(c *Config) *string { return &c.SMTPFrom })},
	{Flag: "smtp-reply-to", Env: "SMTP_REPLY_TO", Default: "", Help: "Reply-To address", Commands: "api worker", set: str(func(c *Config) *string { return &c.SMTPReplyTo })},
	{Flag: "smtp-rate", Env: "SMTP_RATE", Default: "600", Help: "emails per minute at most (0: no limit)", Commands: "api worker", set: integer("SMTP_RATE", func(c *Config) *int { return &c.SMTPRate })},
	{Flag: "oidc-issuer", Env: "OIDC_ISSUER", Default: "", Help: "OpenID Connect issuer URL for single sign-on (empty: local passwords only)", Commands: "dev api", set: str(func(c *Config) *string { return &c.OIDCIssuer })},
	{Flag: "oidc-client-id", Env: "OIDC_CLIENT_ID", Default: "", Help: "OpenID Connect client id", Commands: "dev api", set: str(func(c *Config) *string { return &c.OIDCClientID })},
	{Flag: "oidc-client-secret", Env: "OIDC_CLIENT_SECRET", Default: "", Help: "OpenID Connect client secret", Secret: true, Commands: "dev api", set: str(func(c *Config) *string { return &c.OIDCClientSecret })},
	{Flag: "session-idle", Env: "SESSION_IDLE", Default: "30m", Help: "a signed-in browser unused this long must sign in again", Commands: "dev api", set: duration("SESSION_IDLE", func(c *Config) *time.Duration { return &c.SessionIdle })},
	{Flag: "session-max", Env: "SESSION_MAX", Default: "12h", Help: "any sign-in ends this long after it began", Commands: "dev api", set: duration("SESSION_MAX", func(c *Config) *time.Duration { return &c.SessionMax })},
	{Flag: "signin-rate", Env: "SIGNIN_RATE", Default: "10", Help: "sign-in attempts allowed per minute from one client address", Commands: "dev api", set: integer("SIGNIN_RATE", func(c *Config) *int { return &c.SignInRate })},
	{Flag: "trust-proxy-headers", Env: "TRUST_PROXY_HEADERS", Default: "false", Help: "take the client address from X-Forwarded-For / X-Real-IP (only behind a proxy that sets them)", Commands: "dev api", set: boolean("TRUST_PROXY_HEADERS", func(c *Config) *bool { return &c.TrustProxyHeaders })},
	{Flag: "policy-file", Env: "POLICY_FILE", Default: "", Help: "JSON file with the reminder and escalation policy (default: the built-in ladder)", Commands: "dev api", set: str(func(c *Config) *string { return &c.PolicyFile })},
}

// Load reads settings for a subcommand from args and the environment.
func Load(command string, args []string, getenv func(string) string) (Config, error) {
	var c Config
	fs := flag.NewFlagSet(command, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	values := map[string]*string{}
	for _, s := range Settings {
		v := s.Default
		if e := getenv(s.Env); e != "" {
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

// finish checks the settings hang together and fills in derived ones.
func (c *Config) finish() error {
	for _, a := range []struct{ name, addr string }{{"HTTP_ADDR", c.HTTPAddr}, {"SMTP_ADDR", c.SMTPAddr}, {"TEMPORAL_ADDRESS", c.TemporalAddress}} {
		if _, _, err := net.SplitHostPort(a.addr); err != nil {
			return fmt.Errorf("%s %q must be host:port, e.g. 127.0.0.1:8080", a.name, a.addr)
		}
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
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("LOG_LEVEL must be debug, info, warn or error, not %q", c.LogLevel)
	}
	if c.DatabaseURL != "" {
		if u, err := url.Parse(c.DatabaseURL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			return fmt.Errorf("DATABASE_URL must be a postgres:// URL")
		}
	}
	if c.BaseURL == "" {
		c.BaseURL = "http://" + c.HTTPAddr
	}
	if c.OIDCIssuer != "" && c.OIDCClientID == "" {
		return fmt.Errorf("OIDC_CLIENT_ID is required with OIDC_ISSUER")
	}
	if c.SessionIdle > c.SessionMax {
		return fmt.Errorf("SESSION_IDLE (%s) cannot be longer than SESSION_MAX (%s)", c.SessionIdle, c.SessionMax)
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
