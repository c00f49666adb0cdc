package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// OutcomeMeasures are the outcomes a case records when it closes
// (resettlement.Outcome), by their JSON names, in the order reports show
// them.
var OutcomeMeasures = []string{"accommodation_night_one", "accommodation_12_weeks", "gp_registered",
	"id_obtained", "bank_account", "benefits_in_payment"}

// OutcomeCount is one measure's answers: yes, no, and (Released less
// both) not recorded.
type OutcomeCount struct{ Yes, No int }

// OutcomeRow counts the people released from one establishment in one
// month, and what their cases recorded at closure.
type OutcomeRow struct {
	Establishment string
	Month         time.Time // the first of the month
	Released      int
	Counts        []OutcomeCount // one for each of OutcomeMeasures
}

// OutcomeFilter selects the cases of a report: those in scope (and of
// Team, if set) whose person was released on or after From and before To.
type OutcomeFilter struct {
	Scope    Scope
	Team     string
	From, To time.Time
}

// Outcomes counts released people and their recorded outcomes, by
// establishment and month of release. A person is released when the case's
// release step is done (the steps table, by its primary key); the day is
// the one the release was recorded on (the state's released_on), or for a
// case opened only after the release, its release day (release_day). Outcomes
// come from the closure in the read model's state, so a case released but
// not yet closed counts as released with its outcomes not recorded.
func (db *DB) Outcomes(ctx context.Context, f OutcomeFilter) ([]OutcomeRow, error) {
	var cols []string
	for _, m := range OutcomeMeasures {
		v := fmt.Sprintf(`(c.state->'closure'->'outcome'->>'%s')::boolean`, m)
		cols = append(cols, fmt.Sprintf(`count(*) filter (where %s), count(*) filter (where not %s)`, v, v))
	}
	q := `select c.establishment, date_trunc('month', r.released)::date, count(*), ` + strings.Join(cols, ", ") + `
		from cases c join steps s on s.case_id = c.id and s.id = 'release' and s.status = 'done'
		cross join lateral (select coalesce((c.state->>'released_on')::date, c.release_day) as released) r
		where ` + scopeSQL + ` and r.released >= $4::date and r.released < $5::date and ($6 = '' or c.team_id = $6)
		group by 1, 2 order by 2, 1`
	args := append(scopeArgs(f.Scope), f.From.Format(time.DateOnly), f.To.Format(time.DateOnly), f.Team)
	rows, err := db.q.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (OutcomeRow, error) {
		r := OutcomeRow{Counts: make([]OutcomeCount, len(OutcomeMeasures))}
		dst := []any{&r.Establishment, &r.Month, &r.Released}
		for i := range r.Counts {
			dst = append(dst, &r.Counts[i].Yes, &r.Counts[i].No)
		}
		err := row.Scan(dst...)
		return r, err
	})
}
