package resettlement

import (
	"fmt"
	"slices"
)

// Plan is one version of the standard plan: the steps every case under it
// has and the revision of the date rules its deadlines follow.
//
// A case records its plan's version when it opens (Case.Plan), as it records
// its Policy. Cases run for months and the rules change meanwhile; a case's
// deadlines — and so its workflow's history, which replays them — never
// change under it. Moving a running case to a newer plan is an explicit,
// audited act (MigratePlan, `throughgate cases migrate-plan`).
type Plan struct {
	Version int
	// Rules is the revision of the date rules (rulesFirst, rulesFixed).
	Rules int
	// Steps are the plan's catalogue rows, in the order a case shows them.
	Steps []PlanStep
	// Changes says what the version changed, for people choosing whether
	// to move running cases to it.
	Changes string
}

// Revisions of the date rules. A rule that changes keeps its old form
// beside the new one, chosen by Case.rules, until no case runs under it.
const (
	// rulesFirst are the rules cases ran under before plans had versions:
	// the release day moves at most one working day; the target is the
	// first known of CRD, ARD, PRRD and NPD; a re-plan re-graces overdue
	// steps; grace is Policy.Grace after the moment of planning; the
	// recorded release day becomes the confirmed date and is adjusted
	// again; the stall clock always runs.
	rulesFirst = 1
	// rulesFixed are the rules of docs/design.md, "Deadlines and re-planning".
	rulesFixed = 2
)

// Plans lists every version of the plan, oldest first: Plans[i] has version
// i+1. Append a version to change the plan (catalogue.go says how); never
// edit or remove one while a case may run under it.
var Plans = []Plan{
	{Version: 1, Rules: rulesFirst, Steps: catalogue,
		Changes: "The first plan."},
	{Version: 2, Rules: rulesFixed, Steps: catalogue,
		Changes: "Deadline rules: re-planning keeps what is overdue; grace ends at close of business and before release; " +
			"due dates off working days move to a working day; the eligible-working-day release rule; " +
			"the latest of ARD, CRD, NPD and PRRD as target; a recorded release day stays; " +
			"no stall without work due."},
}

// CurrentPlan is the plan new cases open under: the last of Plans.
func CurrentPlan() Plan { return Plans[len(Plans)-1] }

// PlanVersion returns the plan with version v.
func PlanVersion(v int) (Plan, bool) {
	if v < 1 || v > len(Plans) {
		return Plan{}, false
	}
	return Plans[v-1], true
}

// validPlanVersion checks a requested version, naming field.
func validPlanVersion(field string, v int, errs *Errors) {
	if _, ok := PlanVersion(v); !ok {
		errs.Add(field, fmt.Sprintf("must be a plan version from 1 to %d", len(Plans)))
	}
}

// plan returns the plan the case runs under. A case opened before plans had
// versions has Plan 0 and runs under version 1.
func (c *Case) plan() Plan {
	if p, ok := PlanVersion(c.Plan); ok {
		return p
	}
	return Plans[0]
}

// rules returns the revision of the date rules the case runs under.
func (c *Case) rules() int { return c.plan().Rules }

// step finds the plan's row for a step id.
func (p Plan) step(id string) (PlanStep, bool) {
	i := slices.IndexFunc(p.Steps, func(e PlanStep) bool { return e.ID == id })
	if i < 0 {
		return PlanStep{}, false
	}
	return p.Steps[i], true
}

// hasPathwayStep reports whether the plan already has work for pathway pw,
// so the assessment needs no extra support step for it.
func (p Plan) hasPathwayStep(pw Pathway) bool {
	return slices.ContainsFunc(p.Steps, func(e PlanStep) bool { return e.Pathway == pw })
}
