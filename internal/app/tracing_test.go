package app

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	updatepb "go.temporal.io/api/update/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/interceptor"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/grpc"

	"github.com/throughgate/throughgate/internal/otel"
)

// frontend is a Temporal frontend that answers just what a client needs
// to start a workflow and send it an update, and keeps the headers it was
// sent.
type frontend struct {
	workflowservice.UnimplementedWorkflowServiceServer
	mu                        sync.Mutex
	startHeader, updateHeader *commonpb.Header
}

func (f *frontend) GetSystemInfo(context.Context, *workflowservice.GetSystemInfoRequest) (*workflowservice.GetSystemInfoResponse, error) {
	return &workflowservice.GetSystemInfoResponse{Capabilities: &workflowservice.GetSystemInfoResponse_Capabilities{}}, nil
}

func (f *frontend) StartWorkflowExecution(_ context.Context, req *workflowservice.StartWorkflowExecutionRequest) (*workflowservice.StartWorkflowExecutionResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.startHeader = req.GetHeader()
	return &workflowservice.StartWorkflowExecutionResponse{RunId: "run-1", Started: true}, nil
}

func (f *frontend) UpdateWorkflowExecution(_ context.Context, req *workflowservice.UpdateWorkflowExecutionRequest) (*workflowservice.UpdateWorkflowExecutionResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.updateHeader = req.GetRequest().GetInput().GetHeader()
	result, _ := converter.GetDefaultDataConverter().ToPayloads("done")
	return &workflowservice.UpdateWorkflowExecutionResponse{
		UpdateRef: &updatepb.UpdateRef{WorkflowExecution: req.GetWorkflowExecution(), UpdateId: req.GetRequest().GetMeta().GetUpdateId()},
		Outcome:   &updatepb.Outcome{Value: &updatepb.Outcome_Success{Success: result}},
		Stage:     enumspb.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED,
	}, nil
}

// traceparent reads the trace context the tracing interceptor wrote into a
// Temporal header.
func traceparent(t *testing.T, h *commonpb.Header) string {
	t.Helper()
	p, ok := h.GetFields()["_tracer-data"]
	if !ok {
		t.Fatalf("no trace context in the header: %v", h)
	}
	var data map[string]string
	if err := converter.GetDefaultDataConverter().FromPayload(p, &data); err != nil {
		t.Fatal(err)
	}
	return data["traceparent"]
}

