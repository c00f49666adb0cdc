package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/throughgate/throughgate/resettlement"
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

// outcomeColumns are the cases table's columns for OutcomeMeasures, in
// the same order (migration 018).
var outcomeColumns = func() []string {
	cols := make([]string, len(OutcomeMeasures))
	for i, m := range OutcomeMeasures {
		cols[i] = "outcome_" + m
	}
	return cols
}()

// outcomeSet sets the outcome columns from SaveCase's parameters $18 on.
var outcomeSet = func() string {
	set := make([]string, len(outcomeColumns))
	for i, c := range outcomeColumns {
		set[i] = fmt.Sprintf("%s = $%d", c, 18+i)
	}
	return strings.Join(set, ", ")
}()

// caseOutcome is what SaveCase keeps in the case's row for the outcomes
// report, so the report reads an index rather than every case's state: the
// day the person was released (nil until the release step is done: the day
// recorded, or for a case opened after it, the release day), then each of
// OutcomeMeasures as the closure recorded it (nil when not recorded, and
// all nil until the case closes).
func caseOutcome(c *resettlement.Case) (released *time.Time, outcomes []any, err error) {
	outcomes = make([]any, len(OutcomeMeasures))
	if st, ok := c.Step(resettlement.StepRelease); ok && st.Status == resettlement.StepDone {
		if d, ok := c.ReleaseDay(); ok {
			released = date(d)
		}
	}
	if released == nil || c.Closure == nil {
		return released, outcomes, nil
	}
	// By the outcome's JSON names, which OutcomeMeasures are, so a measure
	// is read exactly as the closure stores it.
	b, err := json.Marshal(c.Closure.Outcome)
	if err != nil {
		return nil, nil, err
	}
	var recorded map[string]*bool
	if err := json.Unmarshal(b, &recorded); err != nil {
		return nil, nil, err
	}
	for i, m := range OutcomeMeasures {
		if v := recorded[m]; v != nil {
			outcomes[i] = *v
		}
	}
	return released, outcomes, nil
}

// Outcomes counts released people and their recorded outcomes, by
// establishment and month of release, from the columns SaveCase keeps
// (caseOutcome) through the indexes of released cases (migration 018).
func (db *DB) Outcomes(ctx context.Context, f OutcomeFilter) ([]OutcomeRow, error) {
	args := []any{f.From.Format(time.DateOnly), f.To.Format(time.DateOnly), f.Team}
	// The scope names only the lists it has (scopeSQL names all three, and
	// whether it is everything): a plan the server keeps for the statement
	// can then look the teams, or the prisons, up in their index rather
	// than read every release.
	var arms []string
	if len(f.Scope.Establishments) > 0 {
		args = append(args, f.Scope.Establishments)
		arms = append(arms, fmt.Sprintf("c.establishment = any($%d::text[])", len(args)))
	}
	if len(f.Scope.Teams) > 0 {
		args = append(args, f.Scope.Teams)
		arms = append(arms, fmt.Sprintf("c.team_id = any($%d::text[])", len(args)))
	}
	scope := "(" + strings.Join(arms, " or ") + ")"
	switch {
	case f.Scope.All:
		scope = "true"
	case len(arms) == 0:
		scope = "false"
	}
	var cols []string
	for _, c := range outcomeColumns {
		cols = append(cols, fmt.Sprintf(`count(*) filter (where c.%s), count(*) filter (where not c.%s)`, c, c))
	}
	q := `select c.establishment, date_trunc('month', c.released_on)::date, count(*), ` + strings.Join(cols, ", ") + `
		from cases c
		where c.released_on >= $1::date and c.released_on < $2::date and ($3 = '' or c.team_id = $3) and ` + scope + `
		group by 1, 2 order by 2, 1`
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
