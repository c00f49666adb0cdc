package activities

import (
	"context"
	"sync"
	"time"

	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/workflows"
)

// Dispatcher raises each case's next alarms at their instant from the read
// model (postgres.DB.RaiseDueAlarms), through RaiseAlarm as the workflow's
// timer does, and builds each alarm's input as the workflow does
// (workflows.NewAlarmInput). It does not wait for the workflows: at the
// 09:00 peak every case's timer fires at once, and the Temporal server
// wakes them at what its processor allows (some 32 a second on two cores),
// while an email need only be put in the outbox. The timer stays the
// backstop: when it fires, the workflow raises the same keys and the
// outbox ignores them; an alarm the dispatcher failed to raise, or one
// cleared by a command on its way, goes out then.
//
// It is not an activity (the worker registers Activities' methods), but it
// runs beside them, in each worker process.
type Dispatcher struct {
	Activities *Activities
	// Workers is how many batches are raised at once (SKIP LOCKED keeps
	// them apart, across processes too); Batch how many cases a batch
	// claims; Poll how often an idle dispatcher looks.
	Workers, Batch int
	Poll           time.Duration
}

func (d *Dispatcher) defaults() {
	if d.Workers == 0 {
		d.Workers = 4
	}
	if d.Batch == 0 {
		d.Batch = 50
	}
	if d.Poll == 0 {
		d.Poll = time.Second
	}
}

// Run raises due alarms until ctx ends.
func (d *Dispatcher) Run(ctx context.Context) {
	d.defaults()
	var wg sync.WaitGroup
	for range d.Workers {
		wg.Go(func() {
			for {
				n, err := d.RaiseDue(ctx, time.Now())
				if err != nil && ctx.Err() == nil {
					d.Activities.logger().Error("alarm dispatcher: claiming due alarms failed; will retry", "err", err)
				}
				if n > 0 && err == nil {
					continue
				}
				select {
				case <-ctx.Done():
					return
				case <-time.After(d.Poll):
				}
			}
		})
	}
	wg.Wait()
}

// RaiseDue raises the alarms of one batch of cases due at now, and returns
// how many cases it claimed.
func (d *Dispatcher) RaiseDue(ctx context.Context, now time.Time) (int, error) {
	d.defaults()
	a := d.Activities
	return a.DB.RaiseDueAlarms(ctx, now, d.Batch, func(due postgres.DueAlarms) time.Time {
		c := due.Case.Clone()
		for _, al := range c.TakeDueSince(due.At, now) {
			if _, err := a.RaiseAlarm(ctx, workflows.NewAlarmInput(c, al, now)); err != nil {
				// The workflow's timer raises it: log, and go on.
				a.logger().Warn("alarm dispatcher: raising failed; the case's workflow will raise it",
					"case", c.ID, "alarm", al.Key, "err", err)
			}
		}
		// The next instant, from the case as saved: the dispatcher walks the
		// ladder on its own while the workflow sleeps out its backstop or
		// is behind.
		_, next := c.NextRaise()
		return next
	})
}
