package integration

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/throughgate/throughgate/internal/casework"
	"github.com/throughgate/throughgate/internal/devstack"
	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/resettlement"
	"github.com/throughgate/throughgate/workflows"
)

// TestMigratePlans moves running cases from plan 1 to plan 2 on the real
// server, as `throughgate cases migrate-plan` does: a dry run changes
// nothing and says what would move; the move is per establishment when
// asked, audited, and safe to run again.
func TestMigratePlans(t *testing.T) {
	d := startDev(t, devConfig(t, filepath.Join(tempDir(t), "data")))
	defer d.Stop()
	ctx := context.Background()
	today := resettlement.DateOf(time.Now())
	// A recall: the first rules take the CRD as target, the fixed rules the
	// later post-recall date, so every release-anchored step moves.
	recall := resettlement.ReleaseDates{CRD: today.AddDays(120), PRRD: today.AddDays(150)}
	startPlanOneCase(t, d, "planone0001", "P1111AA", "PVI", "pvi-resettlement", today, recall)
	startPlanOneCase(t, d, "planone0002", "P2222BB", "BXI", "bxi-resettlement", today, recall)
	plan := func(id string) int {
		t.Helper()
		st, err := d.Cases.State(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return st.Case.Plan
	}

	var dry []casework.PlanMigrationResult
	if err := d.Cases.MigratePlans(ctx, casework.PlanMigration{To: 2, DryRun: true, By: "admin-1"}, func(r casework.PlanMigrationResult) {
		dry = append(dry, r)
	}); err != nil {
		t.Fatal(err)
	}
	if len(dry) != 2 || dry[0].Outcome != "would move" || dry[0].Preview.ToRelease.Before(dry[0].Preview.FromRelease) || len(dry[0].Preview.Changes) == 0 {
		t.Fatalf("dry run: %+v", dry)
	}
	if plan("planone0001") != 1 || plan("planone0002") != 1 {
		t.Fatal("a dry run moved a case")
	}

	var moved []casework.PlanMigrationResult
	report := func(r casework.PlanMigrationResult) { moved = append(moved, r) }
	if err := d.Cases.MigratePlans(ctx, casework.PlanMigration{To: 2, Establishment: "PVI", By: "admin-1"}, report); err != nil {
		t.Fatal(err)
	}
	if len(moved) != 1 || moved[0].CaseID != "planone0001" || moved[0].Outcome != "moved" || plan("planone0001") != 2 || plan("planone0002") != 1 {
		t.Fatalf("PVI only: %+v; plans %d, %d", moved, plan("planone0001"), plan("planone0002"))
	}
	// Run again over every prison: only the case still on plan 1 moves.
	moved = nil
	if err := d.Cases.MigratePlans(ctx, casework.PlanMigration{To: 2, By: "admin-1"}, report); err != nil {
		t.Fatal(err)
	}
	if len(moved) != 1 || moved[0].CaseID != "planone0002" || moved[0].Outcome != "moved" || plan("planone0002") != 2 {
		t.Fatalf("all prisons: %+v", moved)
	}
	entries, err := d.DB.AuditLog(ctx, postgres.AuditFilter{Actor: "admin-1", Action: "case." + workflows.UpdateMigratePlan})
	if err != nil || len(entries) != 2 {
		t.Fatalf("%d audit entries (%v), want one per case moved", len(entries), err)
	}
	// What a re-plan must keep: the moved case's steps are re-armed from the
	// later target, in the future, none graced.
	st, err := d.Cases.State(ctx, "planone0001")
	if err != nil {
		t.Fatal(err)
	}
	if h, _ := st.Case.Step(resettlement.StepHousingReferral); h.Graced || h.DueDate != resettlement.EnglandAndWales.OnOrBefore(st.ReleaseDay.AddDays(-56)) {
		t.Errorf("housing after the move: due %s graced %v, release day %s", h.DueDate, h.Graced, st.ReleaseDay)
	}

	for _, bad := range []struct {
		m     casework.PlanMigration
		field string
	}{
		{casework.PlanMigration{To: 9, By: "admin-1"}, "to"},
		{casework.PlanMigration{To: 2, By: "manager-1"}, "by"},
		{casework.PlanMigration{To: 2, By: "admin-1", Establishment: "Pentonville"}, "establishment"},
	} {
		err := d.Cases.MigratePlans(ctx, bad.m, report)
		var e *casework.Error
		if !errors.As(err, &e) || e.Kind != casework.Invalid || len(e.Fields) != 1 || e.Fields[0].Field != bad.field {
			t.Errorf("%+v: %v, want a field error on %s", bad.m, err, bad.field)
		}
	}
}

// startPlanOneCase records a case and starts its workflow as the service
// did before plans had versions (no plan in the input: plan 1).
func startPlanOneCase(t *testing.T, d *devstack.Dev, id, prisonNumber, est, team string, today resettlement.Date, dates resettlement.ReleaseDates) {
	t.Helper()
	ctx := context.Background()
	if _, _, err := d.DB.CreateCase(ctx, postgres.NewCase{ID: id, Person: postgres.Person{PrisonNumber: prisonNumber, Booking: "1",
		GivenName: "Sam", FamilyName: "Example", DateOfBirth: resettlement.D(1990, 5, 17)}, OpenedBy: "officer-1",
		Establishment: est, Team: team, ReceivedOn: today}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.WorkflowID(id), TaskQueue: workflows.TaskQueue},
		workflows.ReleaseCase, workflows.Input{Open: &resettlement.OpenCase{CaseID: id, Establishment: est, Team: team,
			ReceivedOn: today, Dates: dates, Adult: true}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the case's first save", 20*time.Second, func() bool {
		rec, err := d.DB.Case(ctx, id)
		return err == nil && rec.State != nil
	})
}

