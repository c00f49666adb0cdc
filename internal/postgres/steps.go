package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/throughgate/throughgate/resettlement"
)

// openStatuses are the statuses of a step still to be done, as a SQL list.
const openStatuses = `('not-started', 'in-progress', 'waiting')`

// stepColumns and stepRow are how a domain step is written to the steps
// table, by the projection and by the benchmarks' bulk loader alike.
var stepColumns = []string{"case_id", "id", "kind", "title", "pathway", "status", "owner_staff", "owner_team", "blocking", "due", "due_date", "updated"}

func stepRow(caseID string, s resettlement.Step) []any {
	var due *time.Time
	if !s.Due.IsZero() {
		due = &s.Due
	}
	var staff *string
	if s.Owner.Staff != "" {
		staff = &s.Owner.Staff
	}
	return []any{caseID, s.ID, string(s.Kind), s.Title, string(s.Pathway), string(s.Status), staff, s.Owner.Team, s.Blocking, due, date(s.DueDate), s.Updated}
}

// MyDueStep is a step a worker owns that falls due soon, with the case it
// belongs to.
type MyDueStep struct {
	CaseID       string
	PrisonNumber string
	GivenName    string
	FamilyName   string
	StepID       string
	Title        string
	Pathway      string
	Status       string
	Blocking     bool
	Due          time.Time
	ReleaseDay   *time.Time
	Paused       bool
}

// StepsDue lists the open steps of open cases in scope that the member of
// staff owns and that are due before the instant (overdue ones included),
// soonest first.
func (db *DB) StepsDue(ctx context.Context, s Scope, staffID string, before time.Time, limit int) ([]MyDueStep, error) {
	if limit <= 0 {
		limit = 100
	}
	args := append(scopeArgs(s), staffID, before, limit)
	rows, err := db.q.Query(ctx, `select c.id, c.prison_number, c.given_name, c.family_name, s.id, s.title, s.pathway, s.status,
		s.blocking, s.due, c.release_day, c.paused
		from steps s join cases c on c.id = s.case_id
		where `+scopeSQL+` and c.closed_at is null and s.owner_staff = $4 and s.status in `+openStatuses+`
		and s.due is not null and s.due < $5
		order by s.due, c.id, s.id limit $6`, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (MyDueStep, error) {
		var d MyDueStep
		err := row.Scan(&d.CaseID, &d.PrisonNumber, &d.GivenName, &d.FamilyName, &d.StepID, &d.Title, &d.Pathway, &d.Status,
			&d.Blocking, &d.Due, &d.ReleaseDay, &d.Paused)
		return d, err
	})
}

// DueStep is an open step for a digest.
type DueStep struct {
	CaseID     string
	StepID     string
	Title      string
	Due        time.Time
	Blocking   bool
	Pathway    string
	ReleaseDay *time.Time
}

// DueSteps lists the open steps a member of staff owns that are due by
// until, overdue first.
func (db *DB) DueSteps(ctx context.Context, staffID string, until time.Time) ([]DueStep, error) {
	rows, err := db.q.Query(ctx, `select s.case_id, s.id, s.title, s.due, s.blocking, s.pathway, c.release_day
		from steps s join cases c on c.id = s.case_id
		where s.owner_staff = $1 and s.status in ('not-started', 'in-progress', 'waiting') and s.due <= $2
		and c.closed_at is null and not c.paused
		order by s.due, s.case_id, s.id`, staffID, until)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[DueStep])
}

// OverdueFilter narrows the weekly count of overdue steps, like the board.
// Team and establishment are the case's now; owner and pathway the step's.
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
//   - its case was not paused at T (the board leaves paused cases out too).
//
// Counted at the moment a week ends, this is how many steps were overdue
// then, not how many became overdue during the week.
func (db *DB) OverdueAt(ctx context.Context, f OverdueFilter, ends []time.Time) ([]int, error) {
	if len(ends) == 0 {
		return nil, nil
	}
	first := ends[0]
	for _, t := range ends {
		if t.Before(first) {
			first = t
		}
	}
	args := append(scopeArgs(f.Scope), ends, f.Establishment, f.Team, f.Owner, f.Pathway, first)
	rows, err := db.q.Query(ctx, `select e.i, count(x.case_id)
		from unnest($4::timestamptz[]) with ordinality as e(t, i)
		left join lateral (
			select s.case_id from steps s join cases c on c.id = s.case_id
			where `+scopeSQL+`
			and ($5 = '' or c.establishment = $5) and ($6 = '' or c.team_id = $6)
			and ($7 = '' or s.owner_staff = $7) and ($8 = '' or s.pathway = $8)
			and s.due is not null and s.due < e.t and c.opened_at <= e.t
			-- a step closed (and not touched since) before the first instant was closed at every instant
			and (s.status in `+openStatuses+` or s.updated > $9)
			and coalesce((select ev.to_status from case_events ev
					where ev.case_id = s.case_id and ev.step_id = s.id and ev.kind = 'step-status' and ev.at <= e.t
					and ev.seq > coalesce((select max(r.seq) from case_events r
						where r.case_id = s.case_id and r.kind = 'reset' and r.at <= e.t), 0)
					order by ev.seq desc limit 1),
				case when s.kind = 'identify' then 'done' else 'not-started' end) in `+openStatuses+`
			and coalesce((select p.kind from case_events p
					where p.case_id = s.case_id and p.kind in ('paused', 'resumed', 'reset') and p.at <= e.t
					order by p.seq desc limit 1), '') <> 'paused'
		) x on true
		group by e.i order by e.i`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]int, len(ends))
	for rows.Next() {
		var i int64
		var n int
		if err := rows.Scan(&i, &n); err != nil {
			return nil, err
		}
		out[i-1] = n
	}
	return out, rows.Err()
}
