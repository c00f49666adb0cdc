package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"

	"github.com/throughgate/throughgate/activities"
	"github.com/throughgate/throughgate/internal/config"
	"github.com/throughgate/throughgate/internal/mail"
	"github.com/throughgate/throughgate/internal/outbox"
	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/workflows"
)

// NewWorker registers the workflows and their activities on the task queue.
// Its options set no interceptors: the client's (DialTemporal: tracing)
// apply to it already, and the SDK asks that one not be set in both.
//
// The sticky cache (WORKER_CACHE_SIZE; 0 leaves the SDK's 10,000) is
// shared by every worker in the process and must be sized before the first
// starts. A case not cached replays its history at its next task; a cached
// one keeps its state and its goroutine's stack, which Go's collector walks
// at every cycle. A case sleeps for days between tasks, so a cache holding
// the last few minutes' cases keeps what is worth keeping: at 1,000 an
// imported case cost 21 to 23 ms of processor time, at 250 18 ms (README,
// "Performance").
//
// Its pollers scale with the work (the SDK's poller autoscaling, up to 100
// a queue) instead of the SDK's fixed two: with two, a worker apart from
// its server (production) took new cases' first tasks at some 16 a second
// while the server accepted 88 starts a second, and the tasks not matched
// to a waiting poll queued in Temporal's database (4,353 of them). With
// polls waiting, each task goes straight to one (the temporal benchmark,
// README "Performance").
func NewWorker(c client.Client, db *postgres.DB, cfg config.Config, logger *slog.Logger) worker.Worker {
	if cfg.WorkerCacheSize > 0 {
		worker.SetStickyWorkflowCacheSize(cfg.WorkerCacheSize)
	}
	w := worker.New(c, workflows.TaskQueue, worker.Options{
		WorkflowTaskPollerBehavior: worker.NewPollerBehaviorAutoscaling(worker.PollerBehaviorAutoscalingOptions{}),
		ActivityTaskPollerBehavior: worker.NewPollerBehaviorAutoscaling(worker.PollerBehaviorAutoscalingOptions{}),
	})
	w.RegisterWorkflow(workflows.ReleaseCase)
	w.RegisterWorkflow(workflows.DailyDigest)
	w.RegisterWorkflow(workflows.RetentionSweep)
	w.RegisterWorkflow(workflows.ImportCases) // caseload imports: imports.go
	w.RegisterActivity(&activities.ImportActivities{Cases: importService(db, c, cfg)})
	w.RegisterActivity(&activities.Activities{DB: db, BaseURL: cfg.BaseURL, Logger: logger, RetentionYears: cfg.RetentionYears})
	return w
}

// EnsureDigestSchedule creates the daily digest schedule if it is missing:
// 07:00 London time every day (the workflow skips non-working days).
func EnsureDigestSchedule(ctx context.Context, c client.Client) error {
	_, err := c.ScheduleClient().Create(ctx, client.ScheduleOptions{
		ID: workflows.DailyDigestScheduleID,
		Spec: client.ScheduleSpec{
			Calendars:    []client.ScheduleCalendarSpec{{Hour: []client.ScheduleRange{{Start: 7}}, Minute: []client.ScheduleRange{{Start: 0}}}},
			TimeZoneName: "Europe/London",
		},
		Action: &client.ScheduleWorkflowAction{ID: "daily-digest", Workflow: workflows.DailyDigest, TaskQueue: workflows.TaskQueue,
			Args: []any{workflows.DigestInput{}}},
	})
	if errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("creating the daily digest schedule: %w", err)
	}
	return nil
}

// StartDispatcher raises each case's alarms at their instant from the read
// model (activities.Dispatcher), until the returned stop function is called.
func StartDispatcher(db *postgres.DB, cfg config.Config, logger *slog.Logger) (stop func()) {
	d := &activities.Dispatcher{Activities: &activities.Activities{DB: db, BaseURL: cfg.BaseURL, Logger: logger}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); d.Run(ctx) }()
	return func() { cancel(); <-done }
}

// StartSender drains the outbox in the background with connections
// senders at once (SMTP_CONNECTIONS), until the returned stop function is
// called. Each sends its batches over one SMTP connection, so a peak of
// alarms is not held to one connection's round trips. The mail sender's
// rate (SMTP_RATE) is the limit shared through the database by every
// sender of every worker.
func StartSender(db *postgres.DB, m *mail.Sender, from string, connections int, logger *slog.Logger) (stop func() error) {
	host, _ := os.Hostname()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, max(connections, 1))
	for i := range max(connections, 1) {
		s := &outbox.Sender{DB: db, Mail: m, From: from, Name: fmt.Sprintf("%s/%d/%d", host, os.Getpid(), i+1), Rate: m.RatePerMinute(), Logger: logger}
		go func() { done <- s.Run(ctx) }()
	}
	return func() error {
		cancel()
		var errs []error
		for range max(connections, 1) {
			errs = append(errs, <-done)
		}
		return errors.Join(errs...)
	}
}
