package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// Attempt is one try at sending an outbox row.
type Attempt struct {
	OutboxID int64
	At       time.Time
	Sender   string
	Outcome  string
	Error    string
}

// Attempts lists every attempt at a row, oldest first.
func (db *DB) Attempts(ctx context.Context, outboxID int64) ([]Attempt, error) {
	rows, err := db.q.Query(ctx, `select outbox_id, at, sender, outcome, coalesce(error, '') from outbox_attempts
		where outbox_id = $1 order by id`, outboxID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Attempt, error) {
		var a Attempt
		err := r.Scan(&a.OutboxID, &a.At, &a.Sender, &a.Outcome, &a.Error)
		return a, err
	})
}
