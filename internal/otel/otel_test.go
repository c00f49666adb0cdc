package otel

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.temporal.io/sdk/interceptor"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// memory returns tracing over an in-memory exporter that has every span
// as soon as it ends.
func memory() (*Tracing, *tracetest.InMemoryExporter) {
	exp := tracetest.NewInMemoryExporter()
	return New(sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))), exp
}

func attrs(s tracetest.SpanStub) map[attribute.Key]attribute.Value {
	m := map[attribute.Key]attribute.Value{}
	for _, a := range s.Attributes {
		m[a.Key] = a.Value
	}
	return m
}

func TestOptionsEnabled(t *testing.T) {
	for _, c := range []struct {
		o    Options
		want bool
	}{
		{Options{}, false},
		{Options{Protocol: ProtocolGRPC}, false},
		{Options{Endpoint: "http://collector:4318"}, true},
		{Options{TracesEndpoint: "http://collector:4318/v1/traces"}, true},
		{Options{Exporter: "otlp"}, true},
		{Options{Exporter: "none", Endpoint: "http://collector:4318"}, false},
	} {
		if got := c.o.Enabled(); got != c.want {
			t.Errorf("%+v: enabled %t, want %t", c.o, got, c.want)
		}
	}
	tr, err := Start(context.Background(), Options{}, quiet)
	if err != nil || tr != nil {
		t.Fatalf("off by default: %v %v", tr, err)
	}
	// Off is a nil *Tracing, and every method is a no-op.
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	if got, end := tr.StartRequest(r); got != r {
		t.Error("StartRequest changed the request with tracing off")
	} else {
		end("/", 200)
	}
	if ints, err := tr.TemporalInterceptors(); ints != nil || err != nil {
		t.Errorf("interceptors with tracing off: %v %v", ints, err)
	}
	if err := tr.Shutdown(context.Background()); err != nil {
		t.Error(err)
	}
}

// A request's server span is named by method and route pattern and says
// no more than the method, route and status: not the path with its ids,
// not the query. It is a root: a caller's traceparent is not continued.
func TestRequestSpan(t *testing.T) {
	tr, exp := memory()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r, end := tr.StartRequest(r)
		if !trace.SpanContextFromContext(r.Context()).IsValid() {
			t.Error("the handler's context has no span")
		}
		status := http.StatusOK
		if strings.HasSuffix(r.URL.Path, "/fail") {
			status = http.StatusInternalServerError
		}
		w.WriteHeader(status)
		end("/api/v1/cases/{caseID}/"+r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:], status)
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	for _, path := range []string{"/api/v1/cases/k3m9x2p4qa/steps?name=Jo+Bloggs", "/api/v1/cases/k3m9x2p4qa/fail"} {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+path, nil)
		req.Header.Set("Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	spans := exp.GetSpans()
	if len(spans) != 2 {
		t.Fatalf("%d spans, want 2", len(spans))
	}
	ok, failed := spans[0], spans[1]
	if ok.Name != "POST /api/v1/cases/{caseID}/steps" || ok.SpanKind != trace.SpanKindServer {
		t.Errorf("span %q kind %v", ok.Name, ok.SpanKind)
	}
	a := attrs(ok)
	if a["http.request.method"].AsString() != "POST" || a["http.route"].AsString() != "/api/v1/cases/{caseID}/steps" ||
		a["http.response.status_code"].AsInt64() != 200 || len(a) != 3 {
		t.Errorf("attributes %v", ok.Attributes)
	}
	if ok.Parent.IsValid() || ok.SpanContext.TraceID().String() == "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Error("the caller's traceparent was continued")
	}
	if failed.Status.Code != codes.Error || ok.Status.Code == codes.Error {
		t.Errorf("statuses: %v, %v", ok.Status, failed.Status)
	}
	for _, s := range spans {
		text := s.Name
		for _, kv := range s.Attributes {
			text += " " + kv.Value.Emit()
		}
		if strings.Contains(text, "k3m9x2p4qa") || strings.Contains(text, "Bloggs") {
			t.Errorf("a path or query reached a span: %s", text)
		}
	}
}

// The Temporal interceptor keeps the workflow id (opaque) but drops the
// update id, which holds a staff id and the client's Idempotency-Key.
func TestTemporalSpansDropTheUpdateID(t *testing.T) {
	tr, exp := memory()
	ints, err := tr.TemporalInterceptors()
	if err != nil || len(ints) != 1 {
		t.Fatalf("%v %v", ints, err)
	}
	if _, ok := ints[0].(interceptor.WorkerInterceptor); !ok {
		t.Error("the interceptor is not also a worker interceptor: workers made from the client would not trace")
	}
	span := startWithoutUpdateID(context.Background(), tr.tp.Tracer("test"), "UpdateWorkflow:act")
	span.SetAttributes(attribute.String("temporalWorkflowID", "case-k3m9"), attribute.String(updateIDKey, "officer-1:act:key-1"))
	span.End()
	got := attrs(exp.GetSpans()[0])
	if _, ok := got[updateIDKey]; ok || got["temporalWorkflowID"].AsString() != "case-k3m9" {
		t.Errorf("attributes %v", got)
	}
}

// On, spans go to the collector's /v1/traces over OTLP/HTTP, at the latest
// when the process shuts tracing down.
func TestExportsToTheCollector(t *testing.T) {
	var mu sync.Mutex
	var got []string
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, r.Method+" "+r.URL.Path+" "+r.Header.Get("Content-Type")+" "+string(body))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer collector.Close()
	tr, err := Start(context.Background(), Options{Endpoint: collector.URL + "/", ServiceName: "throughgate-api", Version: "v1.4.0"}, quiet)
	if err != nil || tr == nil {
		t.Fatalf("%v %v", tr, err)
	}
	_, end := tr.StartRequest(httptest.NewRequest(http.MethodGet, "/healthz", nil))
	end("/healthz", 200)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tr.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || !strings.HasPrefix(got[0], "POST /v1/traces application/x-protobuf") ||
		!strings.Contains(got[0], "GET /healthz") || !strings.Contains(got[0], "throughgate-api") {
		t.Errorf("the collector received %q", got)
	}

	if _, err := Start(context.Background(), Options{Endpoint: collector.URL, Protocol: "http/json"}, quiet); err == nil {
		t.Error("http/json accepted")
	}
	g, err := Start(context.Background(), Options{Exporter: "otlp", Protocol: ProtocolGRPC, Endpoint: "http://127.0.0.1:4317"}, quiet)
	if err != nil || g == nil {
		t.Fatalf("grpc: %v", err)
	}
	_ = g.Shutdown(ctx)
}
