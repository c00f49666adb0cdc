package casework

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/resettlement"
)

// The outcomes report: of the people released, by establishment and month
// of release, how many had accommodation on night one and at 12 weeks, a
// GP, ID, a bank account and benefits in payment, as their cases recorded
// at closure (resettlement.Closure.Outcome). For managers and heads of
// service, over their teams.

// OutcomeQuery is a report's filters: a team (one of the person's; empty
// for all of them) and the months of release from From to To, both
// included (each the first of its month).
type OutcomeQuery struct {
	Team     string
	From, To resettlement.Date
}

// OutcomeReport is the report's rows and totals over them.
type OutcomeReport struct {
	Query OutcomeQuery
	Rows  []postgres.OutcomeRow
	Total postgres.OutcomeRow
	Teams []postgres.Team // the teams the person may filter by
}

// firstOfMonth is the first day of d's month.
func firstOfMonth(d resettlement.Date) resettlement.Date {
	return resettlement.Date{Year: d.Year, Month: d.Month, Day: 1}
}

// Outcomes builds the outcomes report for p, audited.
func (s *Service) Outcomes(ctx context.Context, p *auth.Principal, q OutcomeQuery) (OutcomeReport, error) {
	scope, err := boardScope(p)
	if err != nil {
		return OutcomeReport{}, err
	}
	teams, _, err := s.Reach(ctx, p)
	if err != nil {
		return OutcomeReport{}, err
	}
	today := resettlement.DateOf(s.now())
	if q.To.IsZero() {
		q.To = today
	}
	if q.From.IsZero() {
		q.From = firstOfMonth(q.To).AddDays(-1)
		for range 10 { // twelve months in all, this one included
			q.From = firstOfMonth(q.From).AddDays(-1)
		}
	}
	q.From, q.To = firstOfMonth(q.From), firstOfMonth(q.To)
	var errs resettlement.Errors
	if q.Team != "" && !slices.ContainsFunc(teams, func(t postgres.Team) bool { return t.ID == q.Team }) {
		errs.Add("team", "is not one of your teams")
	}
	if q.To.Before(q.From) {
		errs.Add("to", "cannot be before the first month")
	} else if months(q.From, q.To) > 60 {
		errs.Add("from", "can be at most five years before the last month")
	}
	if len(errs) > 0 {
		return OutcomeReport{Query: q, Teams: teams}, FieldsError(errs)
	}
	end := firstOfMonth(q.To.AddDays(31))
	rows, err := s.DB.Outcomes(ctx, postgres.OutcomeFilter{Scope: scope, Team: q.Team,
		From: q.From.At(12 * time.Hour), To: end.At(12 * time.Hour)})
	if err != nil {
		return OutcomeReport{}, err
	}
	out := OutcomeReport{Query: q, Rows: rows, Teams: teams,
		Total: postgres.OutcomeRow{Establishment: "All", Counts: make([]postgres.OutcomeCount, len(postgres.OutcomeMeasures))}}
	for _, r := range rows {
		out.Total.Released += r.Released
		for i, c := range r.Counts {
			out.Total.Counts[i].Yes += c.Yes
			out.Total.Counts[i].No += c.No
		}
	}
	return out, s.Audit(ctx, p, "report.outcomes", "", fmt.Sprintf("team=%s from=%s to=%s rows=%d", q.Team, q.From, q.To, len(rows)))
}

// months counts the months from a to b.
func months(a, b resettlement.Date) int {
	return (b.Year-a.Year)*12 + int(b.Month) - int(a.Month)
}
