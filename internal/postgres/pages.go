package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// The queries behind the server-rendered pages that the API has no need of:
// a worker's steps due soon, the names to show for staff ids, the people a
// step can be given to, and the weekly count of overdue steps.

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

// StaffNames returns the names of the members of staff with the ids
// (active or not: a step may still name someone who has left).
func (db *DB) StaffNames(ctx context.Context, ids []string) (map[string]string, error) {
	names := map[string]string{}
	if len(ids) == 0 {
		return names, nil
	}
	rows, err := db.q.Query(ctx, `select id, name from staff where id = any($1::text[])`, ids)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id, name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, err
		}
		names[id] = name
	}
	return names, rows.Err()
}

// ActiveStaffIn lists the active members of the teams, by name.
func (db *DB) ActiveStaffIn(ctx context.Context, teams []string) ([]Staff, error) {
	rows, err := db.q.Query(ctx, `select id, name, email, role, coalesce(team_id, ''), notify, away_until, active
		from staff where active and team_id = any($1::text[]) order by name, id`, nonNil(teams))
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Staff, error) {
		var s Staff
		err := row.Scan(&s.ID, &s.Name, &s.Email, &s.Role, &s.Team, &s.Notify, &s.AwayUntil, &s.Active)
		return s, err
	})
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
