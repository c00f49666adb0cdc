package casework

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/throughgate/throughgate/internal/auth"
	tgmail "github.com/throughgate/throughgate/internal/mail"
	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/resettlement"
)

// Assignment emails (issue 13). When a step or a whole case is given to a
// member of staff — one at a time (Act), in bulk (Reassign), or by an
// event that goes through Act — the new owner gets one email; the previous
// owner gets none (their reminders simply stop). It is raised here, after
// the case's workflow accepted the change, rather than by the workflow:
// the workflow's commands stay as they are (no new activity to version),
// and the service already knows who acted and who the new owner is.
//
// The outbox's unique key (case, "assigned:<step or case>:<request id>",
// recipient) makes a retried request (the same Idempotency-Key, so the
// same request id) raise nothing twice, while a later reassignment back
// to the same person is a new email. The new owner's choices are kept: a
// daily-digest reader's email is held for the digest (which lists it), and
// one who turned "assigned" emails off gets none. Nobody is emailed about
// work they gave themselves, and a team queue gets no email here (the
// workflow's unassigned-step notice tells the queue and its manager).

// notifyAssigned raises the email for an Assign p made on a case, once the
// case took it; requestID is the change's (apply's meta.RequestID).
func (s *Service) notifyAssigned(ctx context.Context, p *auth.Principal, caseID string, a Assign, requestID string) error {
	to := a.Owner.Staff
	if to == "" || p != nil && to == p.ID() {
		return nil
	}
	st, err := s.DB.StaffMember(ctx, to)
	if errors.Is(err, postgres.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if !st.Active || st.Email == "" || slices.Contains(st.Muted, tgmail.KindAssigned) {
		return nil
	}
	rec, err := s.DB.Case(ctx, caseID)
	if err != nil {
		return err
	}
	data := tgmail.Assigned{RecipientName: st.Name, CaseRef: caseID, At: s.now(), CaseURL: s.BaseURL + "/cases/" + caseID}
	if p != nil && !isPartnerActor(p.ID()) {
		data.By = p.Staff.Name
	}
	what := "case"
	if a.StepID != "" {
		what = a.StepID
	}
	if rec.State != nil {
		for _, step := range rec.State.Steps {
			switch {
			case a.StepID != "" && step.ID == a.StepID:
				data.StepTitle = step.Title
				if !step.OnHold() {
					data.Due = step.Due
				}
			case a.StepID == "" && step.Status.Open() && step.Owner.Staff == to:
				data.Steps = append(data.Steps, step.Title)
			}
		}
	}
	if a.StepID != "" && data.StepTitle == "" {
		data.StepTitle = a.StepID
	}
	_, err = s.DB.EnqueueEmail(context.WithoutCancel(ctx), postgres.Email{CaseID: caseID,
		AlarmKey: tgmail.KindAssigned + ":" + what + ":" + requestID, Recipient: st.Email, RecipientID: st.ID,
		Kind: tgmail.KindAssigned, Template: tgmail.KindAssigned, Data: data, Digest: st.Notify == "digest"})
	return err
}

// isPartnerActor reports whether an actor id is a partner's link.
func isPartnerActor(id string) bool { return strings.HasPrefix(id, resettlement.PartnerActor) }
