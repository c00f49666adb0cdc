package integration

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/resettlement"
	"github.com/throughgate/throughgate/workflows"
)

// TestContinueAsNewLosesNoUpdate runs a case whose history limit is small on
// the real server, and sends it a burst of concurrent updates while it
// continues as new: every update is answered, and every one is applied once.
func TestContinueAsNewLosesNoUpdate(t *testing.T) {
	d := startDev(t, devConfig(t, filepath.Join(tempDir(t), "data")))
	defer d.Stop()
	ctx := context.Background()
	today := resettlement.DateOf(time.Now())
	const id = "cantest001"
	if _, _, err := d.DB.CreateCase(ctx, postgres.NewCase{ID: id, Person: postgres.Person{PrisonNumber: "G7890HJ", Booking: "1",
		GivenName: "Sam", FamilyName: "Example", DateOfBirth: resettlement.D(1990, 5, 17)}, OpenedBy: "officer-1",
		Establishment: "PVI", Team: "pvi-resettlement", Owner: "officer-1", ReceivedOn: today}); err != nil {
		t.Fatal(err)
	}
	run, err := d.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.WorkflowID(id), TaskQueue: workflows.TaskQueue},
		workflows.ReleaseCase, workflows.Input{MaxHistory: 60, Open: &resettlement.OpenCase{CaseID: id, Establishment: "PVI",
			Team: "pvi-resettlement", Owner: "officer-1", ReceivedOn: today, Dates: resettlement.ReleaseDates{CRD: today.AddDays(100)}, Adult: true}})
	if err != nil {
		t.Fatal(err)
	}
	const n = 40
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		note, err := d.DB.AddNote(ctx, id, "officer-1", fmt.Sprintf("note %d", i))
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			_, errs[i] = d.Cases.Update(ctx, id, workflows.UpdateActOnStep, resettlement.ActOnStep{
				Meta: resettlement.Meta{RequestID: fmt.Sprintf("burst-%d", i), By: "officer-1", NoteID: note}, StepID: "housing-referral", Action: resettlement.ActionNote})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("update %d: %v", i, err)
		}
	}
	// The first run ended by continuing as new.
	first := d.Client.GetWorkflowHistory(ctx, workflows.WorkflowID(id), run.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT)
	ev, err := first.Next()
	if err != nil || ev.GetEventType() != enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW {
		t.Fatalf("the first run ended with %v (%v), want continued-as-new", ev.GetEventType(), err)
	}
	// Every note is in the case's timeline exactly once.
	waitFor(t, "every note in the timeline", 20*time.Second, func() bool {
		tl, err := d.DB.Timeline(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		notes := map[int64]int{}
		for _, e := range tl {
			if e.Kind == "note" {
				notes[e.NoteID]++
			}
		}
		for _, c := range notes {
			if c != 1 {
				t.Fatalf("a note applied %d times", c)
			}
		}
		return len(notes) == n
	})
	desc, err := d.Client.DescribeWorkflowExecution(ctx, workflows.WorkflowID(id), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d concurrent updates across continue-as-new; current run %s has %d events", n,
		desc.GetWorkflowExecutionInfo().GetExecution().GetRunId(), desc.GetWorkflowExecutionInfo().GetHistoryLength())
}
