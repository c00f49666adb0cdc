package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// The bare workflows: the same Temporal work as a case, with nothing of
// Throughgate's (no HTTP, no PostgreSQL of its own, no search attributes),
// run by a worker in this process with the SDK's default options, as
// Throughgate's worker runs, against the same server in the same run.
const bareQueue = "bench-bare"

// BareInput starts a bare workflow.
type BareInput struct {
	// Sleep is the timer after the activity (onboarding: a case's long
	// sleep until its first alarm).
	Sleep time.Duration
	// FireAt is the instant the peak's timer fires at; zero for onboarding.
	FireAt time.Time
}

// bareActivityTimeout is each bare activity's start-to-close timeout. Temporal
// keeps a timer task for it, which fires this long after the activity
// started whether or not it is done.
const bareActivityTimeout = 30 * time.Second

// BareOnboard is a case's opening in bare form: started, two activities
// (RaiseAlarm's and SaveCase's places), then one timer.
func BareOnboard(ctx workflow.Context, in BareInput) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: bareActivityTimeout})
	if err := workflow.ExecuteActivity(ctx, "BareAlarm").Get(ctx, nil); err != nil {
		return err
	}
	if err := workflow.ExecuteActivity(ctx, "BareSave").Get(ctx, nil); err != nil {
		return err
	}
	return workflow.Sleep(ctx, in.Sleep)
}

// BarePeak sleeps on one timer until FireAt, then runs one activity
// (RaiseAlarm's place), which notes how late it ran.
func BarePeak(ctx workflow.Context, in BareInput) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: bareActivityTimeout})
	if err := workflow.Sleep(ctx, in.FireAt.Sub(workflow.Now(ctx))); err != nil {
		return err
	}
	return workflow.ExecuteActivity(ctx, "BareFired", in.FireAt).Get(ctx, nil)
}

// bareActivities count what the bare workflows did.
type bareActivities struct {
	mu       sync.Mutex
	saved    int
	lastSave time.Time
	late     []time.Duration // BareFired: how long after FireAt each ran
}

func (a *bareActivities) BareAlarm(context.Context) error { return nil }

func (a *bareActivities) BareSave(context.Context) error {
	a.mu.Lock()
	a.saved++
	a.lastSave = time.Now()
	a.mu.Unlock()
	return nil
}

func (a *bareActivities) BareFired(_ context.Context, at time.Time) error {
	late := time.Since(at)
	a.mu.Lock()
	a.late = append(a.late, late)
	a.mu.Unlock()
	return nil
}

func (a *bareActivities) savedCount() (int, time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.saved, a.lastSave
}

func (a *bareActivities) fired() []time.Duration {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]time.Duration(nil), a.late...)
}

// startBareWorker runs the bare workflows' worker until stop is called.
func startBareWorker(c client.Client) (*bareActivities, func(), error) {
	acts := &bareActivities{}
	w := worker.New(c, bareQueue, worker.Options{})
	w.RegisterWorkflow(BareOnboard)
	w.RegisterWorkflow(BarePeak)
	w.RegisterActivity(acts)
	if err := w.Start(); err != nil {
		return nil, nil, err
	}
	return acts, w.Stop, nil
}

// startBare starts n bare workflows of one kind, conc at a time, and
// returns when every start has been answered.
func startBare(ctx context.Context, c client.Client, prefix string, n, conc int, wf any, in BareInput) error {
	return parallel(ctx, n, conc, func(i int) error {
		_, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: fmt.Sprintf("%s-%d", prefix, i), TaskQueue: bareQueue}, wf, in)
		return err
	})
}

// parallel runs f(0..n-1), conc at a time, and returns the first error
// (after which it starts no more).
func parallel(ctx context.Context, n, conc int, f func(i int) error) error {
	next := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	failed := func() bool { mu.Lock(); defer mu.Unlock(); return first != nil }
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := f(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for i := 0; i < n && !failed() && ctx.Err() == nil; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	if first != nil {
		return first
	}
	return ctx.Err()
}
