package config

import (
	"strings"
	"testing"
)

// Tracing is off by default; the OpenTelemetry variables are read under
// the specification's names, and values this build cannot honour are
// refused at start rather than ignored.
func TestTracingSettings(t *testing.T) {
	c, err := Load("api", nil, env(map[string]string{}))
	if err != nil {
		t.Fatal(err)
	}
	if c.OTelTracesExporter != "" || c.OTelEndpoint != "" || c.OTelTracesEndpoint != "" || c.OTelProtocol != "http/protobuf" {
		t.Errorf("defaults: %q %q %q %q", c.OTelTracesExporter, c.OTelEndpoint, c.OTelTracesEndpoint, c.OTelProtocol)
	}
	c, err = Load("worker", nil, env(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://otel-collector:4317",
		"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "OTEL_TRACES_EXPORTER": "otlp"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.OTelEndpoint != "http://otel-collector:4317" || c.OTelProtocol != "grpc" || c.OTelTracesExporter != "otlp" {
		t.Errorf("got %q %q %q", c.OTelEndpoint, c.OTelProtocol, c.OTelTracesExporter)
	}
	for k, v := range map[string]string{
		"OTEL_TRACES_EXPORTER":               "jaeger",
		"OTEL_EXPORTER_OTLP_PROTOCOL":        "http/json",
		"OTEL_EXPORTER_OTLP_ENDPOINT":        "otel-collector:4318",
		"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "ftp://otel-collector/v1/traces",
	} {
		if _, err := Load("api", nil, env(map[string]string{k: v})); err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("%s=%s: %v", k, v, err)
		}
	}
}
