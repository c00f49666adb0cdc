package mail

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	netmail "net/mail"
	"net/url"
	"strings"
	"time"
)

// TLS modes for Config.TLSMode.
const (
	TLSStartTLS = "starttls" // submission port 587: plaintext greeting, then STARTTLS, required
	TLSImplicit = "implicit" // SMTPS port 465: TLS from the first byte
	TLSNone     = "none"     // plaintext; loopback only, for a local relay or test server
)

// Auth mechanisms for Config.Auth.
const (
	AuthNone        = ""
	AuthPlain       = "plain"
	AuthLogin       = "login"
	AuthXOAUTH2     = "xoauth2"     // Google Workspace, Microsoft 365
	AuthOAuthBearer = "oauthbearer" // RFC 7628, the standard form of XOAUTH2
)

// DefaultTimeout bounds each SMTP command and the dial when Config.Timeout
// is zero. Long enough for a slow relay's greeting delay, short enough that a
// dead relay does not hold an outbox worker for minutes.
const DefaultTimeout = 30 * time.Second

// Config is the SMTP relay the sender talks to. The setting names in error
// messages (SMTP_HOST, ...) are the environment variables the command line
// maps onto these fields, so an operator can act on a message directly.
type Config struct {
	Host string
	Port int // 0 means the mode's standard port: 587 starttls, 465 implicit, 25 none

	TLSMode       string // "starttls" (default), "implicit" or "none"
	AllowInsecure bool   // required, with a loopback Host, for TLSMode "none"

	Auth               string // "", "plain", "login", "xoauth2", "oauthbearer"
	Username, Password string // for xoauth2/oauthbearer Password is a static OAuth access token

	// OAuth client credentials (RFC 6749 §4.4), for xoauth2/oauthbearer
	// instead of a static token in Password: the sender fetches access
	// tokens from OAuthTokenURL, caches each until shortly before it
	// expires, and fetches a new one when the server rejects it.
	OAuthTokenURL, OAuthClientID, OAuthClientSecret, OAuthScope string
	OAuthHTTPClient                                             *http.Client // nil: a client with Timeout

	From, ReplyTo string

	RatePerMinute int            // most messages per minute across all Send calls (not SendGated's); 0 = unlimited
	RootCAs       *x509.CertPool // nil = system roots; the dev server's pool in development
	Timeout       time.Duration  // per command; 0 = DefaultTimeout
}

// mode returns the TLS mode with the default applied.
func (c Config) mode() string {
	m := strings.ToLower(strings.TrimSpace(c.TLSMode))
	if m == "" {
		return TLSStartTLS
	}
	return m
}

func (c Config) auth() string { return strings.ToLower(strings.TrimSpace(c.Auth)) }

// port returns the port with the mode's default applied.
func (c Config) port() int {
	if c.Port != 0 {
		return c.Port
	}
	switch c.mode() {
	case TLSImplicit:
		return 465
	case TLSNone:
		return 25
	default:
		return 587
	}
}

func (c Config) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return DefaultTimeout
}

