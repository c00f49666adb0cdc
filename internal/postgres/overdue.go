package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/throughgate/throughgate/resettlement"
)

// OverdueFilter narrows the weekly count of overdue steps, like the board.
// Team and establishment are the case's when the instant was counted; owner
// and pathway the step's.
type OverdueFilter struct {
	Scope         Scope
	Establishment string
	Team          string
	Owner         string
	Pathway       string
}

// OverdueAt counts, for each instant in ends, the steps in scope that were
// overdue at that instant. A step counts at T when
//   - its due instant is before T — the due instant it has now, or had when
//     it closed: a due date moved after T is judged by where it is now, as
//     the history keeps no earlier due dates;
//   - it was open at T: its last status change at or before T (since the
//     case's last reset, which lays every step out afresh) left it not
//     started, in progress or waiting, or it had no change yet (every step
//     but "identify" starts not started);
//   - its case was open and not paused at T (the board leaves paused cases
//     out too).
//
// Counted at the moment a week ends, this is how many steps were overdue
// then, not how many became overdue during the week.
//
// An instant up to the start of now's day is in the past for good: it is
// counted once, for every case, and kept (CountOverdueAt), so the chart
// reads a few rows however many cases there are. An instant after it
// is counted from the steps as they stand, which is the same definition
// when no change has been recorded after it.
func (db *DB) OverdueAt(ctx context.Context, f OverdueFilter, ends []time.Time, now time.Time) ([]int, error) {
	out := make([]int, len(ends))
	settled := resettlement.DateOf(now).At(0) // midnight in London
	for i, t := range ends {
		var err error
		if !t.After(settled) {
			if err = db.CountOverdueAt(ctx, t); err == nil {
				out[i], err = db.countedOverdue(ctx, f, t)
			}
		} else {
			out[i], err = db.overdueNow(ctx, f, t)
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// countedOverdue sums an instant's kept counts within f.
func (db *DB) countedOverdue(ctx context.Context, f OverdueFilter, at time.Time) (int, error) {
	var n int
	err := db.q.QueryRow(ctx, `select coalesce(sum(c.steps), 0) from overdue_counts c
		where c.at = $4 and `+scopeSQL+`
		and ($5 = '' or c.establishment = $5) and ($6 = '' or c.team_id = $6)
		and ($7 = '' or c.owner_staff = $7) and ($8 = '' or c.pathway = $8)`,
		append(scopeArgs(f.Scope), at, f.Establishment, f.Team, f.Owner, f.Pathway)...).Scan(&n)
	return n, err
}

// overdueNow counts the steps in f overdue at t from their present state:
// open, due before t, on an open case that is not paused.
func (db *DB) overdueNow(ctx context.Context, f OverdueFilter, t time.Time) (int, error) {
	var n int
	err := db.q.QueryRow(ctx, `select count(*) from steps s join cases c on c.id = s.case_id
		where `+scopeSQL+` and s.status in `+openStatuses+` and s.due < $4
		and c.closed_at is null and not c.paused and c.opened_at <= $4
		and ($5 = '' or c.establishment = $5) and ($6 = '' or c.team_id = $6)
		and ($7 = '' or s.owner_staff = $7) and ($8 = '' or s.pathway = $8)`,
		append(scopeArgs(f.Scope), t, f.Establishment, f.Team, f.Owner, f.Pathway)...).Scan(&n)
	return n, err
}

// CountOverdueAt counts, once, the steps overdue at a past instant (by
// OverdueAt's definition) for every case, grouped by establishment, team,
// owner and pathway, and keeps the counts. Counting an instant already
// counted does nothing; two processes counting one instant at once leave
// one count. The worker counts each Monday's midnight as it passes, so the
// board's chart seldom has to.
func (db *DB) CountOverdueAt(ctx context.Context, at time.Time) error {
	var counted bool
	if err := db.q.QueryRow(ctx, `select exists (select 1 from overdue_counted where at = $1)`, at).Scan(&counted); err != nil || counted {
		return err
	}
	return pgx.BeginFunc(ctx, db.q, func(tx pgx.Tx) error {
		// The first to claim the instant counts it; another waits here for
		// it to commit and then finds it counted.
		tag, err := tx.Exec(ctx, `insert into overdue_counted (at) values ($1) on conflict do nothing`, at)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		_, err = tx.Exec(ctx, `insert into overdue_counts (at, establishment, team_id, owner_staff, pathway, steps)
			select $1, c.establishment, c.team_id, coalesce(s.owner_staff, ''), s.pathway, count(*)
			from steps s join cases c on c.id = s.case_id
			where s.due is not null and s.due < $1 and c.opened_at <= $1 and (c.closed_at is null or c.closed_at > $1)
			-- a step closed (and not touched since) before the instant was closed at it
			and (s.status in `+openStatuses+` or s.updated > $1)
			and coalesce((select ev.to_status from case_events ev
					where ev.case_id = s.case_id and ev.step_id = s.id and ev.kind = 'step-status' and ev.at <= $1
					and ev.seq > coalesce((select max(r.seq) from case_events r
						where r.case_id = s.case_id and r.kind = 'reset' and r.at <= $1), 0)
					order by ev.seq desc limit 1),
				case when s.kind = 'identify' then 'done' else 'not-started' end) in `+openStatuses+`
			and coalesce((select p.kind from case_events p
					where p.case_id = s.case_id and p.kind in ('paused', 'resumed', 'reset') and p.at <= $1
					order by p.seq desc limit 1), '') <> 'paused'
			group by 2, 3, 4, 5`, at)
		return err
	})
}
