package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/throughgate/throughgate/resettlement"
)

// ReadModelMetrics is what the read model and the outbox say about the
// engine's health at one instant, for the Prometheus gauges (package
// prometheus reads it at scrape time).
type ReadModelMetrics struct {
	// OpenCases counts open cases by the stage their workflow last saved;
	// every stage but closed is present, with 0 when no case is in it.
	OpenCases map[string]int
	// StalledCases counts open cases their workflow marks stalled.
	StalledCases int
	// OverdueSteps counts open steps past their due instant on open cases
	// that are not paused (as the board counts them).
	OverdueSteps int
	// OutboxPending counts emails waiting to be sent: pending (a retry
	// included) or claimed by a sender. Emails held for a digest are not.
	OutboxPending int
	// OutboxOldestPending is how long the oldest of them has waited since it
	// was raised; 0 when none waits.
	OutboxOldestPending time.Duration
	// OutboxUndeliverable counts emails the sender gave up on.
	OutboxUndeliverable int
}

// ReadModelMetrics reads the gauges in one read-only snapshot, judging
// "overdue" and "waited" at now. Each query is a count over an index or a
// table of open cases; the outbox's undeliverable count scans the outbox.
func (db *DB) ReadModelMetrics(ctx context.Context, now time.Time) (ReadModelMetrics, error) {
	m := ReadModelMetrics{OpenCases: map[string]int{}}
	for _, s := range resettlement.Stages {
		if s != resettlement.StageClosed {
			m.OpenCases[string(s)] = 0
		}
	}
	err := db.snapshot(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `select stage, count(*), count(*) filter (where stalled)
			from cases where closed_at is null group by stage`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var stage string
			var open, stalled int
			if err := rows.Scan(&stage, &open, &stalled); err != nil {
				rows.Close()
				return err
			}
			m.OpenCases[stage] = open
			m.StalledCases += stalled
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `select count(*) from steps s join cases c on c.id = s.case_id
			where s.status in `+openStatuses+` and s.due < $1 and c.closed_at is null and not c.paused`, now).
			Scan(&m.OverdueSteps); err != nil {
			return err
		}
		var oldest *time.Time
		if err := tx.QueryRow(ctx, `select count(*), min(created_at) from outbox where state in ('pending', 'sending')`).
			Scan(&m.OutboxPending, &oldest); err != nil {
			return err
		}
		if oldest != nil && now.After(*oldest) {
			m.OutboxOldestPending = now.Sub(*oldest)
		}
		return tx.QueryRow(ctx, `select count(*) from outbox where state = 'undeliverable'`).Scan(&m.OutboxUndeliverable)
	})
	return m, err
}