// Validate reports every problem at once, each naming the setting to change,
// so a misconfigured deployment fails at start with one readable message
// rather than at the first reminder.
func (c Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if strings.TrimSpace(c.Host) == "" {
		add("SMTP_HOST is required")
	}
	if c.Port < 0 || c.Port > 65535 {
		add("SMTP_PORT must be between 1 and 65535, got %d", c.Port)
	}
	switch c.mode() {
	case TLSStartTLS, TLSImplicit:
	case TLSNone:
		if !c.AllowInsecure || !isLoopbackHost(c.Host) {
			add(`SMTP_TLS "none" is only allowed for a loopback host with SMTP_ALLOW_INSECURE=true`)
		}
	default:
		add(`SMTP_TLS must be "starttls", "implicit" or "none", got %q`, c.TLSMode)
	}

	oauth := c.OAuthTokenURL != "" || c.OAuthClientID != "" || c.OAuthClientSecret != "" || c.OAuthScope != ""
	switch a := c.auth(); a {
	case AuthNone:
		if c.Username != "" || c.Password != "" {
			add(`SMTP_USERNAME or SMTP_PASSWORD is set but SMTP_AUTH is empty: set SMTP_AUTH to "plain" or "login" (or unset the credentials)`)
		}
	case AuthPlain, AuthLogin, AuthXOAUTH2, AuthOAuthBearer:
		if c.Username == "" {
			add("SMTP_USERNAME is required when SMTP_AUTH is %q", a)
		}
		isOAuth := a == AuthXOAUTH2 || a == AuthOAuthBearer
		switch {
		case isOAuth && c.Password != "" && c.OAuthTokenURL != "":
			add("SMTP_PASSWORD (a static OAuth access token) and SMTP_OAUTH_TOKEN_URL are both set: set one")
		case isOAuth && c.Password == "" && c.OAuthTokenURL == "":
			add("SMTP_PASSWORD (the OAuth access token) is required when SMTP_AUTH is %q, unless SMTP_OAUTH_TOKEN_URL names a token endpoint to fetch tokens from", a)
		case !isOAuth && c.Password == "":
			add("SMTP_PASSWORD is required when SMTP_AUTH is %q", a)
		}
		if oauth && !isOAuth {
			add(`SMTP_OAUTH_* settings are set but SMTP_AUTH is %q: set SMTP_AUTH to "xoauth2" or "oauthbearer" (or unset them)`, a)
		}
	default:
		add(`SMTP_AUTH must be "", "plain", "login", "xoauth2" or "oauthbearer", got %q`, c.Auth)
	}
	if oauth && c.auth() == AuthNone {
		add(`SMTP_OAUTH_* settings are set but SMTP_AUTH is empty: set SMTP_AUTH to "xoauth2" or "oauthbearer"`)
	}
	if oauth {
		if c.OAuthTokenURL == "" {
			add("SMTP_OAUTH_TOKEN_URL is required with SMTP_OAUTH_CLIENT_ID / SMTP_OAUTH_CLIENT_SECRET / SMTP_OAUTH_SCOPE")
		} else if u, err := url.Parse(c.OAuthTokenURL); err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && isLoopbackHost(u.Hostname()))) {
			// The client secret travels in the request: never in clear
			// beyond this machine.
			add("SMTP_OAUTH_TOKEN_URL %q must be an https:// URL (http:// only to a loopback host)", c.OAuthTokenURL)
		}
		if c.OAuthClientID == "" {
			add("SMTP_OAUTH_CLIENT_ID is required with SMTP_OAUTH_TOKEN_URL")
		}
		if c.OAuthClientSecret == "" {
			add("SMTP_OAUTH_CLIENT_SECRET is required with SMTP_OAUTH_TOKEN_URL")
		}
	}

	if strings.TrimSpace(c.From) == "" {
		add("SMTP_FROM is required")
	} else if _, err := netmail.ParseAddress(c.From); err != nil {
		add("SMTP_FROM %q is not a valid address: %v", c.From, err)
	}
	if c.ReplyTo != "" {
		if _, err := netmail.ParseAddress(c.ReplyTo); err != nil {
			add("SMTP_REPLY_TO %q is not a valid address: %v", c.ReplyTo, err)
		}
	}
	if c.RatePerMinute < 0 {
		add("SMTP_RATE_PER_MINUTE must not be negative, got %d", c.RatePerMinute)
	}
	if c.Timeout < 0 {
		add("SMTP_TIMEOUT must not be negative, got %s", c.Timeout)
	}
	return errors.Join(errs...)
}

// isLoopbackHost accepts "localhost" and loopback IP literals only. A name
// that merely resolves to 127.0.0.1 today is not enough to send passwords
// and case mail in clear.
func isLoopbackHost(host string) bool {
	h := strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
