//go:build dev

// The dev stack: built only with -tags dev (`make run`), since it links the
// embedded Temporal server. nodev.go stands in for this file otherwise.

package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/throughgate/throughgate/internal/config"
	"github.com/throughgate/throughgate/internal/devstack"
)

// buildNote ends `throughgate version`'s line.
const buildNote = ", with the dev stack"

// devMemoryLimit is the soft limit on the Go runtime's memory in
// throughgate dev, unless GOMEMLIMIT sets another. The process holds the
// embedded Temporal server, the worker and the API; their caches are bounded
// (README, "Memory"), but between collections the heap may grow to twice
// what is live (GOGC=100), and more when work arrives all at once, as at the
// 09:00 peak. Near the limit the collector runs sooner instead, at the cost
// of processor time (Go caps it at half the processor); it is a soft limit,
// never an out-of-memory error.
const devMemoryLimit = 768 << 20

func runDev(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
	start := time.Now()
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(devMemoryLimit)
	}
	d, err := devstack.Start(ctx, cfg, logger)
	if err != nil {
		return err
	}
	mailbox := "\n  mailbox         " + d.URL + "/dev/mail"
	if !d.Demo {
		mailbox = "" // a real install: emails go to SMTP_HOST
	}
	fmt.Fprintf(os.Stderr, `
Throughgate is running (ready in %.1fs). Ctrl-C stops it; data stays in %s.
  pages and API   %s
  readiness       %s/readyz%s
  Temporal        %s%s%s%s
`, time.Since(start).Seconds(), cfg.DataDir, d.URL, d.URL, mailbox, d.Temporal.HostPort(), uiLine(d.Temporal.UIAddress()), metricsLine(d.MetricsURL), pgLine(d))
	if d.Demo {
		fmt.Fprint(os.Stderr, signInHelp(d.URL))
	} else {
		fmt.Fprintln(os.Stderr, "No demonstration accounts (DATABASE_URL without DEMO=true): sign in as the staff your administrator created.")
	}
	select {
	case <-ctx.Done():
	case err := <-d.Served():
		logger.Error("http server stopped", "err", err)
	}
	fmt.Fprintln(os.Stderr, "stopping…")
	return d.Stop()
}

func uiLine(addr string) string {
	if addr == "" {
		return ""
	}
	return "\n  Temporal UI     " + addr
}

func metricsLine(url string) string {
	if url == "" {
		return ""
	}
	return "\n  metrics         " + url + "/metrics"
}

// pgLine says where the private PostgreSQL keeps its data: DATA_DIR/postgres,
// or as root, when the postgres user cannot reach DATA_DIR, the place under
// /var/tmp/throughgate-0/ that DATA_DIR/postgres links to.
func pgLine(d *devstack.Dev) string {
	if d.PG == nil {
		return ""
	}
	return fmt.Sprintf("\n  PostgreSQL      %s:%d, data in %s", d.PG.Host(), d.PG.Port(), d.PG.Dir())
}

// signInHelp tells a developer how to sign in as each demonstration account.
func signInHelp(url string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\nDemo accounts (password %q for each; sign in with the email or the staff id):\n", devstack.DemoPassword)
	for _, a := range devstack.DemoAccounts {
		fmt.Fprintf(&b, "  %-10s %-30s %s\n", a.ID, a.Email, a.Role)
	}
	fmt.Fprintf(&b, `Sign in and call the API:
  curl -c cookies -H 'Content-Type: application/json' -d '{"login":"officer-1","password":"%s"}' %s/api/v1/auth/login
  curl -b cookies %s/api/v1/cases
or make a token once signed in (POST %s/api/v1/tokens) and send it as Authorization: Bearer.
The API is described at %s/api/v1/openapi.json.

`, devstack.DemoPassword, url, url, url, url)
	return b.String()
}
