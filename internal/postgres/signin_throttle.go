package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
)

// ThrottleState is the record of failed attempts against one account
// (table signin_throttle; auth.Throttle decides what it allows).
type ThrottleState struct {
	Failures    int
	LastFailure time.Time // zero: none counted
	LockedUntil time.Time // zero: never locked
}

// CountAttempt takes an attempt against key (an account, or a name that
// matches none) at now. In one transaction it reads the key's record,
// locking it, so concurrent attempts queue rather than all passing one
// check; decide says how long the attempt must still wait (0: go ahead)
// and the failures to count on from (fewer when old ones are forgotten).
// An attempt that may go ahead is counted as a failure there and then —
// ClearAttempts forgets it when it succeeds — so a flood of attempts in
// flight cannot outrun the count. A refused attempt is not counted.
func (db *DB) CountAttempt(ctx context.Context, key, staffID string, now time.Time,
	decide func(ThrottleState) (wait time.Duration, failures int)) (time.Duration, error) {
	var wait time.Duration
	err := db.InTx(ctx, func(tx *DB) error {
		if _, err := tx.q.Exec(ctx, `insert into signin_throttle (key, staff_id) values ($1, nullif($2, ''))
			on conflict (key) do nothing`, key, staffID); err != nil {
			return err
		}
		var s ThrottleState
		var last, locked *time.Time
		if err := tx.q.QueryRow(ctx, `select failures, last_failure, locked_until from signin_throttle where key = $1 for update`, key).
			Scan(&s.Failures, &last, &locked); err != nil {
			return err
		}
		if last != nil {
			s.LastFailure = *last
		}
		if locked != nil {
			s.LockedUntil = *locked
		}
		var failures int
		if wait, failures = decide(s); wait > 0 {
			return nil
		}
		_, err := tx.q.Exec(ctx, `update signin_throttle set failures = $2, last_failure = $3 where key = $1`, key, failures+1, now)
		return err
	})
	return wait, err
}

// LockAttempts locks key until until if it has at least lockAfter failures
// and is not locked already at now, and reports whether it did — true once
// per lock, for the one email that says so — with the failures counted.
func (db *DB) LockAttempts(ctx context.Context, key string, lockAfter int, now, until time.Time) (locked bool, failures int, err error) {
	err = db.q.QueryRow(ctx, `update signin_throttle set locked_until = $4
		where key = $1 and failures >= $2 and (locked_until is null or locked_until <= $3) returning failures`,
		key, lockAfter, now, until).Scan(&failures)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, 0, nil
	}
	return err == nil, failures, err
}

// ClearAttempts forgets key's failures after a success, and sweeps records
// with no failure since staleBefore and no lock in force.
func (db *DB) ClearAttempts(ctx context.Context, key string, staleBefore time.Time) error {
	_, err := db.q.Exec(ctx, `delete from signin_throttle where key = $1
		or (last_failure < $2 and (locked_until is null or locked_until < $2))`, key, staleBefore)
	return err
}

// AccountEmails lists the emails raised to a member of staff about their
// own account (a lock, a password or role an administrator set), oldest
// first.
func (db *DB) AccountEmails(ctx context.Context, staffID string) ([]OutboxRow, error) {
	rows, err := db.q.Query(ctx, `select id, '', alarm_key, recipient, kind, template, data, state, attempts
		from outbox where case_id is null and kind = 'account' and recipient_id = $1 order by id`, staffID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []OutboxRow
	for rows.Next() {
		var r OutboxRow
		if err := rows.Scan(&r.ID, &r.CaseID, &r.AlarmKey, &r.Recipient, &r.Kind, &r.Template, &r.Data, &r.State, &r.Attempts); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
