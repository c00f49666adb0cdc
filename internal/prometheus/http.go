package prometheus

import (
	"net/http"
	"strconv"
	"time"

	prom "github.com/prometheus/client_golang/prometheus"
)

// HTTP counts and times the HTTP server's requests by chi route pattern
// (never the raw path, so the number of series is bounded and no
// identifier typed into a URL becomes a label). It implements
// httpserver.RequestObserver.
type HTTP struct {
	requests *prom.CounterVec
	duration *prom.HistogramVec
}

// HTTP registers the request metrics and returns what records them.
func (r *Registry) HTTP() *HTTP {
	h := &HTTP{
		requests: prom.NewCounterVec(prom.CounterOpts{
			Name: "throughgate_http_requests_total",
			Help: "HTTP requests answered, by method, chi route pattern and status code (errors: code=~\"5..\").",
		}, []string{"method", "route", "code"}),
		duration: prom.NewHistogramVec(prom.HistogramOpts{
			Name:    "throughgate_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by method and chi route pattern.",
			Buckets: prom.DefBuckets,
		}, []string{"method", "route"}),
	}
	r.reg.MustRegister(h.requests, h.duration)
	return h
}

// ObserveRequest records one answered request.
func (h *HTTP) ObserveRequest(method, route string, status int, elapsed time.Duration) {
	method = knownMethod(method)
	if status == 0 {
		status = http.StatusOK // the handler wrote nothing: net/http sent 200
	}
	h.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	h.duration.WithLabelValues(method, route).Observe(elapsed.Seconds())
}

// knownMethod keeps the method label to the standard methods: a client
// may send any word as a method.
func knownMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "other"
}
