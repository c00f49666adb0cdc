package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/throughgate/throughgate/resettlement"
)

// alarmSet sets the case's next alarms from SaveCase's last two parameters,
// after the outcome columns.
var alarmSet = fmt.Sprintf("next_alarm_at = $%d, next_alarms = $%d", 18+len(outcomeColumns), 19+len(outcomeColumns))

// nextAlarms is what SaveCase keeps of the projection's next alarms: their
// instant and the alarms, or nothing for a case with none to come.
func nextAlarms(p resettlement.Projection) (*time.Time, []byte, error) {
	if len(p.Alarms) == 0 {
		return nil, nil, nil
	}
	b, err := json.Marshal(p.Alarms)
	if err != nil {
		return nil, nil, err
	}
	return &p.AlarmsAt, b, nil
}

// DueAlarms are the alarms of one case whose instant has come, with the
// case as the read model last saved it (Case.Fired and Case.Events are not
// saved, and not needed to raise them).
type DueAlarms struct {
	Case   *resettlement.Case
	At     time.Time
	Alarms []resettlement.Alarm
}

// RaiseDueAlarms claims up to n cases whose next alarms are due at now,
// calls raise for each, and clears them, in one transaction: the cases'
// rows stay locked while raise runs, so a command on its way to one of
// them (HoldAlarms) waits until its alarms are raised, and two dispatchers
// never take the same case (SKIP LOCKED). An error from raise is the
// caller's to log: the case's alarms are cleared all the same, and its
// workflow's timer raises them (the backstop). It returns how many cases
// it claimed.
//
// The lock is FOR NO KEY UPDATE, as an UPDATE of the row takes: FOR UPDATE
// would also stop raise's own outbox rows, whose foreign key reads the
// case's row FOR KEY SHARE from another connection, until the transaction
// ended.
func (db *DB) RaiseDueAlarms(ctx context.Context, now time.Time, n int, raise func(DueAlarms)) (int, error) {
	claimed := 0
	err := pgx.BeginFunc(ctx, db.q, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `select id, next_alarm_at, next_alarms, state from cases
			where next_alarm_at <= $1 order by next_alarm_at limit $2 for no key update skip locked`, now, n)
		if err != nil {
			return err
		}
		var due []DueAlarms
		var ids []string
		for rows.Next() {
			var id string
			var d DueAlarms
			var alarms, state []byte
			if err := rows.Scan(&id, &d.At, &alarms, &state); err != nil {
				return err
			}
			if err := json.Unmarshal(alarms, &d.Alarms); err != nil {
				return fmt.Errorf("case %s: next alarms: %w", id, err)
			}
			if err := json.Unmarshal(state, &d.Case); err != nil || d.Case == nil {
				return fmt.Errorf("case %s: state: %v", id, err)
			}
			due = append(due, d)
			ids = append(ids, id)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		for _, d := range due {
			raise(d)
		}
		claimed = len(ids)
		if claimed == 0 {
			return nil
		}
		_, err = tx.Exec(ctx, `update cases set next_alarm_at = null, next_alarms = null where id = any($1)`, ids)
		return err
	})
	return claimed, err
}

// HoldAlarms clears a case's next alarms before a command goes to its
// workflow, waiting for a dispatcher raising them to finish: what is
// raised then is what the case said before the command. The workflow's
// save after the command sets them again; a command it rejects leaves them
// to the workflow's timer.
func (db *DB) HoldAlarms(ctx context.Context, caseID string) error {
	_, err := db.q.Exec(ctx, `update cases set next_alarm_at = null, next_alarms = null
		where id = $1 and next_alarm_at is not null`, caseID)
	return err
}
