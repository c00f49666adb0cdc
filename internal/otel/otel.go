// Package otel is Throughgate's OpenTelemetry tracing and the one package
// that imports OpenTelemetry. Tracing is off unless configured; on, a trace
// follows a request from the HTTP server (one server span per request,
// named by its chi route pattern) through the Temporal client's start or
// update of a case's workflow — the trace context travels in the Temporal
// header — to the workflow's update handler and the activities it runs on a
// worker — including the activities the case's main loop runs for an update
// (workflows.SpanKey) — and is sent to an OTLP collector over HTTP or gRPC.
//
// The settings are the OpenTelemetry specification's environment variables
// (OTEL_TRACES_EXPORTER, OTEL_EXPORTER_OTLP_ENDPOINT,
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, OTEL_EXPORTER_OTLP_PROTOCOL, in
// package config's table); the SDK reads the others itself
// (OTEL_EXPORTER_OTLP_HEADERS, _CERTIFICATE, _TIMEOUT, _COMPRESSION,
// OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER,
// OTEL_BSP_*).
//
// No personal data goes into a span: HTTP spans carry the method, the route
// pattern (/api/v1/cases/{caseID}, never the path with its ids) and the
// status code — no query string, no client address, no user agent, no
// header; the Temporal spans carry the workflow, run and activity ids, which
// are opaque, but not the update id (it holds the staff id and the client's
// idempotency key). Baggage is not propagated. The public HTTP server does
// not continue a trace a caller sends (traceparent): each request starts its
// own.
package otel

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	gootel "go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
	"go.temporal.io/sdk/interceptor"

	"github.com/throughgate/throughgate/workflows"
)

// Protocols are the values of OTEL_EXPORTER_OTLP_PROTOCOL this build sends
// with ("http/json" is not implemented by OpenTelemetry's Go exporters).
const (
	ProtocolHTTP = "http/protobuf"
	ProtocolGRPC = "grpc"
)

// Options are the tracing settings.
type Options struct {
	// Exporter is OTEL_TRACES_EXPORTER: "otlp", "none", or "" (otlp when an
	// endpoint is set, else none).
	Exporter string
	// Endpoint is OTEL_EXPORTER_OTLP_ENDPOINT, the collector's base URL
	// (http/protobuf sends traces to its /v1/traces).
	Endpoint string
	// TracesEndpoint is OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, used as it is;
	// it wins over Endpoint.
	TracesEndpoint string
	// Protocol is OTEL_EXPORTER_OTLP_PROTOCOL: ProtocolHTTP ("" too) or
	// ProtocolGRPC.
	Protocol string
	// ServiceName is service.name unless OTEL_SERVICE_NAME says otherwise,
	// e.g. throughgate-api; Version is service.version.
	ServiceName, Version string
}

// Enabled says whether the options turn tracing on.
func (o Options) Enabled() bool {
	return o.Exporter == "otlp" || (o.Exporter == "" && (o.Endpoint != "" || o.TracesEndpoint != ""))
}

// Tracing is a process's tracer provider. A nil *Tracing is tracing off:
// every method is then a no-op.
type Tracing struct {
	tp       trace.TracerProvider
	tracer   trace.Tracer
	shutdown func(context.Context) error
}

// instrumentation names the tracer, as OpenTelemetry asks.
const instrumentation = "github.com/throughgate/throughgate"

// Start sets up tracing as the options say: nil (off) unless they enable
// it. Nothing is dialled here; spans are batched and exported in the
// background, and export failures are logged, never returned to requests.
// Call Shutdown before exit to send the last batch.
func Start(ctx context.Context, o Options, logger *slog.Logger) (*Tracing, error) {
	if !o.Enabled() {
		return nil, nil
	}
	exp, err := exporter(ctx, o)
	if err != nil {
		return nil, err
	}
	res, err := resource.New(ctx, resource.WithTelemetrySDK(),
		resource.WithAttributes(attribute.String("service.name", o.ServiceName), attribute.String("service.version", o.Version)),
		resource.WithFromEnv()) // OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES
	if err != nil && res == nil {
		return nil, fmt.Errorf("OpenTelemetry resource: %w", err)
	}
	if logger != nil {
		gootel.SetErrorHandler(gootel.ErrorHandlerFunc(func(err error) { logger.Warn("tracing: " + err.Error()) }))
	}
	// The sampler is the SDK's default, parent-based always-on, unless
	// OTEL_TRACES_SAMPLER says otherwise.
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	t := New(tp)
	t.shutdown = tp.Shutdown
	return t, nil
}

