package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/casework"
	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/resettlement"
	"github.com/throughgate/throughgate/workflows"
)

// Bodies of the actions on a case. Each may carry a note: free text that
// may hold personal data, so it is stored in PostgreSQL and only its id
// travels to the workflow.

// AssessmentBody records the pre-release needs assessment.
type AssessmentBody struct {
	Needs []resettlement.PathwayNeed `json:"needs,omitempty"`
	Skip  resettlement.SkipReason    `json:"skip,omitempty"`
	Note  string                     `json:"note,omitempty"`
}

// StepActionBody works a step.
type StepActionBody struct {
	Action resettlement.StepAction `json:"action"`
	Note   string                  `json:"note,omitempty"`
}

// AssignBody gives a step or a case to a worker, or to a team's queue.
type AssignBody struct {
	Owner resettlement.Owner `json:"owner"`
	Note  string             `json:"note,omitempty"`
}

// ReleaseDatesBody changes the release dates.
type ReleaseDatesBody struct {
	ReleaseDates resettlement.ReleaseDates `json:"release_dates"`
	Reason       string                    `json:"reason"`
	Note         string                    `json:"note,omitempty"`
}

// TransferBody moves the case with the person to another prison.
type TransferBody struct {
	To     string `json:"to"`
	ToTeam string `json:"to_team"`
	Note   string `json:"note,omitempty"`
}

// PauseBody pauses a case.
type PauseBody struct {
	Reason string `json:"reason"`
	Note   string `json:"note,omitempty"`
}

// NoteBody carries only a note (resume).
type NoteBody struct {
	Note string `json:"note,omitempty"`
}

// ResetBody starts a case again after a recall or a new sentence.
type ResetBody struct {
	Reason       resettlement.ResetReason  `json:"reason"`
	ReceivedOn   resettlement.Date         `json:"received_on"`
	ReleaseDates resettlement.ReleaseDates `json:"release_dates"`
	Note         string                    `json:"note,omitempty"`
}

// CloseBody closes a case with its outcome.
type CloseBody struct {
	Reason  resettlement.CloseReason `json:"reason"`
	Outcome resettlement.Outcome     `json:"outcome"`
	Note    string                   `json:"note,omitempty"`
}

// ActionResult answers an action: the case's version and stage after it.
type ActionResult struct {
	CaseID  string             `json:"case_id"`
	Version int                `json:"version"`
	Stage   resettlement.Stage `json:"stage"`
}

type command = interface {
	RequestMeta() resettlement.Meta
}

// action is one kind of action: its workflow update and how its body
// becomes a command (meta has RequestID, By and NoteID filled in).
type action[B any] struct {
	update string
	build  func(r *http.Request, b B, meta resettlement.Meta) (command, string, resettlement.Errors)
	// check looks up what the body names (staff, teams) before anything is done.
	check func(ctx context.Context, a *app, b B) (resettlement.Errors, error)
}

// decodeAction decodes an action's body and checks its note.
func decodeAction[B any](body []byte, note func(B) string) (B, *problemError) {
	var b B
	if p := decodeBytes(body, &b); p != nil {
		return b, p
	}
	var errs resettlement.Errors
	checkNote("note", note(b), &errs)
	if len(errs) > 0 {
		return b, fieldProblem(errs)
	}
	return b, nil
}

func handleAction[B any](a *app, act action[B], note func(B) string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		caseID := chi.URLParam(r, "caseID")
		p, err := a.caseAccess(r, caseID)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		key, kp := idempotencyKey(r)
		if kp != nil {
			writeErr(w, kp)
			return
		}
		raw, bp := readBody(r)
		if bp != nil {
			writeErr(w, bp)
			return
		}
		b, dp := decodeAction(raw, note)
		if dp != nil {
			writeErr(w, dp)
			return
		}
		if act.check != nil {
			errs, err := act.check(r.Context(), a, b)
			if err != nil {
				a.fail(w, r, err)
				return
			}
			if len(errs) > 0 {
				writeErr(w, fieldProblem(errs))
				return
			}
		}
		res, detail, err := a.apply(r, p, caseID, key, act.update, note(b), func(meta resettlement.Meta) (command, string, resettlement.Errors) {
			return act.build(r, b, meta)
		})
		if aerr := a.audit(r, "case."+act.update, caseID, outcome(detail, err)); aerr != nil && err == nil {
			err = aerr
		}
		if err != nil {
			a.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, res)
	}
}

func outcome(detail string, err error) string {
	if err == nil {
		return detail + " ok"
	}
	var p *problemError
	if errors.As(err, &p) {
		return fmt.Sprintf("%s refused %d", detail, p.status)
	}
	return detail + " failed"
}

