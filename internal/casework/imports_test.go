package casework

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/internal/postgres/pgtest"
	"github.com/throughgate/throughgate/workflows"
)

// startEngine stands in for Temporal where an import opens cases: it
// records each workflow started, by id, and fails the starts it is told
// to (a connection lost mid-batch). Queries fail, so a case's view comes
// from the read model. Anything else panics, as the fixture's nil engine.
type startEngine struct {
	client.Client // nil

	mu     sync.Mutex
	starts map[string]int // workflow id to starts
	calls  int
	failAt map[int]bool // fail the nth case start (1-based)
}

type startedRun struct {
	client.WorkflowRun // nil
	id                 string
}

func (r startedRun) GetID() string { return r.id }

func (e *startEngine) ExecuteWorkflow(_ context.Context, o client.StartWorkflowOptions, _ any, _ ...any) (client.WorkflowRun, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if strings.HasPrefix(o.ID, "case-") {
		e.calls++
		if e.failAt[e.calls] {
			return nil, errors.New("connection to Temporal lost")
		}
	}
	e.starts[o.ID]++
	return startedRun{id: o.ID}, nil
}

func (e *startEngine) QueryWorkflow(context.Context, string, string, string, ...any) (converter.EncodedValue, error) {
	return nil, errors.New("no worker")
}

func (f *fixture) withStarts() *startEngine {
	e := &startEngine{starts: map[string]int{}, failAt: map[int]bool{}}
	f.s.Temporal = e
	return e
}

