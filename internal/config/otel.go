package config

import (
	"fmt"
	"net/url"
)

// checkTracing checks the OpenTelemetry settings: the values the
// specification defines that this build implements, and endpoints that are
// http or https URLs.
func (c *Config) checkTracing() error {
	switch c.OTelTracesExporter {
	case "", "otlp", "none":
	default:
		return fmt.Errorf("OTEL_TRACES_EXPORTER must be otlp or none (or empty: otlp when an endpoint is set), not %q", c.OTelTracesExporter)
	}
	switch c.OTelProtocol {
	case "http/protobuf", "grpc":
	default:
		return fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL must be http/protobuf or grpc, not %q", c.OTelProtocol)
	}
	for _, e := range []struct{ name, v string }{{"OTEL_EXPORTER_OTLP_ENDPOINT", c.OTelEndpoint}, {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", c.OTelTracesEndpoint}} {
		if e.v == "" {
			continue
		}
		if u, err := url.Parse(e.v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
			return fmt.Errorf("%s must be an http:// or https:// URL such as http://otel-collector:4318, not %q", e.name, e.v)
		}
	}
	return nil
}
