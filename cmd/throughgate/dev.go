package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/throughgate/throughgate/internal/config"
	"github.com/throughgate/throughgate/internal/stack"
)

func runDev(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
	start := time.Now()
	d, err := stack.StartDev(ctx, cfg, logger)
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
