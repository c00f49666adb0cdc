package activities

import (
	"context"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/throughgate/throughgate/internal/postgres"
)

// retentionBatch is how many cases one transaction anonymises.
const retentionBatch = 100

// AnonymiseClosedCases is the activity workflows.ActivityAnonymiseClosedCases:
// it anonymises, batch by batch, every case that closed more than
// RetentionYears before at (postgres.AnonymiseClosedCases), heartbeating
// the count so far, and returns how many it anonymised. With
// RetentionYears 0 it does nothing. Then it deletes the events and
// import rows older than that which belong to no case
// (postgres.PurgeCaselessRecords). A batch commits on its own, so a
// retry after a failure carries on where the last one stopped.
func (a *Activities) AnonymiseClosedCases(ctx context.Context, at time.Time) (int, error) {
	if a.RetentionYears <= 0 {
		return 0, nil
	}
	cutoff := postgres.RetentionCutoff(at, a.RetentionYears)
	total := 0
	for {
		ids, err := a.DB.AnonymiseClosedCases(ctx, cutoff, at, retentionBatch)
		total += len(ids)
		if err != nil {
			return total, err
		}
		activity.RecordHeartbeat(ctx, total)
		if len(ids) < retentionBatch {
			break
		}
	}
	if total > 0 {
		a.logger().InfoContext(ctx, "retention: cases anonymised", "count", total, "closed_before", cutoff, "years", a.RetentionYears)
	}
	// What belongs to no case is kept as long as a closed case, from when
	// it was received.
	events, rows, err := a.DB.PurgeCaselessRecords(ctx, cutoff)
	if err != nil {
		return total, err
	}
	if events > 0 || rows > 0 {
		a.logger().InfoContext(ctx, "retention: caseless records deleted", "events", events, "import_rows", rows, "before", cutoff)
	}
	return total, nil
}
