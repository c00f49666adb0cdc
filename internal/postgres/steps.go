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
