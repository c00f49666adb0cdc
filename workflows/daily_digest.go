package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

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
	w := &dailyDigest{day: in.Day}
	if err := w.setup(ctx); err != nil {
		return 0, err
	}
	return w.run(ctx)
}

// dailyDigest is one run of DailyDigest.
type dailyDigest struct {
	day resettlement.Date // the day to send digests for
}

// setup settles the day: the one asked for, or today.
func (w *dailyDigest) setup(ctx workflow.Context) error {
	if w.day.IsZero() {
		w.day = resettlement.DateOf(workflow.Now(ctx))
	}
	return nil
}

// run has the day's digests written, unless the day is not a working day.
func (w *dailyDigest) run(ctx workflow.Context) (int, error) {
	if !resettlement.EnglandAndWales.IsWorkingDay(w.day) {
		return 0, nil
	}
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 10 * time.Second, MaximumInterval: 5 * time.Minute},
	})
	var sent int
	err := workflow.ExecuteActivity(ctx, ActivitySendDigests, w.day).Get(ctx, &sent)
	return sent, err
}
