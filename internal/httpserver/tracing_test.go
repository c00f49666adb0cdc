package httpserver

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/throughgate/throughgate/internal/otel"
)

// Every request gets a server span named by its chi route pattern; the
// raw path and the query never reach a span.
func TestRequestTracing(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := httptest.NewServer(New(Deps{Logger: quiet, Trace: otel.New(sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp)))}))
	defer srv.Close()
	for path, want := range map[string]int{"/static/k3m9x2p4qa.css?who=Jo+Bloggs": 404, "/api/v1/openapi.json": 200, "/no/such/k3m9x2p4qa": 404} {
		if code, _ := get(t, srv.URL+path); code != want {
			t.Errorf("GET %s: %d, want %d", path, code, want)
		}
	}
	names := map[string]bool{}
	for _, s := range exp.GetSpans() {
		names[s.Name] = true
		if s.SpanKind != trace.SpanKindServer {
			t.Errorf("%s: kind %v", s.Name, s.SpanKind)
		}
		text := s.Name
		for _, a := range s.Attributes {
			text += " " + string(a.Key) + "=" + a.Value.Emit()
		}
		if strings.Contains(text, "k3m9x2p4qa") || strings.Contains(text, "Bloggs") || strings.Contains(text, "who") {
			t.Errorf("a path or query reached a span: %s", text)
		}
		if !strings.Contains(text, "http.route=") || !strings.Contains(text, "http.response.status_code=") {
			t.Errorf("span lacks route or status: %s", text)
		}
	}
	for _, want := range []string{"GET /static/{file}", "GET /api/v1/openapi.json", "GET unmatched"} {
		if !names[want] {
			t.Errorf("no span %q in %v", want, names)
		}
	}
}
