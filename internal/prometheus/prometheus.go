// Package prometheus is Throughgate's Prometheus instrumentation and the one
// package that imports the Prometheus client. Each process makes one
// Registry, served at /metrics on the operations listener (METRICS_ADDR):
//
//	prometheus.go  the registry, the Go runtime and process collectors, build info, the /metrics handler
//	temporal.go    the Temporal SDK's own metrics (its Tally contrib over Tally's Prometheus reporter)
//	http.go        the HTTP server's requests by chi route pattern (httpserver.RequestObserver)
//	readmodel.go   gauges read from PostgreSQL's read model at scrape time, cached briefly
//
// Every metric is listed, with its labels and meaning, in README.md
// ("Metrics").
package prometheus

import (
	"fmt"
	"log/slog"
	"net/http"
	"runtime"

	prom "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Registry is one process's metrics. A process makes one; tests make as
// many as they like, since nothing is registered globally.
type Registry struct {
	reg    *prom.Registry
	logger *slog.Logger
}

// New returns a registry holding the Go runtime and process metrics and
// throughgate_build_info for version.
func New(version string, logger *slog.Logger) *Registry {
	if logger == nil {
		logger = slog.Default()
	}
	reg := prom.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	build := prom.NewGauge(prom.GaugeOpts{
		Name:        "throughgate_build_info",
		Help:        "Always 1; its labels say which build of Throughgate this process runs.",
		ConstLabels: prom.Labels{"version": version, "goversion": runtime.Version()},
	})
	build.Set(1)
	reg.MustRegister(build)
	return &Registry{reg: reg, logger: logger}
}

// Handler serves the registry's metrics in Prometheus's text format. A
// collector that fails is logged and left out; the rest are still served.
func (r *Registry) Handler() http.Handler {
	return promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{
		ErrorLog:      errorLog{r.logger},
		ErrorHandling: promhttp.ContinueOnError,
		Registry:      r.reg, // promhttp_metric_handler_errors_total
	})
}

// errorLog hands promhttp's errors to the process's logger.
type errorLog struct{ logger *slog.Logger }

func (l errorLog) Println(v ...any) {
	l.logger.Warn("metrics: " + fmt.Sprint(v...))
}
