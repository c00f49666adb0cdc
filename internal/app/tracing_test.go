package app

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"maps"
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
	"github.com/throughgate/throughgate/resettlement"
	"github.com/throughgate/throughgate/workflows"
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

// One trace follows each request from the HTTP server, through the
// Temporal client DialTemporal builds (the trace context travels in the
// start's and the update's headers, as the frontend receives them), into
// the workflow and the activities a worker with the same interceptor runs:
// the request that opens a case reaches the case's first save, and a later
// request's update reaches the save that update causes, although the
// case's main loop, not the update's handler, schedules it.
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

	closeCmd := resettlement.Close{Meta: resettlement.Meta{RequestID: "req-close", By: "manager-1", NoteID: 7}, Reason: resettlement.CloseOther}
	// What httpserver's middleware does around every request; the first
	// opens the case, the second closes it.
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/v1/cases" {
			r, end := tracing.StartRequest(r)
			defer end("/api/v1/cases", http.StatusCreated)
			if _, err := c.ExecuteWorkflow(r.Context(), client.StartWorkflowOptions{ID: "case-k3m9", TaskQueue: "q"}, "ReleaseCase"); err != nil {
				t.Error(err)
			}
			return
		}
		r, end := tracing.StartRequest(r)
		defer end("/api/v1/cases/{caseID}/close", http.StatusOK)
		u, err := c.UpdateWorkflow(r.Context(), client.UpdateWorkflowOptions{WorkflowID: "case-k3m9", UpdateName: workflows.UpdateClose,
			UpdateID: "manager-1:close:key-1", Args: []any{closeCmd}, WaitForStage: client.WorkflowUpdateStageCompleted})
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
	for _, path := range []string{"/api/v1/cases", "/api/v1/cases/k3m9/close"} {
		resp, err := http.Post(srv.URL+path, "application/json", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}

	spans := map[string]tracetest.SpanStub{}
	for _, s := range exp.GetSpans() {
		spans[s.Name] = s
	}
	open, ok := spans["POST /api/v1/cases"]
	closing, ok2 := spans["POST /api/v1/cases/{caseID}/close"]
	if !ok || !ok2 {
		t.Fatalf("no request spans in %v", spanNames(exp))
	}
	openTrace, closeTrace := open.SpanContext.TraceID(), closing.SpanContext.TraceID()
	if openTrace == closeTrace {
		t.Fatal("two requests in one trace")
	}
	for name, parent := range map[string]tracetest.SpanStub{"StartWorkflow:ReleaseCase": open, "UpdateWorkflow:" + workflows.UpdateClose: closing} {
		s, ok := spans[name]
		if !ok || s.Parent.SpanID() != parent.SpanContext.SpanID() {
			t.Errorf("%s: not a child of its request's span (%v)", name, spanNames(exp))
		}
		for _, a := range s.Attributes {
			if a.Key == "temporalUpdateID" {
				t.Errorf("%s carries the update id", name)
			}
		}
	}
	fe.mu.Lock()
	startHeader, updateHeader := fe.startHeader, fe.updateHeader
	fe.mu.Unlock()
	for what, tc := range map[string]struct {
		h     *commonpb.Header
		trace string
	}{"start": {startHeader, openTrace.String()}, "update": {updateHeader, closeTrace.String()}} {
		if tp := traceparent(t, tc.h); !strings.Contains(tp, tc.trace) {
			t.Errorf("the %s's header carries %q, not its request's trace %s", what, tp, tc.trace)
		}
	}

	// A worker runs the real ReleaseCase: the interceptor the client carries
	// is also the worker's (the SDK hands a client's worker interceptors to
	// its workers). The workflow starts with the start's header as the
	// frontend received it; the test environment delivers no header with an
	// update, so serverHeader, ahead of the tracing interceptor, gives the
	// update the header the frontend received, as the server does.
	ints, _ := tracing.TemporalInterceptors()
	wi, ok := ints[0].(interceptor.WorkerInterceptor)
	if !ok {
		t.Fatal("the tracing interceptor is not a worker interceptor")
	}
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(tlog.NewStructuredLogger(quiet))
	suite.SetHeader(startHeader)
	env := suite.NewTestWorkflowEnvironment()
	env.SetStartTime(time.Date(2026, 11, 23, 10, 0, 0, 0, resettlement.London))
	env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{&serverHeader{header: updateHeader}, wi}})
	env.RegisterWorkflowWithOptions(workflows.ReleaseCase, workflow.RegisterOptions{Name: "ReleaseCase"})
	var saves int
	env.RegisterActivityWithOptions(func(context.Context, resettlement.Projection) error { saves++; return nil },
		activity.RegisterOptions{Name: workflows.ActivitySaveCase})
	env.RegisterActivityWithOptions(func(context.Context, workflows.AlarmInput) (workflows.AlarmResult, error) {
		return workflows.AlarmResult{}, nil
	}, activity.RegisterOptions{Name: workflows.ActivityRaiseAlarm})
	env.RegisterActivityWithOptions(func(context.Context, workflows.TransferNotice) error { return nil },
		activity.RegisterOptions{Name: workflows.ActivityNotifyTransfer})
	var updateErr error
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(workflows.UpdateClose, "manager-1:close:key-1", &testsuite.TestUpdateCallback{
			OnAccept:   func() {},
			OnReject:   func(err error) { updateErr = err },
			OnComplete: func(_ any, err error) { updateErr = errors.Join(updateErr, err) },
		}, closeCmd)
	}, time.Hour)
	env.ExecuteWorkflow("ReleaseCase", workflows.Input{Open: &resettlement.OpenCase{CaseID: "k3m9x2p4qa", Establishment: "PVI",
		Team: "pvi-resettlement", ReceivedOn: resettlement.D(2026, 11, 20),
		Dates: resettlement.ReleaseDates{CRD: resettlement.D(2027, 3, 1)}, Adult: true, OpenedBy: "officer-1"}})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if updateErr != nil {
		t.Fatal(updateErr)
	}
	if saves < 2 {
		t.Fatalf("%d saves, want the opening's and the closing's", saves)
	}

	// Each span the worker made, in the order made: the saves before the
	// update are the opening request's, the save after it the closing's.
	var handle tracetest.SpanStub
	inTrace := map[string][]string{} // span name → trace ids
	for _, s := range exp.GetSpans() {
		inTrace[s.Name] = append(inTrace[s.Name], s.SpanContext.TraceID().String())
		if s.Name == "HandleUpdate:"+workflows.UpdateClose {
			handle = s
		}
	}
	if handle.SpanContext.TraceID() != closeTrace {
		t.Errorf("the update's handler is in trace %s, not the closing request's %s (%v)", handle.SpanContext.TraceID(), closeTrace, spanNames(exp))
	}
	if got := inTrace["RunWorkflow:ReleaseCase"]; len(got) != 1 || got[0] != openTrace.String() {
		t.Errorf("RunWorkflow:ReleaseCase in traces %v, want the opening request's %s", got, openTrace)
	}
	for _, name := range []string{"StartActivity:" + workflows.ActivitySaveCase, "RunActivity:" + workflows.ActivitySaveCase} {
		got := inTrace[name]
		if len(got) != saves || got[0] != openTrace.String() || got[len(got)-1] != closeTrace.String() {
			t.Errorf("%s in traces %v: want the first in the opening request's %s and the last in the closing request's %s", name, got, openTrace, closeTrace)
		}
	}
	for _, s := range exp.GetSpans() {
		if s.Name == "StartActivity:"+workflows.ActivitySaveCase && s.SpanContext.TraceID() == closeTrace && s.Parent.SpanID() != handle.SpanContext.SpanID() {
			t.Errorf("the closing save's StartActivity is not a child of the update's handler")
		}
	}
}

// serverHeader gives each update the header the frontend received for it,
// what the Temporal server does and the SDK's test environment does not.
type serverHeader struct {
	interceptor.WorkerInterceptorBase
	header *commonpb.Header
}

func (s *serverHeader) InterceptWorkflow(_ workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	return &serverHeaderInbound{WorkflowInboundInterceptorBase: interceptor.WorkflowInboundInterceptorBase{Next: next}, header: s.header}
}

type serverHeaderInbound struct {
	interceptor.WorkflowInboundInterceptorBase
	header *commonpb.Header
}

func (s *serverHeaderInbound) ValidateUpdate(ctx workflow.Context, in *interceptor.UpdateInput) error {
	maps.Copy(interceptor.WorkflowHeader(ctx), s.header.GetFields())
	return s.Next.ValidateUpdate(ctx, in)
}

func (s *serverHeaderInbound) ExecuteUpdate(ctx workflow.Context, in *interceptor.UpdateInput) (any, error) {
	maps.Copy(interceptor.WorkflowHeader(ctx), s.header.GetFields())
	return s.Next.ExecuteUpdate(ctx, in)
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