// The dry run checks every row with the rules of opening one case and the
// directory's (the team, the person's scope, the owner), reports each
// problem by line and column and the people already with an open case,
// and stores and opens nothing.
func TestImportDryRun(t *testing.T) {
	f := newFixture(t)
	f.readModelCase("open-pvi-1", openReq("A8888AA"))
	bxi := openReq("A9999AA")
	bxi.Establishment, bxi.Team = "BXI", "bxi-resettlement"
	f.readModelCase("open-bxi-1", bxi)
	file := csvOf(
		map[string]string{"prison_number": "A1111AA"},
		map[string]string{"prison_number": "A2222AA", "owner": "officer-1"},
		map[string]string{"prison_number": "A3333AA", "team": "nope"},
		map[string]string{"prison_number": "A4444AA", "team": "bxi-resettlement"},
		map[string]string{"prison_number": "A5555AA", "establishment": "BXI", "team": "bxi-resettlement"},
		map[string]string{"prison_number": "A6666AA", "owner": "officer-2"},
		map[string]string{"prison_number": "A7777AA", "owner": "gone-1"},
		map[string]string{"prison_number": "A8888AA"},
		map[string]string{"prison_number": "A9999AA", "establishment": "BXI", "team": "bxi-resettlement"},
		map[string]string{"prison_number": "B1111AA", "crd": "2026-02-30"},
	)
	rep, err := f.s.CheckImport(f.ctx, f.as("officer-1"), []byte(file))
	if err != nil {
		t.Fatal(err)
	}
	if want := (ImportCheck{Rows: 10, Invalid: 7, WouldOpen: 2, AlreadyOpen: 1}); rep.Check != want || rep.Status != StatusDryRun {
		t.Errorf("check %+v (%s), want %+v", rep.Check, rep.Status, want)
	}
	var got []string
	for _, r := range rep.Rows {
		for _, p := range r.Problems {
			got = append(got, ProblemText(r.Line, p))
		}
		if r.Status == postgres.RowAlreadyOpen {
			got = append(got, fmt.Sprintf("line %d: already open as %q", r.Line, r.CaseID))
		}
	}
	want := []string{
		`line 4, column "team": is not an active team`,
		`line 5, column "team": works at BXI, not PVI`,
		`line 6, column "team": is not a team you may open cases for: only your own establishment's or teams' people`,
		`line 7, column "owner": cannot see this case: choose someone who works at PVI or answers for its team`,
		`line 8, column "owner": is not an active member of staff`,
		`line 9: already open as "open-pvi-1"`,
		`line 10, column "team": is not a team you may open cases for: only your own establishment's or teams' people`,
		`line 11, column "crd": must be a date such as 2026-03-12 or 12/03/2026`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("report\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if n := pgtest.Int(t, f.s.DB, `select count(*) from imports`) + pgtest.Int(t, f.s.DB, `select count(*) from import_rows`); n != 0 {
		t.Errorf("a dry run stored %d rows", n)
	}
	if n := pgtest.Int(t, f.s.DB, `select count(*) from audit where actor = 'officer-1' and action = 'import.check'
		and detail = 'rows=10 invalid=7 would_open=2 already_open=1'`); n != 1 {
		t.Errorf("%d import.check audit lines", n)
	}

	// The head of service over both prisons' resettlement teams sees the
	// Brixton case; nobody is told of a case they may not see, but a
	// person's open case elsewhere is still not opened twice.
	rep, err = f.s.CheckImport(f.ctx, f.as("head-1"), []byte(csvOf(map[string]string{"prison_number": "A9999AA", "establishment": "BXI", "team": "bxi-resettlement"})))
	if err != nil || rep.Check.AlreadyOpen != 1 || rep.Rows[0].CaseID != "open-bxi-1" {
		t.Errorf("head: %v %+v", err, rep)
	}
	rep, err = f.s.CheckImport(f.ctx, f.as("manager-3"), []byte(csvOf(map[string]string{"prison_number": "A9999AA", "booking": "2", "team": "pvi-housing"})))
	if err != nil || rep.Check.AlreadyOpen != 0 || rep.Check.WouldOpen != 1 {
		t.Errorf("another booking is another case: %v %+v", err, rep.Check)
	}
	if n := pgtest.Int(t, f.s.DB, `select count(*) from audit where action = 'case.probe' and case_id = 'open-bxi-1'`); n != 0 {
		t.Errorf("%d probes", n)
	}
	bxiOfficer := csvOf(map[string]string{"prison_number": "A8888AA"})
	rep, err = f.s.CheckImport(f.ctx, f.as("manager-3"), []byte(strings.ReplaceAll(bxiOfficer, "pvi-resettlement", "pvi-housing")))
	if err != nil || rep.Check.AlreadyOpen != 1 || rep.Rows[0].CaseID != "" {
		t.Errorf("a case out of scope: %v %+v", err, rep)
	}
	if n := pgtest.Int(t, f.s.DB, `select count(*) from audit where actor = 'manager-3' and action = 'case.probe' and case_id = 'open-pvi-1'`); n != 1 {
		t.Errorf("%d probes of the case out of scope, want 1", n)
	}

	// Administrators load no caseloads; a bad file is refused whole.
	if _, err := f.s.CheckImport(f.ctx, f.as("admin-1"), []byte(file)); statuses[mustKind(t, err)] != 403 {
		t.Errorf("admin: %v", err)
	}
	_, err = f.s.CheckImport(f.ctx, f.as("officer-1"), []byte("prison_number,booking\nA1234BC,1\n"))
	wantFieldError(t, err, Invalid, "received_on")
}

func mustKind(t *testing.T, err error) Kind {
	t.Helper()
	e, ok := ErrorOf(err)
	if !ok {
		t.Fatalf("want a casework error, got %v", err)
	}
	return e.Kind
}

// An import opens each row once, as its maker, however often its batches
// run: a row opened before a crash is found by its key, not opened again,
// and a second import of the same file opens nothing.
func TestImportOpensEachRowOnce(t *testing.T) {
	f := newFixture(t)
	e := f.withStarts()
	f.readModelCase("open-pvi-1", openReq("A8888AA"))
	var rows []map[string]string
	for i := range 25 {
		rows = append(rows, map[string]string{"prison_number": fmt.Sprintf("C%04dAA", i)})
	}
	rows = append(rows, map[string]string{"prison_number": "A8888AA"}, map[string]string{"prison_number": "A3333AA", "team": "nope"})
	file := []byte(csvOf(rows...))
	p := f.as("officer-1")
	rep, created, err := f.s.CreateImport(f.ctx, p, file, "caseload.csv", "upload-1", true)
	if err != nil || !created || rep.Status != postgres.ImportRunning || rep.Progress.ToDo != 26 || rep.Check.Invalid != 1 {
		t.Fatalf("create: %v %v %+v", err, created, rep)
	}
	if e.starts[workflows.ImportWorkflowID(rep.ID)] != 1 {
		t.Errorf("the import's workflow started %d times", e.starts[workflows.ImportWorkflowID(rep.ID)])
	}
	// The same upload again with its key is the same import.
	again, created, err := f.s.CreateImport(f.ctx, p, file, "caseload.csv", "upload-1", true)
	if err != nil || created || again.ID != rep.ID {
		t.Errorf("retry: %v %v %s", err, created, again.ID)
	}
	_, _, err = f.s.CreateImport(f.ctx, p, append(file, "C9999ZZ,1\n"...), "caseload.csv", "upload-1", true)
	wantFieldError(t, err, Invalid, "Idempotency-Key")
	if e.starts[workflows.ImportWorkflowID(rep.ID)] != 1 {
		t.Errorf("the import's workflow started %d times", e.starts[workflows.ImportWorkflowID(rep.ID)])
	}

	// Before a crash: the first three rows opened, their outcome never
	// recorded (the worker died).
	pending, err := f.s.DB.PendingImportRows(f.ctx, rep.ID, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range pending[:3] {
		if r, err := f.s.openImportRow(f.ctx, p, rep.ID, row); err != nil || r.Status != postgres.RowOpened {
			t.Fatalf("line %d: %v %+v", row.Line, err, r)
		}
	}
	// Then a batch that loses Temporal at its 10th start: what it did is
	// recorded, and it fails to be retried.
	e.failAt[3+10] = true
	_, err = f.s.RunImportBatch(f.ctx, rep.ID, 0, 15, nil)
	if err == nil || !strings.Contains(err.Error(), "connection to Temporal lost") {
		t.Fatalf("the failing batch: %v", err)
	}
	mid, _ := f.s.ImportStatus(f.ctx, p, rep.ID)
	if mid.Progress.Done == 0 || mid.Progress.Done >= 14 {
		t.Errorf("after the failure %d rows are recorded", mid.Progress.Done)
	}
	// The retry, and the other batch.
	res1, err := f.s.RunImportBatch(f.ctx, rep.ID, 0, 15, nil)
	if err != nil {
		t.Fatal(err)
	}
	res2, err := f.s.RunImportBatch(f.ctx, rep.ID, 15, 28, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res2 != (workflows.ImportResult{Opened: 11, AlreadyOpen: 1}) || res1.Failed != 0 || res1.AlreadyOpen != 0 {
		t.Errorf("batches %+v %+v", res1, res2)
	}
	done, err := f.s.FinishImport(f.ctx, rep.ID)
	if err != nil || done != (workflows.ImportResult{Opened: 25, AlreadyOpen: 1}) {
		t.Fatalf("finish: %v %+v", err, done)
	}
	for _, r := range rows[:25] {
		if n := pgtest.Int(t, f.s.DB, `select count(*) from cases where prison_number = $1`, r["prison_number"]); n != 1 {
			t.Errorf("%s has %d cases", r["prison_number"], n)
		}
	}
	for id, n := range e.starts {
		if n != 1 {
			t.Errorf("workflow %s started %d times", id, n)
		}
	}
	view, err := f.s.ViewImport(f.ctx, p, rep.ID, ImportRowQuery{Limit: 10})
	if err != nil || view.Status != postgres.ImportDone || len(view.Rows) != 10 || view.NextAfter != 11 || view.Rows[0].CaseID == "" ||
		view.Progress.Done != 26 || view.FinishedAt == nil {
		t.Errorf("view: %v %+v", err, view)
	}
	if n := pgtest.Int(t, f.s.DB, `select count(*) from import_rows where request is not null`); n != 0 {
		t.Errorf("%d rows keep their request once dealt with", n)
	}
	if n := pgtest.Int(t, f.s.DB, `select count(*) from audit where actor = 'officer-1' and action = 'case.open' and detail = 'created=true'`); n != 25 {
		t.Errorf("%d cases opened in the audit log, want 25", n)
	}
	// Someone else may not see it.
	if _, err := f.s.ViewImport(f.ctx, f.as("officer-3"), rep.ID, ImportRowQuery{}); statuses[mustKind(t, err)] != 404 {
		t.Errorf("another officer: %v", err)
	}

	// The same file again opens nothing: every row is already open.
	starts := len(e.starts)
	rep2, _, err := f.s.CreateImport(f.ctx, p, file, "caseload.csv", "", true)
	if err != nil || rep2.Check.WouldOpen != 0 || rep2.Check.AlreadyOpen != 26 {
		t.Fatalf("again: %v %+v", err, rep2.Check)
	}
	if _, err := f.s.RunImportBatch(f.ctx, rep2.ID, 0, 28, nil); err != nil {
		t.Fatal(err)
	}
	if res, err := f.s.FinishImport(f.ctx, rep2.ID); err != nil || res != (workflows.ImportResult{AlreadyOpen: 26}) {
		t.Errorf("the second import: %v %+v", err, res)
	}
	if len(e.starts) != starts+1 { // its own workflow only
		t.Errorf("the second import started %d workflows", len(e.starts)-starts)
	}
}

// An import waits, checked, until started; when its maker can no longer
// open cases by the time it runs, its rows are refused, not opened.
func TestImportCheckedThenStartedByItsMaker(t *testing.T) {
	f := newFixture(t)
	e := f.withStarts()
	p := f.as("officer-3")
	rep, _, err := f.s.CreateImport(f.ctx, p, []byte(csvOf(map[string]string{"team": "pvi-housing"})), `C:\caseloads\march.csv`, "", false)
	if err != nil || rep.Status != postgres.ImportChecked || rep.Progress != nil || rep.FileName != "march.csv" || len(e.starts) != 0 {
		t.Fatalf("checked: %v %+v %v", err, rep, e.starts)
	}
	if _, err := f.s.RunImportBatch(f.ctx, rep.ID, 0, 100, nil); err == nil || !strings.Contains(err.Error(), "not started") {
		t.Errorf("a batch of an import not started: %v, want it to wait", err)
	}
	if _, err := f.s.StartImport(f.ctx, f.as("officer-1"), rep.ID); statuses[mustKind(t, err)] != 404 {
		t.Errorf("started by another: %v", err)
	}
	st, err := f.s.DB.StaffMember(f.ctx, "officer-3")
	if err != nil {
		t.Fatal(err)
	}
	if rep, err = f.s.StartImport(f.ctx, p, rep.ID); err != nil || rep.Status != postgres.ImportRunning {
		t.Fatalf("start: %v %+v", err, rep)
	}
	st.Active = false
	if err := f.s.DB.PutStaff(f.ctx, st); err != nil {
		t.Fatal(err)
	}
	res, err := f.s.RunImportBatch(f.ctx, rep.ID, 0, 100, nil)
	if err != nil || res.Failed != 1 {
		t.Errorf("run: %v %+v", err, res)
	}
	if n := pgtest.Int(t, f.s.DB, `select count(*) from cases`); n != 0 {
		t.Errorf("%d cases opened", n)
	}
	if _, err := f.s.RunImportBatch(f.ctx, "nosuchimport", 0, 100, nil); !errors.Is(err, ErrImportGone) {
		t.Errorf("a missing import: %v", err)
	}
}
