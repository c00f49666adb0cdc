package workflows

import (
	"path/filepath"
	"slices"
	"testing"

	"go.temporal.io/sdk/worker"

	"github.com/throughgate/throughgate/resettlement"
)

// TestAddingAPlanKeepsHistoriesReplaying is how to change the catalogue
// safely, worked through: a new plan version adds a step; every stored
// history (recorded under plans 1 and 2) still replays, because each case
// re-plans from its own plan; a case opened afterwards gets the step; a
// running case gets it only when it is moved with the MigratePlan update.
func TestAddingAPlanKeepsHistoriesReplaying(t *testing.T) {
	extra := resettlement.PlanStep{ID: "test-accommodation-check", Title: "Accommodation check", Kind: resettlement.KindReleasePlan,
		Pathway: resettlement.Accommodation, Anchor: resettlement.FromRelease, Due: resettlement.Shift{Days: -21}}
	saved := resettlement.Plans
	t.Cleanup(func() { resettlement.Plans = saved })
	current := resettlement.CurrentPlan()
	resettlement.Plans = append(slices.Clip(saved), resettlement.Plan{Version: current.Version + 1, Rules: current.Rules,
		Steps: append(slices.Clip(current.Steps), extra), Changes: "test: one step more"})

	files, err := filepath.Glob(filepath.Join("testdata", "histories", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no stored histories: %v", err)
	}
	for _, f := range files {
		r := worker.NewWorkflowReplayer()
		r.RegisterWorkflow(ReleaseCase)
		if err := r.ReplayWorkflowHistoryFromJSONFile(nil, f); err != nil {
			t.Errorf("%s no longer replays with a new plan version: %v", filepath.Base(f), err)
		}
	}

	// A case under the previous plan is moved on 1 December.
	h := newHarness(t)
	var before, after State
	h.at(day(2026, 11, 30, 10), func() { before = h.query() })
	moved := h.update(day(2026, 12, 1, 10), UpdateMigratePlan, resettlement.MigratePlan{Meta: m("admin-1"), To: current.Version + 1})
	again := h.update(day(2026, 12, 1, 11), UpdateMigratePlan, resettlement.MigratePlan{Meta: m("admin-1"), To: current.Version + 1})
	h.at(day(2026, 12, 1, 12), func() { after = h.query() })
	h.close(day(2026, 12, 2, 10))
	in := openInput(resettlement.ReleaseDates{CRD: resettlement.D(2027, 3, 10)}, "officer-1")
	in.Open.Plan = current.Version
	h.run(in)
	h.mustAccept(moved)
	if h.errs[again] == nil {
		t.Error("moving a case to the plan it already runs under was accepted")
	}
	has := func(s State) bool {
		return slices.ContainsFunc(s.Case.Steps, func(st resettlement.Step) bool { return st.ID == extra.ID })
	}
	if before.Case.Plan != current.Version || has(before) {
		t.Errorf("before the move: plan %d, has the new step %v", before.Case.Plan, has(before))
	}
	if after.Case.Plan != current.Version+1 || !has(after) {
		t.Errorf("after the move: plan %d, has the new step %v", after.Case.Plan, has(after))
	}

	// A case opened now is under the new plan from the start.
	h = newHarness(t)
	var fresh State
	h.at(day(2026, 11, 23, 11), func() { fresh = h.query() })
	h.close(day(2026, 11, 24, 10))
	in = openInput(resettlement.ReleaseDates{CRD: resettlement.D(2027, 3, 10)}, "officer-1")
	h.run(in)
	if fresh.Case.Plan != current.Version+1 || !has(fresh) {
		t.Errorf("a new case: plan %d, has the new step %v", fresh.Case.Plan, has(fresh))
	}
}
