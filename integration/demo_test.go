package integration

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/throughgate/throughgate/internal/app"
	"github.com/throughgate/throughgate/internal/devsmtp"
	"github.com/throughgate/throughgate/internal/devstack"
	"github.com/throughgate/throughgate/internal/postgres"
)

// TestDemoOnlyWhenAskedFor: the demonstration's accounts (with their
// published password), the development SMTP server and its mailbox exist
// only in a demonstration, which listens on loopback only; a single-node
// install (here DEMO=false) has none of them and sends through the SMTP
// relay it is given.
func TestDemoOnlyWhenAskedFor(t *testing.T) {
	ctx := context.Background()
	// A demonstration on a non-loopback address is refused before anything starts.
	bad := devConfig(t, filepath.Join(tempDir(t), "data"), "--demo", "true", "--http-addr", "0.0.0.0:0")
	sctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if d, err := devstack.Start(sctx, bad, app.NewLogger("warn", "text")); err == nil || !strings.Contains(err.Error(), "loopback") {
		if d != nil {
			_ = d.Stop()
		}
		t.Fatalf("a demo on 0.0.0.0 started (%v)", err)
	}

	relay, err := devsmtp.Start(devsmtp.Options{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer relay.Close()
	host, port, _ := net.SplitHostPort(relay.Addr())
	d := startDev(t, devConfig(t, filepath.Join(tempDir(t), "data"), "--demo", "false",
		"--smtp-host", host, "--smtp-port", port, "--smtp-tls", "none", "--smtp-allow-insecure", "true", "--smtp-auth", ""))
	defer d.Stop()
	if d.Demo || d.SMTP != nil {
		t.Fatalf("DEMO=false: demo %v, development SMTP server %v", d.Demo, d.SMTP != nil)
	}
	if _, err := d.DB.StaffMember(ctx, "officer-1"); !errors.Is(err, postgres.ErrNotFound) {
		t.Errorf("a demo account exists without a demo: %v", err)
	}
	resp, err := http.Get(d.URL + "/dev/mail")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		t.Error("the mailbox is served without a demo")
	}
	ready, err := http.Get(d.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	ready.Body.Close()
	if ready.StatusCode != http.StatusOK {
		t.Errorf("readyz %d with the given SMTP relay at %s", ready.StatusCode, relay.Addr())
	}
}