// apply stores the note (once per request id), sends the update and maps
// the answer to a problem a person understands.
func (a *app) apply(r *http.Request, p *auth.Principal, caseID, key, update, note string,
	build func(resettlement.Meta) (command, string, resettlement.Errors)) (ActionResult, string, error) {
	ctx := r.Context()
	meta := resettlement.Meta{RequestID: p.ID() + ":" + key, By: p.ID()}
	if note != "" {
		id, err := a.DB.AddNoteOnce(ctx, caseID, p.ID(), note, meta.RequestID)
		if err != nil {
			return ActionResult{}, "", err
		}
		meta.NoteID = id
	}
	cmd, detail, errs := build(meta)
	if len(errs) > 0 {
		return ActionResult{}, detail, fieldProblem(errs)
	}
	res, err := a.Cases.Update(ctx, caseID, update, cmd)
	if err != nil {
		return ActionResult{}, detail, updateProblem(err)
	}
	return ActionResult{CaseID: caseID, Version: res.Version, Stage: res.Stage}, detail, nil
}

// updateProblem maps the workflow's answer to a problem.
func updateProblem(err error) error {
	if fe, ok := resettlement.AsFieldErrors(err); ok {
		for i := range fe {
			if fe[i].Field == "" {
				fe[i].Field = "body"
			}
		}
		return fieldProblem(fe)
	}
	switch {
	case errors.Is(err, resettlement.ErrConflict):
		return problem(http.StatusConflict, "Not possible now: "+err.Error()+".")
	case errors.Is(err, casework.ErrCaseNotFound):
		return problem(http.StatusNotFound, "The case engine has no process for this case.")
	case errors.Is(err, casework.ErrCaseClosed):
		return problem(http.StatusConflict, "The case is closed.")
	case errors.Is(err, context.DeadlineExceeded):
		return problem(http.StatusServiceUnavailable, "The case engine did not answer in time. Retry with the same Idempotency-Key: the change will not be made twice.")
	}
	return err
}

// checkOwner checks an owner names an active team and, if any, an active member of staff.
func (a *app) checkOwner(ctx context.Context, field string, o resettlement.Owner) (resettlement.Errors, error) {
	var errs resettlement.Errors
	if o.Team != "" {
		t, err := a.DB.Team(ctx, o.Team)
		if err != nil && !isNotFound(err) {
			return nil, err
		}
		if err != nil || !t.Active {
			errs.Add(field+".team", "is not an active team")
		}
	}
	if o.Staff != "" {
		ok, err := a.DB.ActiveStaffExists(ctx, o.Staff)
		if err != nil {
			return nil, err
		}
		if !ok {
			errs.Add(field+".staff", "is not an active member of staff")
		}
	}
	return errs, nil
}

