package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/throughgate/throughgate/resettlement"
)

// alarmSet sets the case's next alarm instant from SaveCase's last
// parameter, after the outcome columns.
var alarmSet = fmt.Sprintf("next_alarm_at = $%d", 18+len(outcomeColumns))

// instant is a time for a nullable column: nil for the zero time.
func instant(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// DueAlarms is a case whose next alarm instant, At, has come, as the read
// model last saved it (without Case.Fired and Case.Events, which are not
// saved: resettlement.Case.TakeDueSince works without them).
type DueAlarms struct {
	Case *resettlement.Case
	At   time.Time
}

// RaiseDueAlarms claims up to n cases whose next alarm instant has come by
// now, calls raise for each, and keeps the next instant raise returns (the
// zero time: none to come), in one transaction: the cases' rows stay
// locked while raise runs, so a command on its way to one of them
// (HoldAlarms) waits until its alarms are raised, and two dispatchers never
// take the same case (SKIP LOCKED). An error in raising is the caller's to
// log: the case moves on all the same, and its workflow's timer raises what
// was missed (the backstop). It returns how many cases it claimed.
//
// The lock is FOR NO KEY UPDATE, as an UPDATE of the row takes: FOR UPDATE
// would also stop raise's own outbox rows, whose foreign key reads the
// case's row FOR KEY SHARE from another connection, until the transaction
// ended.
func (db *DB) RaiseDueAlarms(ctx context.Context, now time.Time, n int, raise func(DueAlarms) (next time.Time)) (int, error) {
	claimed := 0
	err := pgx.BeginFunc(ctx, db.q, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `select id, next_alarm_at, state from cases
			where next_alarm_at <= $1 order by next_alarm_at limit $2 for no key update skip locked`, now, n)
		if err != nil {
			return err
		}
		var due []DueAlarms
		for rows.Next() {
			var id string
			var d DueAlarms
			var state []byte
			if err := rows.Scan(&id, &d.At, &state); err != nil {
				return err
			}
			if err := json.Unmarshal(state, &d.Case); err != nil || d.Case == nil {
				return fmt.Errorf("case %s: state: %v", id, err)
			}
			due = append(due, d)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		claimed = len(due)
		if claimed == 0 {
			return nil
		}
		ids, nexts := make([]string, len(due)), make([]*time.Time, len(due))
		for i, d := range due {
			ids[i], nexts[i] = d.Case.ID, instant(raise(d))
		}
		_, err = tx.Exec(ctx, `update cases c set next_alarm_at = v.at
			from unnest($1::text[], $2::timestamptz[]) as v(id, at) where c.id = v.id`, ids, nexts)
		return err
	})
	return claimed, err
}

// HeldAlarms is what HoldAlarms took from a case, for ReleaseAlarms.
type HeldAlarms struct {
	caseID  string
	at      time.Time // zero: nothing was held
	version int
}

// HoldAlarms clears a case's next alarm instant before a command goes to
// its workflow, waiting for a dispatcher raising its alarms to finish: what
// is raised then is what the case said before the command. The workflow's
// save after the command sets the instant again; ReleaseAlarms puts it
// back when there was none (a rejected or repeated command).
func (db *DB) HoldAlarms(ctx context.Context, caseID string) (HeldAlarms, error) {
	h := HeldAlarms{caseID: caseID}
	err := db.q.QueryRow(ctx, `with held as (
			select id, next_alarm_at, version from cases where id = $1 and next_alarm_at is not null for no key update)
		update cases c set next_alarm_at = null from held where c.id = held.id
		returning held.next_alarm_at, held.version`, caseID).Scan(&h.at, &h.version)
	if errors.Is(err, pgx.ErrNoRows) {
		return h, nil
	}
	return h, err
}

// ReleaseAlarms puts back what HoldAlarms took, unless the workflow has
// saved the case since (its save set the instant).
func (db *DB) ReleaseAlarms(ctx context.Context, h HeldAlarms) error {
	if h.at.IsZero() {
		return nil
	}
	_, err := db.q.Exec(ctx, `update cases set next_alarm_at = $2
		where id = $1 and version = $3 and next_alarm_at is null`, h.caseID, h.at, h.version)
	return err
}
