package resettlement

import (
	"fmt"
	"slices"
	"time"
)

// MigratePlan moves a running case to another version of the plan (Plans):
// it gains the new version's steps, loses (as not needed) the open steps the
// version dropped, and every open step is re-planned under the version's
// date rules, keeping what is overdue (Case.arm). Moving to the version the
// case already runs under changes nothing and is refused as a conflict, so
// a migration can be run again safely.
type MigratePlan struct {
	Meta
	To int `json:"to"`
}

func (c *Case) MigratePlan(cmd MigratePlan, now time.Time) error {
	if err := c.begin(cmd.Meta, false); err != nil {
		return err
	}
	var errs Errors
	validPlanVersion("to", cmd.To, &errs)
	if err := errs.Err(); err != nil {
		return err
	}
	from := c.plan()
	if cmd.To == from.Version {
		return Conflict(fmt.Sprintf("the case already runs under plan %d", cmd.To))
	}
	if cmd.To < from.Version {
		return Errors{{"to", fmt.Sprintf("the case runs under plan %d; plans only move forward", from.Version)}}
	}
	to, _ := PlanVersion(cmd.To)
	c.Plan = to.Version
	owner := Owner{Staff: c.Owner, Team: c.Team}
	added := 0
	for _, e := range to.Steps {
		if c.step(e.ID) != nil || (c.Released() && e.Kind != KindFollowUp) {
			continue
		}
		c.Steps = append(c.Steps, Step{ID: e.ID, Kind: e.Kind, Title: e.Title, Pathway: e.Pathway,
			Blocking: e.Blocking, Status: StepNotStarted, Owner: owner, Updated: now})
		c.record(now, cmd.By, Event{Kind: "step-added", StepID: e.ID, Text: "Step added by plan " + fmt.Sprint(to.Version) + ": " + e.Title})
		added++
	}
	for i := range c.Steps {
		s := &c.Steps[i]
		if _, was := from.step(s.ID); was && s.Status.Open() {
			if _, still := to.step(s.ID); !still {
				c.setStatus(now, cmd.By, s, StepNotNeeded, 0, fmt.Sprintf("not in plan %d", to.Version))
			}
		}
	}
	c.sortSteps(to)
	c.reschedule(now)
	if added > 0 && owner.Unassigned() {
		c.queue(now)
	}
	c.record(now, cmd.By, Event{Kind: "plan", NoteID: cmd.NoteID,
		Text: fmt.Sprintf("Moved from plan %d to plan %d", from.Version, to.Version)})
	c.done(cmd.Meta, now)
	return nil
}

// sortSteps puts the plan's steps in the plan's order, steps added while the
// case ran (support, handover) after them in the order they came.
func (c *Case) sortSteps(p Plan) {
	rank := func(id string) int {
		if i := slices.IndexFunc(p.Steps, func(e PlanStep) bool { return e.ID == id }); i >= 0 {
			return i
		}
		return len(p.Steps)
	}
	slices.SortStableFunc(c.Steps, func(a, b Step) int { return rank(a.ID) - rank(b.ID) })
}

// PlanChange is what moving a case to another plan would do to one step.
type PlanChange struct {
	StepID string `json:"step_id"`
	Title  string `json:"title"`
	// Change is "added", "removed" or "moved".
	Change  string    `json:"change"`
	FromDue time.Time `json:"from_due,omitzero"`
	ToDue   time.Time `json:"to_due,omitzero"`
}

// PlanPreview is what MigratePlan would do to a case at now, worked out on
// a copy: the report of `throughgate cases migrate-plan --dry-run`.
type PlanPreview struct {
	From, To       int
	FromRelease    Date
	ToRelease      Date
	Changes        []PlanChange
	AlreadyOnPlan  bool
	RefusedBecause string
}

// PreviewPlan works out what MigratePlan{To: to} would change, without
// changing the case.
func (c *Case) PreviewPlan(to int, now time.Time) PlanPreview {
	p := PlanPreview{From: c.plan().Version, To: to}
	p.FromRelease, _ = c.ReleaseDay()
	d := c.Clone()
	if err := d.MigratePlan(MigratePlan{Meta: Meta{RequestID: "preview", By: "preview"}, To: to}, now); err != nil {
		p.AlreadyOnPlan = to == p.From
		p.RefusedBecause = err.Error()
		return p
	}
	p.ToRelease, _ = d.ReleaseDay()
	for _, after := range d.Steps {
		before, ok := c.Step(after.ID)
		switch {
		case !ok:
			p.Changes = append(p.Changes, PlanChange{StepID: after.ID, Title: after.Title, Change: "added", ToDue: after.Due})
		case before.Status.Open() && !after.Status.Open():
			p.Changes = append(p.Changes, PlanChange{StepID: after.ID, Title: after.Title, Change: "removed", FromDue: before.Due})
		case after.Status.Open() && !before.Due.Equal(after.Due):
			p.Changes = append(p.Changes, PlanChange{StepID: after.ID, Title: after.Title, Change: "moved", FromDue: before.Due, ToDue: after.Due})
		}
	}
	return p
}
