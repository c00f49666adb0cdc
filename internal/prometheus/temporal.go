package prometheus

import (
	"time"

	"github.com/uber-go/tally/v4"
	tallyprom "github.com/uber-go/tally/v4/prometheus"
	"go.temporal.io/sdk/client"
	sdktally "go.temporal.io/sdk/contrib/tally"
)

// Temporal returns the metrics handler to give the Temporal SDK
// (client.Options.MetricsHandler): the SDK's client and worker metrics —
// temporal_request_total, temporal_workflow_task_schedule_to_start_latency_seconds,
// temporal_activity_execution_failed_total, temporal_worker_task_slots_available
// and the rest of the SDK's list — reported into this registry, with the
// SDK's Prometheus names and timers as histograms. stop flushes and stops
// the reporting; call it after the client is closed.
func (r *Registry) Temporal() (h client.MetricsHandler, stop func()) {
	reporter := tallyprom.NewReporter(tallyprom.Options{
		Registerer:       r.reg,
		DefaultTimerType: tallyprom.HistogramTimerType,
		// Tally panics by default when a name comes back with other
		// labels; a metric lost is better than a process lost.
		OnRegisterError: func(err error) { r.logger.Warn("metrics: a Temporal SDK metric could not be registered", "err", err) },
	})
	scope, closer := tally.NewRootScope(tally.ScopeOptions{
		CachedReporter:  reporter,
		Separator:       tallyprom.DefaultSeparator,
		SanitizeOptions: &sdktally.PrometheusSanitizeOptions,
	}, time.Second)
	return sdktally.NewMetricsHandler(sdktally.NewPrometheusNamingScope(scope)), func() { _ = closer.Close() }
}
