package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// ImportCases opens the cases of a caseload import (README.md, "Loading a
// caseload"): its rows, stored in PostgreSQL, are opened in batches by the
// ImportCasesBatch activity, a batch being a window of the file's lines,
// several windows at once; FinishImport then marks the import done. The
// workflow carries no personal data, only the import's id, line numbers
// and counts: the rows stay in PostgreSQL.
//
// It is durable: a worker that dies mid-batch leaves the activity to time
// out on its heartbeat and be retried, and each row's opening is
// idempotent (its key is the import's id and the row's line), so a row
// opened before the crash is found, not opened again. Retries go on until
// the batch succeeds: the rows' own refusals (an owner who has left) are
// outcomes, not failures.
func ImportCases(ctx workflow.Context, in ImportInput) (ImportResult, error) {
	batch, parallel := in.Batch, in.Parallel
	if batch <= 0 {
		batch = ImportBatchLines
	}
	if parallel <= 0 {
		parallel = ImportParallel
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Minute,
		HeartbeatTimeout:    20 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: time.Minute, NonRetryableErrorTypes: []string{ErrTypeImportGone}},
	})
	next := in.After // every line up to next is dispatched
	inFlight, dispatched := 0, 0
	var failed error
	sel := workflow.NewSelector(ctx)
	for {
		for inFlight < parallel && next < in.LastLine && dispatched < importWindowsPerRun && failed == nil {
			through := min(next+batch, in.LastLine)
			f := workflow.ExecuteActivity(actx, ActivityImportCasesBatch, ImportBatchInput{ImportID: in.ImportID, After: next, Through: through})
			sel.AddFuture(f, func(f workflow.Future) {
				inFlight--
				if err := f.Get(ctx, nil); err != nil && failed == nil {
					failed = err
				}
			})
			next, inFlight, dispatched = through, inFlight+1, dispatched+1
		}
		if inFlight == 0 {
			break
		}
		sel.Select(ctx)
	}
	if failed != nil {
		return ImportResult{}, failed
	}
	if next < in.LastLine {
		// A long file: the next windows in a fresh history.
		cont := in
		cont.After = next
		return ImportResult{}, workflow.NewContinueAsNewError(ctx, ImportCases, cont)
	}
	var out ImportResult
	fctx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: time.Minute, NonRetryableErrorTypes: []string{ErrTypeImportGone}},
	})
	err := workflow.ExecuteActivity(fctx, ActivityFinishImport, in.ImportID).Get(ctx, &out)
	return out, err
}

// ImportWorkflowID is the workflow id of an import. Like a case's, the
// import's id is opaque.
func ImportWorkflowID(importID string) string { return "import-" + importID }

// Defaults of ImportInput: 100 lines a batch, two batches at once (the
// activity opens several rows of its batch at once too).
const (
	ImportBatchLines = 100
	ImportParallel   = 2
)

// importWindowsPerRun is how many batches one run of the workflow
// dispatches before continuing as new: some 900 events of history.
const importWindowsPerRun = 150

// ImportInput names the import and how far its file goes. After is the
// last line already dispatched (0 at the start; set when continuing as
// new).
type ImportInput struct {
	ImportID string `json:"import_id"`
	LastLine int    `json:"last_line"`
	After    int    `json:"after,omitempty"`
	Batch    int    `json:"batch,omitempty"`    // lines a batch (0: ImportBatchLines)
	Parallel int    `json:"parallel,omitempty"` // batches at once (0: ImportParallel)
}

// ImportResult counts what the import did with its rows.
type ImportResult struct {
	Opened      int `json:"opened"`
	AlreadyOpen int `json:"already_open"`
	Failed      int `json:"failed"`
}

// ActivityImportCasesBatch opens the pending rows of a window of an
// import's lines: ImportBatchInput in, ImportResult (the window's counts)
// out.
const ActivityImportCasesBatch = "ImportCasesBatch"

// ActivityFinishImport marks an import done: its id in, ImportResult (the
// whole import's counts) out.
const ActivityFinishImport = "FinishImport"

// ErrTypeImportGone is the error type of an import that is no longer
// there (removed while it ran): not retried.
const ErrTypeImportGone = "ImportGone"

// ImportBatchInput is a window of an import's lines: those after After,
// up to and including Through.
type ImportBatchInput struct {
	ImportID string `json:"import_id"`
	After    int    `json:"after"`
	Through  int    `json:"through"`
}