// exporter is the OTLP span exporter the options name.
func exporter(ctx context.Context, o Options) (sdktrace.SpanExporter, error) {
	switch o.Protocol {
	case "", ProtocolHTTP:
		var opts []otlptracehttp.Option
		if u := o.TracesEndpoint; u != "" {
			opts = append(opts, otlptracehttp.WithEndpointURL(u))
		} else if u := o.Endpoint; u != "" {
			opts = append(opts, otlptracehttp.WithEndpointURL(strings.TrimSuffix(u, "/")+"/v1/traces"))
		}
		return otlptracehttp.New(ctx, opts...)
	case ProtocolGRPC:
		var opts []otlptracegrpc.Option
		if u := o.TracesEndpoint; u != "" {
			opts = append(opts, otlptracegrpc.WithEndpointURL(u))
		} else if u := o.Endpoint; u != "" {
			opts = append(opts, otlptracegrpc.WithEndpointURL(u))
		}
		return otlptracegrpc.New(ctx, opts...)
	}
	return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL must be %s or %s, not %q", ProtocolHTTP, ProtocolGRPC, o.Protocol)
}

// New traces through tp: for tests (an SDK provider over
// tracetest.InMemoryExporter) and for callers with a provider of their own.
func New(tp trace.TracerProvider) *Tracing {
	return &Tracing{tp: tp, tracer: tp.Tracer(instrumentation)}
}

// Shutdown sends the spans not yet exported and stops the exporter, within
// ctx.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if t == nil || t.shutdown == nil {
		return nil
	}
	return t.shutdown(ctx)
}

// ShutdownLater is Shutdown with a ten-second limit, for a defer.
func (t *Tracing) ShutdownLater(logger *slog.Logger) func() {
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := t.Shutdown(ctx); err != nil && logger != nil {
			logger.Warn("tracing: sending the last spans", "err", err)
		}
	}
}

// StartRequest begins the server span of an HTTP request and returns the
// request carrying it (so the Temporal client's spans are its children)
// and the function that ends it once answered, with the request's chi
// route pattern and status code. It implements httpserver.RequestTracer.
//
// The span is named and labelled by method and route pattern only; the
// path, the query and every header are left out. A traceparent the caller
// sends is not continued.
func (t *Tracing) StartRequest(r *http.Request) (*http.Request, func(route string, status int)) {
	if t == nil {
		return r, func(string, int) {}
	}
	method := knownMethod(r.Method)
	ctx, span := t.tracer.Start(r.Context(), "HTTP "+method, trace.WithNewRoot(), trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(attribute.String("http.request.method", method)))
	return r.WithContext(ctx), func(route string, status int) {
		if status == 0 {
			status = http.StatusOK
		}
		span.SetName(method + " " + route)
		span.SetAttributes(attribute.String("http.route", route), attribute.Int("http.response.status_code", status))
		if status >= 500 {
			span.SetStatus(codes.Error, http.StatusText(status))
		}
		span.End()
	}
}

// knownMethod keeps the method to the standard ones: a client may send any
// word as a method (the semantic conventions' _OTHER).
func knownMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "_OTHER"
}

// TemporalInterceptors are the Temporal client's interceptors for tracing
// (client.Options.Interceptors): none when tracing is off. The one
// interceptor is also a worker interceptor, and the SDK applies a client's
// worker interceptors to every worker made from that client, so a worker
// traces the workflows and activities it runs with no worker option (the
// SDK asks that the same interceptor not be set in both).
func (t *Tracing) TemporalInterceptors() ([]interceptor.ClientInterceptor, error) {
	if t == nil {
		return nil, nil
	}
	i, err := temporalotel.NewTracingInterceptor(temporalotel.TracerOptions{
		Tracer:            t.tp.Tracer("temporal-sdk-go"),
		TextMapPropagator: propagation.TraceContext{},
		DisableBaggage:    true,
		SpanStarter:       startWithoutUpdateID,
		// A key the workflows know, so a case's main loop can start the
		// activities an update causes under that update's span.
		SpanContextKey: workflows.SpanKey{},
	})
	if err != nil {
		return nil, errors.Join(errors.New("the Temporal tracing interceptor"), err)
	}
	return []interceptor.ClientInterceptor{i}, nil
}

// updateIDKey is the attribute the Temporal interceptor gives an update's
// span: Throughgate's update ids are the staff id, the update and the
// client's Idempotency-Key, none of which a trace needs.
const updateIDKey = "temporalUpdateID"

// startWithoutUpdateID starts the Temporal interceptor's spans as it would,
// but drops the update id when the interceptor sets it.
func startWithoutUpdateID(ctx context.Context, t trace.Tracer, name string, opts ...trace.SpanStartOption) trace.Span {
	_, span := t.Start(ctx, name, opts...)
	return withoutUpdateID{span}
}

type withoutUpdateID struct{ trace.Span }

func (s withoutUpdateID) SetAttributes(kv ...attribute.KeyValue) {
	kept := kv[:0:0]
	for _, a := range kv {
		if a.Key != updateIDKey {
			kept = append(kept, a)
		}
	}
	s.Span.SetAttributes(kept...)
}
