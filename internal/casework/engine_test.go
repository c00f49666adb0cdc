package casework

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"go.temporal.io/sdk/client"

	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/resettlement"
	"github.com/throughgate/throughgate/workflows"
)

// fakeEngine stands in for a case's workflow in the tests of issue 13: an
// update applies the domain's own command to the case as last saved and
// saves it back, as the ReleaseCase workflow's handler does (validate and
// apply, skip a request it has seen, answer once PostgreSQL has the
// change). Anything else it is asked panics, as the fixture's nil engine
// does.
type fakeEngine struct {
	client.Client // nil

	db *postgres.DB
	mu sync.Mutex
	// updates counts the updates applied, by name.
	updates map[string]int
}

// withEngine gives the fixture's service a fake engine.
func (f *fixture) withEngine() *fakeEngine {
	e := &fakeEngine{db: f.s.DB, updates: map[string]int{}}
	f.s.Temporal = e
	return e
}

type fakeHandle struct {
	res workflows.UpdateResult
	err error
}

func (h fakeHandle) WorkflowID() string { return "" }
func (h fakeHandle) RunID() string      { return "" }
func (h fakeHandle) UpdateID() string   { return "" }
func (h fakeHandle) Get(_ context.Context, v any) error {
	if h.err != nil {
		return h.err
	}
	*(v.(*workflows.UpdateResult)) = h.res
	return nil
}

func (e *fakeEngine) UpdateWorkflow(ctx context.Context, o client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	caseID := strings.TrimPrefix(o.WorkflowID, "case-")
	rec, err := e.db.Case(ctx, caseID)
	if err != nil {
		return nil, err
	}
	c := rec.State.Clone()
	before := len(c.Events)
	var apply error
	switch cmd := o.Args[0].(type) {
	case resettlement.ActOnStep:
		if !c.Seen(cmd.RequestID) {
			apply = c.ActOnStep(cmd, testNow)
		}
	case resettlement.Assign:
		if !c.Seen(cmd.RequestID) {
			apply = c.Assign(cmd, testNow)
		}
	default:
		return nil, fmt.Errorf("fakeEngine: no update %s", o.UpdateName)
	}
	if apply != nil {
		return fakeHandle{err: apply}, nil
	}
	if len(c.Events) != before || c.Version != rec.State.Version {
		e.updates[o.UpdateName]++
		if err := e.db.SaveCase(ctx, resettlement.Projection{Case: c, Stage: c.Stage(testNow), Events: c.Events}, testNow); err != nil {
			return nil, err
		}
	}
	return fakeHandle{res: workflows.UpdateResult{Version: c.Version, Stage: c.Stage(testNow)}}, nil
}

// stepOf is a step of a case as last saved.
func (f *fixture) stepOf(caseID, stepID string) resettlement.Step {
	f.t.Helper()
	rec, err := f.s.DB.Case(f.ctx, caseID)
	if err != nil {
		f.t.Fatal(err)
	}
	for _, st := range rec.State.Steps {
		if st.ID == stepID {
			return st
		}
	}
	f.t.Fatalf("case %s has no step %s", caseID, stepID)
	return resettlement.Step{}
}

// emails lists the outbox rows of a case for a recipient.
func (f *fixture) emails(caseID, recipient string) []postgres.OutboxRow {
	f.t.Helper()
	rows, err := f.s.DB.CaseEmails(f.ctx, caseID)
	if err != nil {
		f.t.Fatal(err)
	}
	var out []postgres.OutboxRow
	for _, r := range rows {
		if r.Recipient == recipient {
			out = append(out, r)
		}
	}
	return out
}

// auditLines lists the audit lines of an action on a case.
func (f *fixture) auditLines(action, caseID string) []postgres.AuditEntry {
	f.t.Helper()
	entries, err := f.s.DB.AuditLog(f.ctx, postgres.AuditFilter{Action: action, CaseID: caseID, Limit: 100})
	if err != nil {
		f.t.Fatal(err)
	}
	return entries
}

// actOK does something to a case that must succeed.
func (f *fixture) actOK(p string, caseID, key string, c Command) {
	f.t.Helper()
	if _, err := f.s.Act(f.ctx, f.as(p), caseID, key, c); err != nil {
		f.t.Fatalf("%s: %T on %s: %v", p, c, caseID, err)
	}
}

var _ = testing.T{}
