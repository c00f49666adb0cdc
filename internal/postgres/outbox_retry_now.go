package postgres

import "context"

// RetryNow makes every email waiting out its backoff after a temporary
// failure due now, and says how many. A sender calls it when the relay,
// which had been refusing it, takes a message again: the emails that
// failed during the outage then go at once, not up to a backoff later.
// Only a failed attempt (RecordOutcome) leaves a pending row with an error
// and a next attempt in the future; the range on next_attempt_at is the
// claim index's (outbox_claimable), so with nothing backed off it reads
// next to nothing.
func (db *DB) RetryNow(ctx context.Context) (int64, error) {
	tag, err := db.q.Exec(ctx, `update outbox set next_attempt_at = now()
		where state = 'pending' and next_attempt_at > now() and last_error is not null`)
	return tag.RowsAffected(), err
}
