package casework

import (
	"context"
	"errors"
	"fmt"

	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/resettlement"
	"github.com/throughgate/throughgate/workflows"
)

// PlanMigration asks for running cases to move to another version of the
// plan (resettlement.Plans): every open case, or those of one establishment.
// DryRun reports what each case would gain or lose and changes nothing.
type PlanMigration struct {
	To            int
	Establishment string
	DryRun        bool
	// By is the administrator who asked, named in each case's history and
	// in the audit log.
	By string
}

// PlanMigrationResult is one case's line of the report.
type PlanMigrationResult struct {
	CaseID  string
	Preview resettlement.PlanPreview
	// Outcome is "would move", "moved", "already on the plan", or why the
	// case was not moved.
	Outcome string
}

// MigratePlans moves running cases to plan m.To, one MigratePlan update
// each, calling report for every case it looked at. The update's request
// id is fixed per case and plan, so a migration run again (after a crash,
// or to catch cases opened meanwhile under an older plan) moves nothing
// twice. Each move is audited under m.By.
func (s *Service) MigratePlans(ctx context.Context, m PlanMigration, report func(PlanMigrationResult)) error {
	if _, ok := resettlement.PlanVersion(m.To); !ok {
		return FieldsError(resettlement.Errors{{Field: "to", Message: fmt.Sprintf("must be a plan version from 1 to %d", len(resettlement.Plans))}})
	}
	if m.Establishment != "" && !resettlement.ValidEstablishment(m.Establishment) {
		return FieldsError(resettlement.Errors{{Field: "establishment", Message: "must be a three-letter prison code such as PVI"}})
	}
	by, err := s.DB.StaffMember(ctx, m.By)
	if err != nil || !by.Active || by.Role != auth.RoleAdmin {
		return FieldsError(resettlement.Errors{{Field: "by", Message: "must name an active administrator"}})
	}
	after := ""
	for {
		ids, err := s.DB.OpenCasesNotOnPlan(ctx, m.To, m.Establishment, after, 200)
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		for _, id := range ids {
			r, err := s.migratePlan(ctx, m, id)
			if err != nil {
				return fmt.Errorf("case %s: %w", id, err)
			}
			report(r)
		}
		after = ids[len(ids)-1]
	}
}

func (s *Service) migratePlan(ctx context.Context, m PlanMigration, caseID string) (PlanMigrationResult, error) {
	r := PlanMigrationResult{CaseID: caseID}
	st, err := s.State(ctx, caseID)
	switch {
	case errors.Is(err, ErrCaseNotFound), errors.Is(err, ErrCaseClosed):
		r.Outcome = "closed"
		return r, nil
	case err != nil:
		return r, err
	}
	r.Preview = st.Case.PreviewPlan(m.To, s.now())
	switch {
	case r.Preview.AlreadyOnPlan:
		r.Outcome = "already on the plan"
		return r, nil
	case r.Preview.RefusedBecause != "":
		r.Outcome = "not moved: " + r.Preview.RefusedBecause
		return r, nil
	case m.DryRun:
		r.Outcome = "would move"
		return r, nil
	}
	cmd := resettlement.MigratePlan{To: m.To, Meta: resettlement.Meta{
		RequestID: fmt.Sprintf("migrate-plan:%d:%s", m.To, caseID), By: m.By}}
	_, err = s.Update(ctx, caseID, workflows.UpdateMigratePlan, cmd)
	detail := fmt.Sprintf("plan %d to %d", r.Preview.From, m.To)
	switch {
	case err == nil:
		r.Outcome = "moved"
	case errors.Is(err, resettlement.ErrConflict):
		r.Outcome = "already on the plan"
	case errors.Is(err, ErrCaseClosed):
		r.Outcome = "closed"
	default:
		if _, ok := resettlement.AsFieldErrors(err); !ok {
			return r, err
		}
		r.Outcome = "not moved: " + err.Error()
	}
	if err := s.AuditAs(ctx, m.By, "", "case."+workflows.UpdateMigratePlan, caseID, detail+" "+r.Outcome); err != nil {
		return r, err
	}
	return r, nil
}