// One trace follows a request from the HTTP server, through the Temporal
// client DialTemporal builds (the trace context travels in the start's
// and the update's headers, as the frontend receives them), into the
// workflow and the activity a worker with the same interceptor runs.
func TestTraceFromRequestThroughTemporal(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tracing := otel.New(sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp)))
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))

	fe := &frontend{}
	gs := grpc.NewServer()
	workflowservice.RegisterWorkflowServiceServer(gs, fe)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go gs.Serve(ln)
	defer gs.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := DialTemporal(ctx, client.Options{HostPort: ln.Addr().String(), Namespace: "default"}, nil, tracing, quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	// What httpserver's middleware does around every request.
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r, end := tracing.StartRequest(r)
		defer end("/api/v1/cases/{caseID}/actions", http.StatusOK)
		if _, err := c.ExecuteWorkflow(r.Context(), client.StartWorkflowOptions{ID: "case-k3m9", TaskQueue: "q"}, "ReleaseCase"); err != nil {
			t.Error(err)
		}
		u, err := c.UpdateWorkflow(r.Context(), client.UpdateWorkflowOptions{WorkflowID: "case-k3m9", UpdateName: "act",
			UpdateID: "officer-1:act:key-1", WaitForStage: client.WorkflowUpdateStageCompleted})
		if err == nil {
			var res string
			err = u.Get(r.Context(), &res)
		}
		if err != nil {
			t.Error(err)
		}
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/api/v1/cases/k3m9/actions", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	spans := map[string]tracetest.SpanStub{}
	for _, s := range exp.GetSpans() {
		spans[s.Name] = s
	}
	req, ok := spans["POST /api/v1/cases/{caseID}/actions"]
	if !ok {
		t.Fatalf("no request span in %v", spanNames(exp))
	}
	traceID := req.SpanContext.TraceID().String()
	for _, name := range []string{"StartWorkflow:ReleaseCase", "UpdateWorkflow:act"} {
		s, ok := spans[name]
		if !ok || s.Parent.SpanID() != req.SpanContext.SpanID() {
			t.Errorf("%s: not a child of the request's span (%v)", name, spanNames(exp))
		}
		for _, a := range s.Attributes {
			if a.Key == "temporalUpdateID" {
				t.Errorf("%s carries the update id", name)
			}
		}
	}
	fe.mu.Lock()
	start, update := traceparent(t, fe.startHeader), traceparent(t, fe.updateHeader)
	startHeader := fe.startHeader
	fe.mu.Unlock()
	for what, tp := range map[string]string{"start": start, "update": update} {
		if !strings.Contains(tp, traceID) {
			t.Errorf("the %s's header carries %q, not the request's trace %s", what, tp, traceID)
		}
	}

	// A worker: the interceptor the client carries is also the worker's
	// (the SDK hands a client's worker interceptors to its workers). The
	// test environment cannot deliver an update's header, so the workflow
	// starts with the start's header as the frontend received it.
	ints, _ := tracing.TemporalInterceptors()
	wi, ok := ints[0].(interceptor.WorkerInterceptor)
	if !ok {
		t.Fatal("the tracing interceptor is not a worker interceptor")
	}
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(tlog.NewStructuredLogger(quiet))
	suite.SetHeader(startHeader)
	env := suite.NewTestWorkflowEnvironment()
	env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{wi}})
	env.RegisterWorkflowWithOptions(func(ctx workflow.Context) error {
		ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
		return workflow.ExecuteActivity(ctx, "SaveCase").Get(ctx, nil)
	}, workflow.RegisterOptions{Name: "ReleaseCase"})
	env.RegisterActivityWithOptions(func(context.Context) error { return nil }, activity.RegisterOptions{Name: "SaveCase"})
	env.ExecuteWorkflow("ReleaseCase")
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"RunWorkflow:ReleaseCase", "StartActivity:SaveCase", "RunActivity:SaveCase"} {
		found := false
		for _, s := range exp.GetSpans() {
			if s.Name == name {
				found = true
				if s.SpanContext.TraceID().String() != traceID {
					t.Errorf("%s is in trace %s, not the request's %s", name, s.SpanContext.TraceID(), traceID)
				}
			}
		}
		if !found {
			t.Errorf("no span %s in %v", name, spanNames(exp))
		}
	}
}

func spanNames(exp *tracetest.InMemoryExporter) []string {
	var names []string
	for _, s := range exp.GetSpans() {
		names = append(names, s.Name)
	}
	return names
}

// With tracing off, the client carries no interceptor of ours.
func TestNoTracingByDefault(t *testing.T) {
	cfg := temporalConfig(t, map[string]string{})
	o := TracingOptions(cfg, "throughgate-api")
	if o.Enabled() {
		t.Fatalf("tracing on by default: %+v", o)
	}
	var off *otel.Tracing
	if ints, err := off.TemporalInterceptors(); ints != nil || err != nil {
		t.Errorf("interceptors with tracing off: %v %v", ints, err)
	}
	if requestTracer(off) != nil {
		t.Error("a request tracer with tracing off")
	}
	cfg = temporalConfig(t, map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://otel-collector:4318"})
	if o := TracingOptions(cfg, "throughgate-worker"); !o.Enabled() || o.Endpoint != "http://otel-collector:4318" || o.ServiceName != "throughgate-worker" || o.Protocol != "http/protobuf" {
		t.Errorf("options %+v", o)
	}
}
