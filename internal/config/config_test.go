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

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

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