// TestOpenAnswersWithTheWorkflowsPlan: opening a case answers at once with
// the plan the service worked out (no round trip to a worker), and the
// workflow, once it runs, holds exactly that plan: it plans from the same
// instant (workflows.Input.OpenedAt).
func TestOpenAnswersWithTheWorkflowsPlan(t *testing.T) {
	d := startDev(t, devConfig(t, filepath.Join(tempDir(t), "data")))
	defer d.Stop()
	today := resettlement.DateOf(time.Now())
	off := signIn(t, d, "officer-1")
	// A short sentence: several steps are graced from the opening instant,
	// the part of the plan that depends on when it is made.
	body := openBody("Q1111AA", "1", "PVI", today)
	body["release_dates"] = map[string]any{"crd": today.AddDays(20).String()}
	v := openCaseOver(t, off, body, "plan-o1")
	if !v.Live || len(v.Steps) == 0 {
		t.Fatalf("the answer: live %v, %d steps", v.Live, len(v.Steps))
	}
	st, err := d.Cases.State(context.Background(), v.ID)
	if err != nil {
		t.Fatal(err)
	}
	// The workflow may already have moved on — raised the reminders of the
	// graced steps, each a new version — but its plan is the answer's.
	if len(st.Case.Steps) != len(v.Steps) || st.Case.Version < v.Version {
		t.Fatalf("workflow: %d steps version %d; answer: %d steps version %d", len(st.Case.Steps), st.Case.Version, len(v.Steps), v.Version)
	}
	graced := 0
	for i, s := range st.Case.Steps {
		a := v.Steps[i]
		if a.ID != s.ID || !a.Due.Equal(s.Due) || a.Graced != s.Graced || a.Status != s.Status {
			t.Errorf("step %s: answered due %s graced %v %s, the workflow holds due %s graced %v %s", s.ID, a.Due, a.Graced, a.Status, s.Due, s.Graced, s.Status)
		}
		if s.Graced {
			graced++
		}
	}
	if graced == 0 {
		t.Error("no step graced: the test does not reach the part of the plan that depends on the instant")
	}
}
