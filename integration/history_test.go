package integration

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/proxy"
	"go.temporal.io/api/temporalproto"

	"github.com/throughgate/throughgate/internal/devstack"
	"github.com/throughgate/throughgate/workflows"
)

// keepHistory fetches a case workflow's history from the real server and
// returns its length. With THROUGHGATE_KEEP_HISTORIES=1 it also writes it to
// workflows/testdata/histories, where the replay test reads it. It fails
// the test if the history shows an alarm raised by an ordinary activity or
// a version marker: a case started now raises them locally and is told its
// commands' version in its input (workflows.ReleaseCase's run). Run
//
//	THROUGHGATE_KEEP_HISTORIES=1 go test ./integration -run Reminder
//
// after a change to the workflow that old histories must still replay on.
func keepHistory(t *testing.T, d *devstack.Dev, caseID, name string) int {
	t.Helper()
	iter := d.Client.GetWorkflowHistory(context.Background(), workflows.WorkflowID(caseID), "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var h historypb.History
	for iter.HasNext() {
		e, err := iter.Next()
		if err != nil {
			t.Fatal(err)
		}
		h.Events = append(h.Events, e)
	}
	if os.Getenv("THROUGHGATE_KEEP_HISTORIES") != "" {
		// Kept decrypted: the replay test reads them without the stack's key.
		if err := proxy.VisitPayloads(context.Background(), &h, proxy.VisitPayloadsOptions{
			Visitor: func(_ *proxy.VisitPayloadsContext, p []*commonpb.Payload) ([]*commonpb.Payload, error) {
				return d.Codec.Decode(p)
			},
		}); err != nil {
			t.Fatal(err)
		}
		b, err := temporalproto.CustomJSONMarshalOptions{Indent: "  "}.Marshal(&h)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join("..", "workflows", "testdata", "histories", name+".json")
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("kept %s", path)
	}
	local := 0
	for _, e := range h.Events {
		switch e.GetEventType() {
		case enums.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
			if e.GetActivityTaskScheduledEventAttributes().GetActivityType().GetName() == workflows.ActivityRaiseAlarm {
				t.Errorf("%s: event %d schedules RaiseAlarm: a case raises its alarms locally", name, e.GetEventId())
			}
		case enums.EVENT_TYPE_MARKER_RECORDED:
			switch e.GetMarkerRecordedEventAttributes().GetMarkerName() {
			case "LocalActivity":
				local++
			case "Version":
				t.Errorf("%s: event %d records a version marker: a case started now has its version in its input", name, e.GetEventId())
			}
		}
	}
	if local == 0 {
		t.Errorf("%s: no local activity in %d events", name, len(h.Events))
	}
	return len(h.Events)
}