var (
	actRecordAssessment = action[AssessmentBody]{update: workflows.UpdateRecordAssessment,
		build: func(_ *http.Request, b AssessmentBody, m resettlement.Meta) (command, string, resettlement.Errors) {
			return resettlement.RecordAssessment{Meta: m, Needs: b.Needs, Skip: b.Skip}, fmt.Sprintf("needs=%d skip=%s", len(b.Needs), b.Skip), nil
		}}
	actActOnStep = action[StepActionBody]{update: workflows.UpdateActOnStep,
		build: func(r *http.Request, b StepActionBody, m resettlement.Meta) (command, string, resettlement.Errors) {
			step := chi.URLParam(r, "stepID")
			return resettlement.ActOnStep{Meta: m, StepID: step, Action: b.Action}, "step=" + step + " action=" + string(b.Action), nil
		}}
	actAssignStep = action[AssignBody]{update: workflows.UpdateAssign,
		build: func(r *http.Request, b AssignBody, m resettlement.Meta) (command, string, resettlement.Errors) {
			step := chi.URLParam(r, "stepID")
			return resettlement.Assign{Meta: m, StepID: step, Owner: b.Owner}, "step=" + step + " to=" + b.Owner.Staff + "/" + b.Owner.Team, nil
		},
		check: func(ctx context.Context, a *app, b AssignBody) (resettlement.Errors, error) {
			return a.checkOwner(ctx, "owner", b.Owner)
		}}
	actAssignCase = action[AssignBody]{update: workflows.UpdateAssign,
		build: func(_ *http.Request, b AssignBody, m resettlement.Meta) (command, string, resettlement.Errors) {
			return resettlement.Assign{Meta: m, Owner: b.Owner}, "to=" + b.Owner.Staff + "/" + b.Owner.Team, nil
		},
		check: func(ctx context.Context, a *app, b AssignBody) (resettlement.Errors, error) {
			return a.checkOwner(ctx, "owner", b.Owner)
		}}
	actChangeReleaseDates = action[ReleaseDatesBody]{update: workflows.UpdateChangeReleaseDates,
		build: func(_ *http.Request, b ReleaseDatesBody, m resettlement.Meta) (command, string, resettlement.Errors) {
			return resettlement.ChangeReleaseDates{Meta: m, Dates: b.ReleaseDates, Reason: b.Reason}, "reason=" + b.Reason, nil
		}}
	actTransfer = action[TransferBody]{update: workflows.UpdateTransfer,
		build: func(_ *http.Request, b TransferBody, m resettlement.Meta) (command, string, resettlement.Errors) {
			return resettlement.Transfer{Meta: m, To: b.To, ToTeam: b.ToTeam}, "to=" + b.To + "/" + b.ToTeam, nil
		},
		check: func(ctx context.Context, a *app, b TransferBody) (resettlement.Errors, error) {
			if !resettlement.ValidID(b.ToTeam) {
				return nil, nil // the domain says what is wrong
			}
			t, err := a.DB.Team(ctx, b.ToTeam)
			if err != nil && !isNotFound(err) {
				return nil, err
			}
			switch {
			case err != nil || !t.Active:
				return resettlement.Errors{{Field: "to_team", Message: "is not an active team"}}, nil
			case t.Establishment != b.To:
				return resettlement.Errors{{Field: "to_team", Message: "works at " + t.Establishment + ", not " + b.To}}, nil
			}
			return nil, nil
		}}
	actPause = action[PauseBody]{update: workflows.UpdatePause,
		build: func(_ *http.Request, b PauseBody, m resettlement.Meta) (command, string, resettlement.Errors) {
			return resettlement.Pause{Meta: m, Reason: b.Reason}, "", nil
		}}
	actResume = action[NoteBody]{update: workflows.UpdateResume,
		build: func(_ *http.Request, _ NoteBody, m resettlement.Meta) (command, string, resettlement.Errors) {
			return resettlement.Pause{Meta: m}, "", nil
		}}
	actReset = action[ResetBody]{update: workflows.UpdateReset,
		build: func(_ *http.Request, b ResetBody, m resettlement.Meta) (command, string, resettlement.Errors) {
			return resettlement.Reset{Meta: m, Reason: b.Reason, ReceivedOn: b.ReceivedOn, Dates: b.ReleaseDates}, "reason=" + string(b.Reason), nil
		}}
	actCloseCase = action[CloseBody]{update: workflows.UpdateClose,
		build: func(_ *http.Request, b CloseBody, m resettlement.Meta) (command, string, resettlement.Errors) {
			return resettlement.Close{Meta: m, Reason: b.Reason, Outcome: b.Outcome}, "reason=" + string(b.Reason), nil
		}}
)

func (a *app) recordAssessment(w http.ResponseWriter, r *http.Request) {
	handleAction(a, actRecordAssessment, func(b AssessmentBody) string { return b.Note })(w, r)
}
func (a *app) actOnStep(w http.ResponseWriter, r *http.Request) {
	handleAction(a, actActOnStep, func(b StepActionBody) string { return b.Note })(w, r)
}
func (a *app) assignStep(w http.ResponseWriter, r *http.Request) {
	handleAction(a, actAssignStep, func(b AssignBody) string { return b.Note })(w, r)
}
func (a *app) assignCase(w http.ResponseWriter, r *http.Request) {
	handleAction(a, actAssignCase, func(b AssignBody) string { return b.Note })(w, r)
}
func (a *app) changeReleaseDates(w http.ResponseWriter, r *http.Request) {
	handleAction(a, actChangeReleaseDates, func(b ReleaseDatesBody) string { return b.Note })(w, r)
}
func (a *app) transfer(w http.ResponseWriter, r *http.Request) {
	handleAction(a, actTransfer, func(b TransferBody) string { return b.Note })(w, r)
}
func (a *app) pause(w http.ResponseWriter, r *http.Request) {
	handleAction(a, actPause, func(b PauseBody) string { return b.Note })(w, r)
}
func (a *app) resume(w http.ResponseWriter, r *http.Request) {
	handleAction(a, actResume, func(b NoteBody) string { return b.Note })(w, r)
}
func (a *app) reset(w http.ResponseWriter, r *http.Request) {
	handleAction(a, actReset, func(b ResetBody) string { return b.Note })(w, r)
}
func (a *app) closeCase(w http.ResponseWriter, r *http.Request) {
	handleAction(a, actCloseCase, func(b CloseBody) string { return b.Note })(w, r)
}

func isNotFound(err error) bool { return errors.Is(err, postgres.ErrNotFound) }
