package config

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/throughgate/throughgate/resettlement"
)

// env stands in for os.LookupEnv: a key present in m is set, even to "".
func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestLoadPrecedenceAndDefaults(t *testing.T) {
	c, err := Load("dev", []string{"--http-addr", "127.0.0.1:9000"}, env(map[string]string{"HTTP_ADDR": "127.0.0.1:7000", "PG_PORT": "6000"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTPAddr != "127.0.0.1:9000" || c.PGPort != 6000 || c.TemporalPort != 7233 || c.BaseURL != "http://127.0.0.1:9000" {
		t.Errorf("got %+v", c)
	}
	if !filepath.IsAbs(c.DataDir) {
		t.Errorf("data dir %q not absolute", c.DataDir)
	}
}

// A variable set to the empty string means empty, not "use the default":
// SMTP_AUTH= selects no AUTH, while an unset SMTP_AUTH keeps plain.
func TestEmptyVariableMeansEmpty(t *testing.T) {
	c, err := Load("worker", nil, env(map[string]string{"SMTP_AUTH": "", "SMTP_FROM": ""}))
	if err != nil {
		t.Fatal(err)
	}
	if c.SMTPAuth != "" || c.SMTPFrom != "" {
		t.Errorf("SMTP_AUTH %q, SMTP_FROM %q: want both empty", c.SMTPAuth, c.SMTPFrom)
	}
	c, err = Load("worker", nil, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.SMTPAuth != "plain" || c.SMTPFrom == "" {
		t.Errorf("unset: SMTP_AUTH %q, SMTP_FROM %q: want the defaults", c.SMTPAuth, c.SMTPFrom)
	}
	// An empty number is an error, not silently the default.
	if _, err := Load("worker", nil, env(map[string]string{"SMTP_PORT": ""})); err == nil || !strings.Contains(err.Error(), `SMTP_PORT must be a whole number, not ""`) {
		t.Errorf("empty SMTP_PORT: %v", err)
	}
}

// The Temporal client's settings are the SDK's names; TEMPORAL_TLS takes
// the SDK's spellings of true and false.
func TestTemporalSettings(t *testing.T) {
	c, err := Load("worker", nil, env(map[string]string{
		"TEMPORAL_ADDRESS": "eu-west-2.aws.api.temporal.io:7233", "TEMPORAL_NAMESPACE": "throughgate.a1b2c",
		"TEMPORAL_API_KEY": "key-123", "TEMPORAL_TLS": "1"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.TemporalAddress != "eu-west-2.aws.api.temporal.io:7233" || c.TemporalNamespace != "throughgate.a1b2c" || c.TemporalAPIKey != "key-123" || c.TemporalTLS != "true" {
		t.Errorf("got %+v", c)
	}
	var b bytes.Buffer
	c.Print(&b, "worker")
	if strings.Contains(b.String(), "key-123") {
		t.Errorf("API key printed:\n%s", b.String())
	}
	c, err = Load("api", []string{"--temporal-tls", "FALSE"}, env(nil))
	if err != nil || c.TemporalTLS != "false" {
		t.Errorf("--temporal-tls FALSE: %q, %v", c.TemporalTLS, err)
	}
}

func TestLoadRejectsBadSettings(t *testing.T) {
	tests := []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--pg-port", "abc"}, nil, `PG_PORT must be a whole number, not "abc"`},
		{nil, map[string]string{"TEMPORAL_STORE": "mysql"}, "TEMPORAL_STORE must be postgres or sqlite"},
		{nil, map[string]string{"HTTP_ADDR": "8080"}, "HTTP_ADDR \"8080\" must be host:port"},
		{[]string{"--no-such-flag"}, nil, "flag provided but not defined: -no-such-flag"},
		{nil, map[string]string{"DATABASE_URL": "mysql://x"}, "DATABASE_URL must be a postgres:// URL"},
		{nil, map[string]string{"LOG_LEVEL": "loud"}, "LOG_LEVEL must be"},
		{[]string{"extra"}, nil, `unexpected argument "extra"`},
		{nil, map[string]string{"LOG_FORMAT": "xml"}, `LOG_FORMAT must be text or json, not "xml"`},
		{nil, map[string]string{"METRICS_ADDR": "9090"}, `METRICS_ADDR "9090" must be host:port`},
		{nil, map[string]string{"TEMPORAL_TLS": "yes"}, `TEMPORAL_TLS must be true or false`},
		{nil, map[string]string{"TEMPORAL_TLS_CLIENT_CERT_PATH": "/tls/tls.crt"}, "TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH go together"},
		{nil, map[string]string{"TEMPORAL_TLS_CERT": "/tls/tls.crt"}, "TEMPORAL_TLS_CERT is now called TEMPORAL_TLS_CLIENT_CERT_PATH"},
		{nil, map[string]string{"TEMPORAL_TLS_CA": ""}, "TEMPORAL_TLS_CA is now called TEMPORAL_TLS_SERVER_CA_CERT_PATH"},
	}
	for _, tt := range tests {
		_, err := Load("dev", tt.args, env(tt.env))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v %v: %v, want %q", tt.args, tt.env, err, tt.want)
		}
	}
}

func TestPrintMasksSecrets(t *testing.T) {
	c, err := Load("api", nil, env(map[string]string{"DATABASE_URL": "postgres://tg:s3cret@db:5432/tg", "SMTP_PASSWORD": "hunter2"}))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	c.Print(&b, "api")
	out := b.String()
	if strings.Contains(out, "s3cret") || strings.Contains(out, "hunter2") {
		t.Errorf("secret printed:\n%s", out)
	}
	if !strings.Contains(out, "postgres://tg:xxxxx@db:5432/tg") || strings.Contains(out, "PG_PORT") {
		t.Errorf("unexpected banner:\n%s", out)
	}
}

func TestPolicyFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "p.json")
	os.WriteFile(good, []byte(`{"grace": {"duration": "5s"}, "escalations": [{"duration": "3s"}, {"duration": "6s"}]}`), 0o600)
	c, err := Load("dev", []string{"--policy-file", good}, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Policy.Grace != (resettlement.Offset{Duration: resettlement.Duration(5 * time.Second)}) || c.Policy.StallAfter.WorkingDays != 10 {
		t.Errorf("policy %+v", c.Policy)
	}
	if c.Policy.Backstop != resettlement.DefaultPolicy().Backstop || c.Policy.Backstop == 0 {
		t.Errorf("a file without a backstop: %s, want the default's", c.Policy.Backstop.Std())
	}
	backstop := filepath.Join(dir, "backstop.json")
	os.WriteFile(backstop, []byte(`{"backstop": "1s"}`), 0o600)
	if c, err := Load("dev", []string{"--policy-file", backstop}, env(nil)); err != nil || c.Policy.Backstop.Std() != time.Second {
		t.Errorf("backstop 1s: %v, %v", c.Policy.Backstop.Std(), err)
	}
	os.WriteFile(backstop, []byte(`{"backstop": "2h"}`), 0o600)
	if _, err := Load("dev", []string{"--policy-file", backstop}, env(nil)); err == nil || !strings.Contains(err.Error(), "policy.backstop") {
		t.Errorf("backstop 2h: %v", err)
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"grase": {"days": 1}}`), 0o600)
	if _, err := Load("dev", []string{"--policy-file", bad}, env(nil)); err == nil || !strings.Contains(err.Error(), `unknown field "grase"`) {
		t.Errorf("misspelt field: %v", err)
	}
}

// The README's configuration table is the one MarkdownTable writes.
func TestREADMEListsEverySetting(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	MarkdownTable(&want)
	if !strings.Contains(string(b), want.String()) {
		t.Error("README.md's configuration table is out of date: replace it with the output of `go run ./cmd/throughgate help --markdown`")
	}
}
