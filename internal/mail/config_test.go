package mail

import (
	"strings"
	"testing"
)

// oauth sets up XOAUTH2 with client credentials from tokenURL.
func oauth(tokenURL string) func(*Config) {
	return func(c *Config) {
		c.Auth, c.Username = "xoauth2", "throughgate@example.gov.uk"
		c.OAuthTokenURL, c.OAuthClientID, c.OAuthClientSecret = tokenURL, "app", "secret"
	}
}

func TestValidate(t *testing.T) {
	good := Config{Host: "smtp.example.gov.uk", From: "Throughgate <noreply@example.gov.uk>"}
	if err := good.Validate(); err != nil {
		t.Fatalf("minimal config: %v", err)
	}
	cases := []struct {
		name string
		edit func(*Config)
		want string // "" = valid
	}{
		{"no host", func(c *Config) { c.Host = "" }, "SMTP_HOST is required"},
		{"no from", func(c *Config) { c.From = "" }, "SMTP_FROM is required"},
		{"bad from", func(c *Config) { c.From = "not an address" }, `SMTP_FROM "not an address" is not a valid address`},
		{"bad reply-to", func(c *Config) { c.ReplyTo = "x" }, "SMTP_REPLY_TO"},
		{"bad port", func(c *Config) { c.Port = 70000 }, "SMTP_PORT must be between 1 and 65535"},
		{"bad mode", func(c *Config) { c.TLSMode = "ssl" }, `SMTP_TLS must be "starttls", "implicit" or "none", got "ssl"`},
		{"implicit ok", func(c *Config) { c.TLSMode = "implicit" }, ""},
		{"none remote", func(c *Config) { c.TLSMode, c.AllowInsecure = "none", true },
			`SMTP_TLS "none" is only allowed for a loopback host with SMTP_ALLOW_INSECURE=true`},
		{"none loopback without flag", func(c *Config) { c.TLSMode, c.Host = "none", "127.0.0.1" },
			`SMTP_TLS "none" is only allowed for a loopback host with SMTP_ALLOW_INSECURE=true`},
		{"none name resolving to loopback is not enough", func(c *Config) {
			c.TLSMode, c.Host, c.AllowInsecure = "none", "localhost.example.com", true
		}, `SMTP_TLS "none"`},
		{"none loopback v4", func(c *Config) { c.TLSMode, c.Host, c.AllowInsecure = "none", "127.0.0.1", true }, ""},
		{"none loopback v6", func(c *Config) { c.TLSMode, c.Host, c.AllowInsecure = "none", "::1", true }, ""},
		{"none localhost", func(c *Config) { c.TLSMode, c.Host, c.AllowInsecure = "none", "localhost", true }, ""},
		{"unknown auth", func(c *Config) { c.Auth = "cram-md5" }, `SMTP_AUTH must be`},
		{"plain without user", func(c *Config) { c.Auth, c.Password = "plain", "p" }, `SMTP_USERNAME is required when SMTP_AUTH is "plain"`},
		{"login without password", func(c *Config) { c.Auth, c.Username = "login", "u" }, `SMTP_PASSWORD is required when SMTP_AUTH is "login"`},
		{"xoauth2 without token", func(c *Config) { c.Auth, c.Username = "XOAUTH2", "u" }, "SMTP_PASSWORD (the OAuth access token) is required"},
		{"credentials without auth", func(c *Config) { c.Username, c.Password = "u", "p" }, "SMTP_AUTH is empty"},
		{"negative rate", func(c *Config) { c.RatePerMinute = -1 }, "SMTP_RATE_PER_MINUTE must not be negative"},
		{"oauth client", oauth("https://login.example/token"), ""},
		{"oauth client to loopback http", oauth("http://127.0.0.1:9/token"), ""},
		{"oauth client over http", oauth("http://login.example/token"), `SMTP_OAUTH_TOKEN_URL "http://login.example/token" must be an https:// URL`},
		{"oauth client and static token", func(c *Config) { oauth("https://login.example/token")(c); c.Password = "tok" }, "both set"},
		{"oauth client without id", func(c *Config) { oauth("https://login.example/token")(c); c.OAuthClientID = "" }, "SMTP_OAUTH_CLIENT_ID is required"},
		{"oauth client without secret", func(c *Config) { oauth("https://login.example/token")(c); c.OAuthClientSecret = "" }, "SMTP_OAUTH_CLIENT_SECRET is required"},
		{"oauth id without url", func(c *Config) { c.Auth, c.Username, c.Password, c.OAuthClientID = "xoauth2", "u", "tok", "app" }, "SMTP_OAUTH_TOKEN_URL is required"},
		{"oauth client with plain", func(c *Config) { oauth("https://login.example/token")(c); c.Auth, c.Password = "plain", "p" }, `SMTP_OAUTH_* settings are set but SMTP_AUTH is "plain"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := good
			tc.edit(&c)
			err := c.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("want valid, got %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("got %v\nwant it to contain %q", err, tc.want)
			}
		})
	}

	// All problems at once, so an operator fixes them in one go.
	err := Config{}.Validate()
	if err == nil || !strings.Contains(err.Error(), "SMTP_HOST") || !strings.Contains(err.Error(), "SMTP_FROM") {
		t.Errorf("empty config: %v", err)
	}
	if _, err := NewSender(Config{}, nil); err == nil || !IsPermanent(err) {
		t.Errorf("NewSender with empty config: %v (want a permanent error)", err)
	}
}

func TestBareMessageID(t *testing.T) {
	for in, want := range map[string]string{
		"<outbox-42@throughgate>": "outbox-42@throughgate",
		"outbox-42@throughgate":   "outbox-42@throughgate",
		" <a.b+c=d@x.y> ":         "a.b+c=d@x.y",
	} {
		if got, err := bareMessageID(in); err != nil || got != want {
			t.Errorf("bareMessageID(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "<>", "no-at", "<a@b>\r\nBcc: x@y", "a b@c", "<<a@b>>", "a@b@c"} {
		if _, err := bareMessageID(bad); err == nil {
			t.Errorf("bareMessageID(%q) accepted", bad)
		}
	}
}
