package prometheus

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"

	"github.com/throughgate/throughgate/internal/postgres"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// scrape GETs /metrics from an HTTP server over the registry's handler and
// parses the text format.
func scrape(t *testing.T, r *Registry) (string, map[string]*familyValues) {
	t.Helper()
	srv := httptest.NewServer(r.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", resp.StatusCode, body)
	}
	var parser expfmt.TextParser
	families, err := parser.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("%v:\n%s", err, body)
	}
	out := map[string]*familyValues{}
	for name, f := range families {
		fv := &familyValues{typ: f.GetType().String(), values: map[string]float64{}}
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			key := strings.Join(labels, ",")
			switch {
			case m.GetCounter() != nil:
				fv.values[key] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				fv.values[key] = m.GetGauge().GetValue()
			case m.GetHistogram() != nil:
				fv.values[key] = float64(m.GetHistogram().GetSampleCount())
			}
		}
		out[name] = fv
	}
	return string(body), out
}

// familyValues is one metric's type and its values by label set ("" for
// none; a histogram's value is its count).
type familyValues struct {
	typ    string
	values map[string]float64
}

func value(t *testing.T, fams map[string]*familyValues, name, labels string) float64 {
	t.Helper()
	f, ok := fams[name]
	if !ok {
		t.Fatalf("no metric %s", name)
	}
	v, ok := f.values[labels]
	if !ok {
		t.Fatalf("%s has no series {%s}: %v", name, labels, f.values)
	}
	return v
}

func TestBuildInfoAndRuntime(t *testing.T) {
	_, fams := scrape(t, New("v1.4.0", quiet))
	for labels := range fams["throughgate_build_info"].values {
		if !strings.Contains(labels, "version=v1.4.0") {
			t.Errorf("build info labels %q", labels)
		}
	}
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes"} {
		if _, ok := fams[name]; !ok {
			t.Errorf("no %s", name)
		}
	}
}

func TestHTTPRequests(t *testing.T) {
	r := New("test", quiet)
	h := r.HTTP()
	h.ObserveRequest("GET", "/api/v1/cases/{id}", 200, 30*time.Millisecond)
	h.ObserveRequest("GET", "/api/v1/cases/{id}", 200, 10*time.Millisecond)
	h.ObserveRequest("POST", "/api/v1/cases", 500, time.Second)
	h.ObserveRequest("BREW", "unmatched", 0, time.Millisecond)
	_, fams := scrape(t, r)
	if v := value(t, fams, "throughgate_http_requests_total", "code=200,method=GET,route=/api/v1/cases/{id}"); v != 2 {
		t.Errorf("GET cases/{id}: %v", v)
	}
	if v := value(t, fams, "throughgate_http_requests_total", "code=500,method=POST,route=/api/v1/cases"); v != 1 {
		t.Errorf("POST cases 500: %v", v)
	}
	if v := value(t, fams, "throughgate_http_requests_total", "code=200,method=other,route=unmatched"); v != 1 {
		t.Errorf("odd method: %v", v)
	}
	if v := value(t, fams, "throughgate_http_request_duration_seconds", "method=GET,route=/api/v1/cases/{id}"); v != 2 {
		t.Errorf("duration count: %v", v)
	}
	if fams["throughgate_http_request_duration_seconds"].typ != "HISTOGRAM" {
		t.Errorf("duration is a %s", fams["throughgate_http_request_duration_seconds"].typ)
	}
}

// The Temporal SDK's metrics arrive under its Prometheus names: counters
// with _total, timers as histograms in seconds.
func TestTemporalSDKMetrics(t *testing.T) {
	r := New("test", quiet)
	h, stop := r.Temporal()
	tagged := h.WithTags(map[string]string{"namespace": "default", "operation": "StartWorkflowExecution"})
	tagged.Counter("temporal_request").Inc(3)
	tagged.Timer("temporal_request_latency").Record(20 * time.Millisecond)
	h.Gauge("temporal_num_pollers").Update(2)
	stop() // flushes to the reporter
	_, fams := scrape(t, r)
	if v := value(t, fams, "temporal_request_total", "namespace=default,operation=StartWorkflowExecution"); v != 3 {
		t.Errorf("temporal_request_total %v", v)
	}
	if f := fams["temporal_request_latency_seconds"]; f == nil || f.typ != "HISTOGRAM" {
		t.Errorf("temporal_request_latency_seconds: %+v", f)
	}
	if v := value(t, fams, "temporal_num_pollers", ""); v != 2 {
		t.Errorf("temporal_num_pollers %v", v)
	}
}

func TestReadModelGauges(t *testing.T) {
	r := New("test", quiet)
	var reads atomic.Int32
	fail := false
	r.ReadModel(func(ctx context.Context, now time.Time) (postgres.ReadModelMetrics, error) {
		reads.Add(1)
		if fail {
			return postgres.ReadModelMetrics{}, errors.New("connection refused")
		}
		return postgres.ReadModelMetrics{OpenCases: map[string]int{"identified": 4, "release": 1}, StalledCases: 2, OverdueSteps: 7,
			OutboxPending: 3, OutboxOldestPending: 90 * time.Second, OutboxUndeliverable: 1}, nil
	}, time.Hour)
	body, fams := scrape(t, r)
	for _, c := range []struct {
		name, labels string
		want         float64
	}{
		{"throughgate_read_model_up", "", 1},
		{"throughgate_cases_open", "stage=identified", 4},
		{"throughgate_cases_open", "stage=release", 1},
		{"throughgate_cases_stalled", "", 2},
		{"throughgate_steps_overdue", "", 7},
		{"throughgate_outbox_pending_emails", "", 3},
		{"throughgate_outbox_oldest_pending_age_seconds", "", 90},
		{"throughgate_outbox_undeliverable_emails", "", 1},
	} {
		if v := value(t, fams, c.name, c.labels); v != c.want {
			t.Errorf("%s{%s} = %v, want %v", c.name, c.labels, v, c.want)
		}
	}
	if !strings.Contains(body, "# TYPE throughgate_cases_open gauge") {
		t.Errorf("throughgate_cases_open is not a gauge:\n%s", body)
	}
	// A second scrape within the TTL reads nothing.
	scrape(t, r)
	if n := reads.Load(); n != 1 {
		t.Errorf("%d reads for two scrapes within the TTL", n)
	}
}

// When the database cannot be read, up is 0, the other gauges are absent
// rather than stale, and the rest of /metrics is still served.
func TestReadModelFailure(t *testing.T) {
	r := New("test", quiet)
	r.ReadModel(func(context.Context, time.Time) (postgres.ReadModelMetrics, error) {
		return postgres.ReadModelMetrics{}, errors.New("connection refused")
	}, 0)
	_, fams := scrape(t, r)
	if v := value(t, fams, "throughgate_read_model_up", ""); v != 0 {
		t.Errorf("up %v", v)
	}
	if _, ok := fams["throughgate_cases_open"]; ok {
		t.Error("stale gauges reported")
	}
	if _, ok := fams["throughgate_build_info"]; !ok {
		t.Error("the rest of /metrics is missing")
	}
}
