package activities

import (
	"context"
	"errors"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/throughgate/throughgate/internal/casework"
	"github.com/throughgate/throughgate/workflows"
)

// ImportActivities are the ImportCases workflow's activities. Unlike the
// case's activities, which write the read model and the outbox, they open
// cases, so they hold the application service and go through its path for
// opening cases (casework.Service.RunImportBatch opens a batch's rows with
// OpenCase's checks, refusals and audit, in bulk, as the person who made
// the import). The worker registers them beside Activities.
type ImportActivities struct {
	Cases *casework.Service
}

// ImportCasesBatch opens the pending rows of a window of an import's
// lines, heartbeating after each row, so a worker that dies mid-batch is
// noticed within the heartbeat timeout and the batch retried: the rows it
// opened are found by their idempotency keys, not opened again.
func (a *ImportActivities) ImportCasesBatch(ctx context.Context, in workflows.ImportBatchInput) (workflows.ImportResult, error) {
	beat := func() {}
	if activity.IsActivity(ctx) {
		beat = func() { activity.RecordHeartbeat(ctx) }
	}
	res, err := a.Cases.RunImportBatch(ctx, in.ImportID, in.After, in.Through, beat)
	return res, gone(err)
}

// FinishImport marks an import done and counts what it did.
func (a *ImportActivities) FinishImport(ctx context.Context, importID string) (workflows.ImportResult, error) {
	res, err := a.Cases.FinishImport(ctx, importID)
	return res, gone(err)
}

// gone makes an import that is no longer there a failure not to retry.
func gone(err error) error {
	if errors.Is(err, casework.ErrImportGone) {
		return temporal.NewNonRetryableApplicationError(err.Error(), workflows.ErrTypeImportGone, err)
	}
	return err
}
