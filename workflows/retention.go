package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// RetentionScheduleID is the Temporal schedule that starts RetentionSweep
// every night, as DailyDigestScheduleID starts the digest: one schedule
// for the service, visible (and pausable) in the Temporal UI.
const RetentionScheduleID = "throughgate-retention-sweep"

// RetentionWorkflowID is the id of the sweep the schedule starts.
const RetentionWorkflowID = "retention-sweep"

// RetentionInput names the instant to sweep as of; the schedule leaves it
// zero, meaning the workflow's now. It carries nothing about any person:
// the activity finds the cases in PostgreSQL, and how many years to keep
// is the worker's setting (RETENTION_YEARS).
type RetentionInput struct {
	At time.Time `json:"at,omitempty"`
}

// RetentionResult says how many cases the sweep anonymised.
type RetentionResult struct {
	Anonymised int `json:"anonymised"`
}

// RetentionSweep anonymises the personal data of every case that closed
// more than RETENTION_YEARS before the sweep's instant (docs/design.md,
// "Personal data"). The activity works in batches and heartbeats, so a
// sweep with years of closures behind it finishes across retries; each
// batch commits on its own, so a retry does not redo them.
func RetentionSweep(ctx workflow.Context, in RetentionInput) (RetentionResult, error) {
	at := in.At
	if at.IsZero() {
		at = workflow.Now(ctx)
	}
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Hour,
		HeartbeatTimeout:    2 * time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 30 * time.Second, MaximumInterval: 10 * time.Minute, MaximumAttempts: 10},
	})
	var out RetentionResult
	err := workflow.ExecuteActivity(ctx, ActivityAnonymiseClosedCases, at).Get(ctx, &out.Anonymised)
	return out, err
}
