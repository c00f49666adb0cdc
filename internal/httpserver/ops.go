package httpserver

import (
	"context"
	"log/slog"
	"net/http"
)

// Ops is the handler of the operations listener (METRICS_ADDR), kept off
// the public port: Prometheus's /metrics, and /healthz and /readyz for the
// probes of a process, such as the worker, that serves no other HTTP.
// /readyz answers as on the public port, without the failures' text; each
// failing check is logged instead, so an operator can see why.
func Ops(metrics http.Handler, checks []Check, version string, logger *slog.Logger) http.Handler {
	if logger == nil {
		logger = slog.Default()
	}
	logged := make([]Check, len(checks))
	for i, c := range checks {
		logged[i] = Check{Name: c.Name, Fn: func(ctx context.Context) error {
			err := c.Fn(ctx)
			if err != nil {
				logger.Warn("not ready", "dependency", c.Name, "err", err)
			}
			return err
		}}
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics)
	mux.Handle("GET /healthz", healthz(version))
	mux.Handle("GET /readyz", readyz(logged, nil))
	return mux
}
