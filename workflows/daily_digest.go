package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/throughgate/throughgate/activities"
	"github.com/throughgate/throughgate/resettlement"
)

// DailyDigestScheduleID is the Temporal schedule that starts DailyDigest
// every morning. One schedule for the whole service, rather than a timer per
// worker: it costs one workflow a day however many people choose a digest,
// it keeps London time across clock changes, and operators can see, pause or
// trigger it in the Temporal UI.
const DailyDigestScheduleID = "throughgate-daily-digest"

// DigestInput names the day to send digests for; the schedule leaves it
// empty, meaning today. Operators re-send a missed day by starting the
// workflow with that day.
type DigestInput struct {
	Day resettlement.Date `json:"day,omitempty"`
}

// DailyDigest sends the day's digest to everyone who chose one, on working
// days (bank holidays cannot be written into a schedule's calendar, so the
// workflow skips them itself).
func DailyDigest(ctx workflow.Context, in DigestInput) (int, error) {
	day := in.Day
	if day.IsZero() {
		day = resettlement.DateOf(workflow.Now(ctx))
	}
	if !resettlement.EnglandAndWales.IsWorkingDay(day) {
		return 0, nil
	}
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 10 * time.Second, MaximumInterval: 5 * time.Minute},
	})
	var acts *activities.Activities
	var sent int
	err := workflow.ExecuteActivity(ctx, acts.SendDigests, day).Get(ctx, &sent)
	return sent, err
}
