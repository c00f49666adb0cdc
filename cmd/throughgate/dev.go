package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/throughgate/throughgate/internal/config"
	"github.com/throughgate/throughgate/internal/devstack"
)

func runDev(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
	start := time.Now()
	d, err := devstack.Start(ctx, cfg, logger)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, `
Throughgate is running (ready in %.1fs). Ctrl-C stops it; data stays in %s.
  pages and API   %s
  readiness       %s/readyz
  mailbox         %s/dev/mail
  Temporal        %s%s
`, time.Since(start).Seconds(), cfg.DataDir, d.URL, d.URL, d.URL, d.Temporal.HostPort(), uiLine(d.Temporal.UIAddress()))
	fmt.Fprint(os.Stderr, signInHelp(d.URL))
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
