package workflows

import (
	"context"
	"errors"
	"sort"
	"sync"
	"testing"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
)

// importer stands in for the import's activities, noting the windows it
// is asked for and how many run at once.
type importer struct {
	mu             sync.Mutex
	windows        []ImportBatchInput
	attempts       map[int]int // window start to attempts
	inFlight, most int
	failFirst      map[int]int // window start to attempts that fail first
	gone           bool
	finished       int
}

func (im *importer) ImportCasesBatch(_ context.Context, in ImportBatchInput) (ImportResult, error) {
	im.mu.Lock()
	im.attempts[in.After]++
	fail := im.attempts[in.After] <= im.failFirst[in.After]
	im.inFlight++
	im.most = max(im.most, im.inFlight)
	im.mu.Unlock()
	defer func() { im.mu.Lock(); im.inFlight--; im.mu.Unlock() }()
	if im.gone {
		return ImportResult{}, temporal.NewNonRetryableApplicationError("gone", ErrTypeImportGone, nil)
	}
	if fail {
		return ImportResult{}, errors.New("database unavailable")
	}
	im.mu.Lock()
	im.windows = append(im.windows, in)
	im.mu.Unlock()
	return ImportResult{Opened: in.Through - in.After}, nil
}

func (im *importer) FinishImport(_ context.Context, id string) (ImportResult, error) {
	im.mu.Lock()
	defer im.mu.Unlock()
	im.finished++
	return ImportResult{Opened: 7, AlreadyOpen: 2, Failed: 1}, nil
}

func runImport(t *testing.T, im *importer, in ImportInput) (*testsuite.TestWorkflowEnvironment, ImportResult, error) {
	t.Helper()
	if im.attempts == nil {
		im.attempts = map[int]int{}
	}
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.SetStartTime(start)
	env.RegisterWorkflow(ImportCases)
	env.RegisterActivityWithOptions(im.ImportCasesBatch, activity.RegisterOptions{Name: ActivityImportCasesBatch})
	env.RegisterActivityWithOptions(im.FinishImport, activity.RegisterOptions{Name: ActivityFinishImport})
	env.ExecuteWorkflow(ImportCases, in)
	if !env.IsWorkflowCompleted() {
		t.Fatal("the import did not complete")
	}
	var out ImportResult
	err := env.GetWorkflowError()
	if err == nil {
		err = env.GetWorkflowResult(&out)
	}
	return env, out, err
}

// The file's lines are opened in windows, each exactly once, a few at a
// time, then the import is finished; a window that fails is retried.
func TestImportCasesCoversEveryLineOnce(t *testing.T) {
	im := &importer{failFirst: map[int]int{300: 2}}
	_, out, err := runImport(t, im, ImportInput{ImportID: "imp1", LastLine: 1005, Parallel: 3})
	if err != nil {
		t.Fatal(err)
	}
	if out != (ImportResult{Opened: 7, AlreadyOpen: 2, Failed: 1}) || im.finished != 1 {
		t.Errorf("result %+v, finished %d times: want FinishImport's counts, once", out, im.finished)
	}
	sort.Slice(im.windows, func(i, j int) bool { return im.windows[i].After < im.windows[j].After })
	next := 0
	for _, w := range im.windows {
		if w.ImportID != "imp1" || w.After != next || w.Through <= w.After || w.Through-w.After > ImportBatchLines {
			t.Fatalf("windows %+v: not contiguous batches of at most %d lines from 0", im.windows, ImportBatchLines)
		}
		next = w.Through
	}
	if next != 1005 || len(im.windows) != 11 {
		t.Errorf("windows end at %d (%d of them), want 1005 (11)", next, len(im.windows))
	}
	if im.attempts[300] != 3 {
		t.Errorf("the failing window ran %d times, want 3", im.attempts[300])
	}
	if im.most > 3 {
		t.Errorf("%d windows ran at once, want at most 3", im.most)
	}
}

// A long file continues as new, where the run left off, before its
// history grows long; the next run finishes it.
func TestImportCasesContinuesAsNew(t *testing.T) {
	im := &importer{}
	in := ImportInput{ImportID: "imp2", LastLine: (importWindowsPerRun + 20) * ImportBatchLines}
	_, _, err := runImport(t, im, in)
	var can *workflow.ContinueAsNewError
	if !errors.As(err, &can) {
		t.Fatalf("want to continue as new, got %v", err)
	}
	var cont ImportInput
	if err := testPayloadsGet(can, &cont); err != nil {
		t.Fatal(err)
	}
	if cont.ImportID != "imp2" || cont.After != importWindowsPerRun*ImportBatchLines || cont.LastLine != in.LastLine || im.finished != 0 {
		t.Errorf("continued with %+v (finished %d), want after line %d", cont, im.finished, importWindowsPerRun*ImportBatchLines)
	}
	im2 := &importer{}
	_, _, err = runImport(t, im2, cont)
	if err != nil || len(im2.windows) != 20 || im2.windows[0].After < cont.After || im2.finished != 1 {
		t.Errorf("the second run: %v, %d windows, finished %d", err, len(im2.windows), im2.finished)
	}
}

// An import removed while it runs ends the workflow; nothing is retried.
func TestImportCasesStopsWhenTheImportIsGone(t *testing.T) {
	im := &importer{gone: true}
	_, _, err := runImport(t, im, ImportInput{ImportID: "imp3", LastLine: 250})
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || app.Type() != ErrTypeImportGone || im.finished != 0 {
		t.Errorf("error %v, finished %d", err, im.finished)
	}
	for after, n := range im.attempts {
		if n != 1 {
			t.Errorf("window after %d tried %d times", after, n)
		}
	}
}

// An import with no rows to open (every row had problems) finishes at once.
func TestImportCasesWithNothingToDo(t *testing.T) {
	im := &importer{}
	_, out, err := runImport(t, im, ImportInput{ImportID: "imp4"})
	if err != nil || len(im.windows) != 0 || im.finished != 1 || out.Opened != 7 {
		t.Errorf("%v: %d windows, finished %d", err, len(im.windows), im.finished)
	}
}
