package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/resettlement"
)

// regradeEvery is how often the re-grader looks for board lines whose
// grading the clock may have changed: a step falls due at close of business
// and shows on the managers' board within this long.
const regradeEvery = time.Minute

// StartRegrader keeps the managers' board current in the background until
// the returned stop function is called: every regradeEvery it grades again
// the cases whose board lines have passed their regrade instant
// (postgres.DB.Regrade), a batch at a time. Several workers may run one:
// each batch locks its cases, and the others skip them. It also counts the
// overdue steps at the latest Monday's midnight once it has passed
// (postgres.DB.CountOverdueAt): the board's weekly chart ends its weeks
// then, and a count taken here is one the first view need not take. And
// it compacts the board's summary counts (postgres.DB.CompactBoardCounts).
func StartRegrader(db *postgres.DB, logger *slog.Logger) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(regradeEvery)
		defer t.Stop()
		for {
			total := 0
			for {
				n, err := db.Regrade(ctx, time.Now(), 500)
				if err != nil {
					if ctx.Err() == nil {
						logger.Error("re-grading the board", "err", err)
					}
					break
				}
				total += n
				if n == 0 {
					break
				}
			}
			if total > 0 {
				logger.Info("board re-graded", "cases", total)
			}
			// The saves and re-gradings since the last tick added delta rows
			// to the board's counts; fold them in so the summary stays a sum
			// of about one row per key. One worker compacts, the others skip.
			if _, err := db.CompactBoardCounts(ctx); err != nil && ctx.Err() == nil {
				logger.Error("compacting the board's counts", "err", err)
			}
			if err := db.CountOverdueAt(ctx, lastMonday(time.Now())); err != nil && ctx.Err() == nil {
				logger.Error("counting the overdue steps for the board's chart", "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() { cancel(); <-done }
}

// lastMonday is the latest Monday's midnight in London at or before t.
func lastMonday(t time.Time) time.Time {
	d := resettlement.DateOf(t)
	return d.AddDays(-((int(d.Weekday()) + 6) % 7)).At(0)
}
