package httpserver

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/throughgate/throughgate/internal/prometheus"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// Requests are counted and timed by chi route pattern, never by raw path,
// and the operations listener serves them at /metrics beside /healthz
// (with the version) and /readyz.
func TestRequestMetricsOnTheOperationsListener(t *testing.T) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	reg := prometheus.New("v1.4.0", quiet)
	public := httptest.NewServer(New(Deps{Logger: quiet, Version: "v1.4.0", Metrics: reg.HTTP()}))
	defer public.Close()
	checks := []Check{{Name: "postgres", Fn: func(context.Context) error { return nil }},
		{Name: "smtp", Fn: func(context.Context) error { return errors.New("dial tcp 10.20.30.40:587: connection refused") }}}
	ops := httptest.NewServer(Ops(reg.Handler(), checks, "v1.4.0", quiet))
	defer ops.Close()

	for path, want := range map[string]int{"/static/app.css": 200, "/static/k3m9x2p4qa.css": 404, "/api/v1/openapi.json": 200,
		"/no/such/page": 404, "/healthz": 200} {
		if code, _ := get(t, public.URL+path); code != want {
			t.Errorf("GET %s: %d, want %d", path, code, want)
		}
	}
	code, body := get(t, public.URL+"/healthz")
	var live Liveness
	if err := json.Unmarshal([]byte(body), &live); err != nil || code != 200 || live != (Liveness{Status: "alive", Version: "v1.4.0"}) {
		t.Errorf("/healthz: %d %s", code, body)
	}
	if code, _ := get(t, public.URL+"/metrics"); code != http.StatusNotFound {
		t.Errorf("/metrics on the public port: %d, want 404", code)
	}

	code, body = get(t, ops.URL+"/metrics")
	if code != 200 {
		t.Fatalf("/metrics: %d", code)
	}
	for _, line := range []string{
		`throughgate_http_requests_total{code="200",method="GET",route="/static/{file}"} 1`,
		`throughgate_http_requests_total{code="404",method="GET",route="/static/{file}"} 1`,
		`throughgate_http_requests_total{code="200",method="GET",route="/api/v1/openapi.json"} 1`,
		`throughgate_http_requests_total{code="404",method="GET",route="unmatched"} 2`, // /no/such/page and /metrics
		`throughgate_http_requests_total{code="200",method="GET",route="/healthz"} 2`,
		`throughgate_http_request_duration_seconds_count{method="GET",route="/static/{file}"} 2`,
		`throughgate_build_info{goversion=`,
	} {
		if !strings.Contains(body, line) {
			t.Errorf("/metrics lacks %s\n%s", line, body)
		}
	}
	if strings.Contains(body, "k3m9x2p4qa") {
		t.Error("a raw path became a label")
	}

	if code, body := get(t, ops.URL+"/healthz"); code != 200 || !strings.Contains(body, `"version":"v1.4.0"`) {
		t.Errorf("ops /healthz: %d %s", code, body)
	}
	code, body = get(t, ops.URL+"/readyz")
	var ready Readiness
	if err := json.Unmarshal([]byte(body), &ready); err != nil || code != http.StatusServiceUnavailable || ready.Ready ||
		len(ready.Dependencies) != 2 || ready.Dependencies[1].State != "down" || strings.Contains(body, "10.20.30.40") {
		t.Errorf("ops /readyz: %d %s", code, body)
	}
}
