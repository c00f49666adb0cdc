package app

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/throughgate/throughgate/workflows"
)

// EnsureRetentionSchedule creates the nightly retention sweep's schedule
// if it is missing: 02:30 London time every day, while nobody works
// cases. How many years to keep is each worker's RETENTION_YEARS, read by
// the activity, so changing it needs no change to the schedule.
func EnsureRetentionSchedule(ctx context.Context, c client.Client) error {
	_, err := c.ScheduleClient().Create(ctx, client.ScheduleOptions{
		ID: workflows.RetentionScheduleID,
		Spec: client.ScheduleSpec{
			Calendars:    []client.ScheduleCalendarSpec{{Hour: []client.ScheduleRange{{Start: 2}}, Minute: []client.ScheduleRange{{Start: 30}}}},
			TimeZoneName: "Europe/London",
		},
		Action: &client.ScheduleWorkflowAction{ID: workflows.RetentionWorkflowID, Workflow: workflows.RetentionSweep,
			TaskQueue: workflows.TaskQueue, Args: []any{workflows.RetentionInput{}}},
	})
	if errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("creating the retention sweep's schedule: %w", err)
	}
	return nil
}
