package casework

import (
	"context"
	"errors"
	"time"

	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/resettlement"
)

// Previews: what a change of release dates or a reset (recall, new
// sentence) would do to a case's plan, shown before it is made. The
// domain works it out on a copy of the case (resettlement.Case.Clone), as
// the case's workflow would on the case itself, so the preview and the
// change cannot disagree but for the moment they are made at.

// PlanPreview is what a change would do to the plan.
type PlanPreview struct {
	CaseID string
	Person postgres.Person
	// Release is the release day and the rule that set it, after the
	// change; Before the same before it.
	Release, Before ReleaseDayRule
	// Moves are the open steps whose due date changes (a change of dates).
	Moves []StepMove
	// Cancelled are the open steps a reset cancels; Plan the new plan's
	// steps, in order, with their due dates.
	Cancelled []resettlement.Step
	Plan      []StepView
}

// ReleaseDayRule is a release day and how the dates gave it.
type ReleaseDayRule struct {
	Known bool
	Day   resettlement.Date
	// Target is the date the plan is built on and Source which date it is
	// (confirmed, APD, HDCAD, ARD, CRD, NPD, PRRD).
	Target resettlement.Date
	Source string
	Kind   resettlement.ReleaseKind
	// Weekend is the day the target moved back to because it falls on a
	// weekend or bank holiday (Criminal Justice Act 1961 s.23(3)); zero
	// when it did not move.
	Weekend resettlement.Date
	// Early is set when the release moved earlier still, to a working day
	// followed by another (s.23(3B), inserted by the Offenders (Day of
	// Release from Detention) Act 2023).
	Early bool
	// FirstRules: the case runs under the date rules it opened with, which
	// may give another day than the rules above (docs/design.md, "Release
	// day").
	FirstRules bool
}

// StepMove is an open step whose due date a change moves.
type StepMove struct {
	Step     resettlement.Step // as it would be
	Was      resettlement.Date // its due date now (zero: on hold)
	WasDue   time.Time
	Overdue  bool // overdue after the change, and not before it
	Graced   bool // its planned date has passed: given the grace period instead
	OnHold   bool // no release date left: on hold
	Released bool // it was on hold and is planned again
}

// rule explains c's release day.
func rule(c *resettlement.Case) ReleaseDayRule {
	day, ok := c.ReleaseDay()
	if !ok {
		return ReleaseDayRule{}
	}
	r := ReleaseDayRule{Known: true, Day: day}
	if !c.ReleasedOn.IsZero() {
		r.Source = "released"
		r.Target = c.ReleasedOn
		return r
	}
	r.Target, r.Source, _ = c.Target()
	r.Kind = c.Dates.Kind()
	cal := resettlement.EnglandAndWales
	first := cal.OnOrBefore(r.Target)
	if first != r.Target {
		r.Weekend = first
	}
	served := resettlement.ServedDays(c.SentenceDate, c.ReceivedOn, r.Target)
	if cal.ReleaseDay(r.Target, r.Kind, c.Adult, served) != day {
		r.FirstRules = true
	}
	r.Early = day.Before(first)
	return r
}

// liveCase is the case as its workflow holds it, or as last saved when the
// engine does not answer.
func (s *Service) liveCase(ctx context.Context, caseID string) (*resettlement.Case, error) {
	if s.Temporal != nil {
		qctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		st, err := s.State(qctx, caseID)
		cancel()
		if err == nil && st.Case != nil {
			return st.Case, nil
		}
	}
	rec, derr := s.DB.Case(ctx, caseID)
	if derr != nil {
		return nil, derr
	}
	if rec.State == nil {
		return nil, Errorf(Unavailable, "The case engine has not yet saved this case. Try again in a moment.")
	}
	return rec.State, nil
}

// preview checks the command as Act would, applies it to a copy of the
// case and returns the copy and the case as it is.
func (s *Service) preview(ctx context.Context, p *auth.Principal, caseID string, c dated, apply func(*resettlement.Case, domainCommand, time.Time) error) (before, after *resettlement.Case, out PlanPreview, err error) {
	if err := s.access(ctx, p, caseID, "preview"); err != nil {
		return nil, nil, out, err
	}
	if err := CheckCommand(c); err != nil {
		return nil, nil, out, err
	}
	rec, err := s.DB.Case(ctx, caseID)
	if err != nil {
		return nil, nil, out, err
	}
	out.CaseID, out.Person = caseID, rec.Person
	cmd, _ := c.withBirth(rec.Person.DateOfBirth).build(resettlement.Meta{RequestID: "preview:" + newCaseID(), By: p.ID(), NoteID: 1})
	before, err = s.liveCase(ctx, caseID)
	if err != nil {
		return nil, nil, out, err
	}
	if before.Closed {
		return nil, nil, out, ErrCaseClosed
	}
	after = before.Clone()
	if err := apply(after, cmd, s.now()); err != nil {
		if e, ok := ErrorOf(err); ok {
			return nil, nil, out, e
		}
		return nil, nil, out, err
	}
	out.Release, out.Before = rule(after), rule(before)
	return before, after, out, s.Audit(ctx, p, "case.preview", caseID, c.update())
}

// PreviewReleaseDates is what changing the release dates would do: the
// new release day and its rule, and each open step whose due date moves,
// saying which would be overdue or given the grace period. Nothing is
// changed; the preview is audited as a view of the case.
func (s *Service) PreviewReleaseDates(ctx context.Context, p *auth.Principal, caseID string, c ChangeReleaseDates) (PlanPreview, error) {
	before, after, out, err := s.preview(ctx, p, caseID, c, func(k *resettlement.Case, cmd domainCommand, now time.Time) error {
		d, ok := cmd.(resettlement.ChangeReleaseDates)
		if !ok {
			return errors.New("preview: not a change of dates")
		}
		return k.ChangeReleaseDates(d, now)
	})
	if err != nil {
		return PlanPreview{}, err
	}
	now := s.now()
	was := map[string]resettlement.Step{}
	for _, st := range before.Steps {
		was[st.ID] = st
	}
	for _, st := range after.Steps {
		old, ok := was[st.ID]
		if !ok || !st.Status.Open() || old.Due.Equal(st.Due) {
			continue
		}
		out.Moves = append(out.Moves, StepMove{Step: st, Was: old.DueDate, WasDue: old.Due,
			Overdue: st.Overdue(now) && !old.Overdue(now), Graced: st.Graced && (!old.Graced || old.DueDate != st.DueDate),
			OnHold: st.OnHold(), Released: old.OnHold() && !st.OnHold()})
	}
	return out, nil
}

// PreviewReset is what a reset (a recall, or a new sentence) would do: the
// open steps it cancels and the new plan, each step with its due date, and
// the new release day and its rule. Nothing is changed; the preview is
// audited as a view of the case.
func (s *Service) PreviewReset(ctx context.Context, p *auth.Principal, caseID string, c Reset) (PlanPreview, error) {
	before, after, out, err := s.preview(ctx, p, caseID, c, func(k *resettlement.Case, cmd domainCommand, now time.Time) error {
		r, ok := cmd.(resettlement.Reset)
		if !ok {
			return errors.New("preview: not a reset")
		}
		return k.Reset(r, now)
	})
	if err != nil {
		return PlanPreview{}, err
	}
	now := s.now()
	for _, st := range before.Steps {
		if st.Status.Open() {
			out.Cancelled = append(out.Cancelled, st)
		}
	}
	for _, st := range after.Steps {
		out.Plan = append(out.Plan, StepView{Step: st, Overdue: st.Overdue(now), Urgency: after.StepUrgency(st, now)})
	}
	return out, nil
}
