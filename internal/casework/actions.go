package casework

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/resettlement"
	"github.com/throughgate/throughgate/workflows"
)

// The things a person does to a case. Each carries what the person gave
// (the JSON API decodes its body straight into one; the pages fill one from
// a form) and may carry a note: free text that may hold personal data, so
// it is stored in PostgreSQL and only its id travels to the workflow.

// RecordAssessment records the pre-release needs assessment.
type RecordAssessment struct {
	Needs []resettlement.PathwayNeed `json:"needs,omitempty"`
	Skip  resettlement.SkipReason    `json:"skip,omitempty"`
	Note  string                     `json:"note,omitempty"`
}

// ActOnStep works a step.
type ActOnStep struct {
	StepID string                  `json:"-"` // from the address
	Action resettlement.StepAction `json:"action"`
	Note   string                  `json:"note,omitempty"`
}

// Assign gives a step (StepID set) or the whole case to a worker, or to a
// team's queue.
type Assign struct {
	StepID string             `json:"-"` // from the address; empty for the case
	Owner  resettlement.Owner `json:"owner"`
	Note   string             `json:"note,omitempty"`
}

// ChangeReleaseDates changes the release dates, and the sentence date when
// one is given.
type ChangeReleaseDates struct {
	ReleaseDates resettlement.ReleaseDates `json:"release_dates"`
	SentenceDate resettlement.Date         `json:"sentence_date,omitempty"`
	Reason       string                    `json:"reason"`
	Note         string                    `json:"note,omitempty"`

	born resettlement.Date // the person's date of birth, given by Act (dated)
}

// Transfer moves the case with the person to another prison.
type Transfer struct {
	To     string `json:"to"`
	ToTeam string `json:"to_team"`
	Note   string `json:"note,omitempty"`

	fromTeams []string // the sending establishment's teams, given by Act
}

// Pause stops reminders and escalations until the case is resumed. The
// reason is a choice (resettlement.PauseReasons); anything more is a note.
type Pause struct {
	Reason resettlement.PauseReason `json:"reason"`
	Note   string                   `json:"note,omitempty"`
}

// Resume starts a paused case's clock again.
type Resume struct {
	Note string `json:"note,omitempty"`
}

// Reset starts a case again after a recall or a new sentence.
type Reset struct {
	Reason       resettlement.ResetReason  `json:"reason"`
	ReceivedOn   resettlement.Date         `json:"received_on"`
	SentenceDate resettlement.Date         `json:"sentence_date,omitempty"`
	ReleaseDates resettlement.ReleaseDates `json:"release_dates"`
	Note         string                    `json:"note,omitempty"`

	born resettlement.Date // the person's date of birth, given by Act (dated)
}

// Close closes a case with its outcome.
type Close struct {
	Reason  resettlement.CloseReason `json:"reason"`
	Outcome resettlement.Outcome     `json:"outcome"`
	Note    string                   `json:"note,omitempty"`
}

// Command is one of the things above: the workflow update it becomes, the
// note it carries, what it names that the directory must confirm, and the
// domain's command with a line for the audit.
type Command interface {
	update() string
	note() string
	check(ctx context.Context, s *Service) (resettlement.Errors, error)
	build(m resettlement.Meta) (cmd domainCommand, detail string)
}

func (c RecordAssessment) update() string { return workflows.UpdateRecordAssessment }
func (c RecordAssessment) note() string   { return c.Note }
func (c RecordAssessment) check(context.Context, *Service) (resettlement.Errors, error) {
	return nil, nil
}
func (c RecordAssessment) build(m resettlement.Meta) (domainCommand, string) {
	return resettlement.RecordAssessment{Meta: m, Needs: c.Needs, Skip: c.Skip}, fmt.Sprintf("needs=%d skip=%s", len(c.Needs), c.Skip)
}

func (c ActOnStep) update() string                                               { return workflows.UpdateActOnStep }
func (c ActOnStep) note() string                                                 { return c.Note }
func (c ActOnStep) check(context.Context, *Service) (resettlement.Errors, error) { return nil, nil }
func (c ActOnStep) build(m resettlement.Meta) (domainCommand, string) {
	return resettlement.ActOnStep{Meta: m, StepID: c.StepID, Action: c.Action}, "step=" + c.StepID + " action=" + string(c.Action)
}

func (c Assign) update() string { return workflows.UpdateAssign }
func (c Assign) note() string   { return c.Note }
func (c Assign) check(context.Context, *Service) (resettlement.Errors, error) {
	return nil, nil // the owner is checked against the case in Act (checkOwnerOf)
}
func (c Assign) build(m resettlement.Meta) (domainCommand, string) {
	detail := "to=" + c.Owner.Staff + "/" + c.Owner.Team
	if c.StepID != "" {
		detail = "step=" + c.StepID + " " + detail
	}
	return resettlement.Assign{Meta: m, StepID: c.StepID, Owner: c.Owner}, detail
}

func (c ChangeReleaseDates) update() string { return workflows.UpdateChangeReleaseDates }
func (c ChangeReleaseDates) note() string   { return c.Note }
func (c ChangeReleaseDates) check(context.Context, *Service) (resettlement.Errors, error) {
	return nil, nil
}
func (c ChangeReleaseDates) withBirth(born resettlement.Date) Command { c.born = born; return c }
func (c ChangeReleaseDates) build(m resettlement.Meta) (domainCommand, string) {
	return resettlement.ChangeReleaseDates{Meta: m, Dates: c.ReleaseDates, SentenceDate: c.SentenceDate, Reason: c.Reason,
		Adult: adultOn(c.born, c.ReleaseDates)}, "reason=" + c.Reason
}

func (c Transfer) update() string { return workflows.UpdateTransfer }
func (c Transfer) note() string   { return c.Note }
func (c Transfer) check(ctx context.Context, s *Service) (resettlement.Errors, error) {
	if !resettlement.ValidID(c.ToTeam) {
		return nil, nil // the domain says what is wrong
	}
	t, err := s.DB.Team(ctx, c.ToTeam)
	if err != nil && !errors.Is(err, postgres.ErrNotFound) {
		return nil, err
	}
	switch {
	case err != nil || !t.Active:
		return resettlement.Errors{{Field: "to_team", Message: "is not an active team"}}, nil
	case t.Establishment != c.To:
		return resettlement.Errors{{Field: "to_team", Message: "works at " + t.Establishment + ", not " + c.To}}, nil
	}
	return nil, nil
}
func (c Transfer) build(m resettlement.Meta) (domainCommand, string) {
	return resettlement.Transfer{Meta: m, To: c.To, ToTeam: c.ToTeam, FromTeams: c.fromTeams}, "to=" + c.To + "/" + c.ToTeam
}

func (c Pause) update() string                                               { return workflows.UpdatePause }
func (c Pause) note() string                                                 { return c.Note }
func (c Pause) check(context.Context, *Service) (resettlement.Errors, error) { return nil, nil }
func (c Pause) build(m resettlement.Meta) (domainCommand, string) {
	return resettlement.Pause{Meta: m, Reason: c.Reason}, ""
}

func (c Resume) update() string                                               { return workflows.UpdateResume }
func (c Resume) note() string                                                 { return c.Note }
func (c Resume) check(context.Context, *Service) (resettlement.Errors, error) { return nil, nil }
func (c Resume) build(m resettlement.Meta) (domainCommand, string) {
	return resettlement.Pause{Meta: m}, ""
}

func (c Reset) update() string                                               { return workflows.UpdateReset }
func (c Reset) note() string                                                 { return c.Note }
func (c Reset) check(context.Context, *Service) (resettlement.Errors, error) { return nil, nil }
func (c Reset) withBirth(born resettlement.Date) Command                     { c.born = born; return c }
func (c Reset) build(m resettlement.Meta) (domainCommand, string) {
	return resettlement.Reset{Meta: m, Reason: c.Reason, ReceivedOn: c.ReceivedOn, SentenceDate: c.SentenceDate,
		Dates: c.ReleaseDates, Adult: adultOn(c.born, c.ReleaseDates), Plan: resettlement.CurrentPlan().Version}, "reason=" + string(c.Reason)
}

// dated is a command that changes the release dates, and with them whether
// the person is an adult at release (resettlement.Case.Adult), which turns
// on the date of birth: only PostgreSQL holds it, so Act reads it and hands
// it to the command before the command is built.
type dated interface {
	Command
	withBirth(born resettlement.Date) Command
}

// adultOn says whether a person born on born is 18 or over on the target
// release date of dates, as on opening (OpenRequest.openCase); nil, keeping
// what the case says, when there is no target or no date of birth.
func adultOn(born resettlement.Date, dates resettlement.ReleaseDates) *bool {
	t, _, ok := dates.Target()
	if !ok || born.IsZero() {
		return nil
	}
	adult := age(born, t) >= 18
	return &adult
}

func (c Close) update() string                                               { return workflows.UpdateClose }
func (c Close) note() string                                                 { return c.Note }
func (c Close) check(context.Context, *Service) (resettlement.Errors, error) { return nil, nil }
func (c Close) build(m resettlement.Meta) (domainCommand, string) {
	return resettlement.Close{Meta: m, Reason: c.Reason, Outcome: c.Outcome}, "reason=" + string(c.Reason)
}

// ActionResult answers an action: the case's version and stage after it.
type ActionResult struct {
	CaseID  string             `json:"case_id"`
	Version int                `json:"version"`
	Stage   resettlement.Stage `json:"stage"`
}

// CheckKey checks an idempotency key: what makes a retried change happen
// once. Every change carries one.
func CheckKey(key string) error {
	bad := key == "" || len(key) > 100
	for _, c := range key {
		if c < 0x21 || c > 0x7e {
			bad = true
		}
	}
	if bad {
		return Errorf(Malformed, "Every change needs an Idempotency-Key header: a unique value (such as a UUID) per change, sent again unchanged when retrying.",
			resettlement.FieldError{Field: "Idempotency-Key", Message: "is required: up to 100 printable characters, no spaces"})
	}
	return nil
}

// errKeyReused refuses a key sent again with a different request.
var errKeyReused = Errorf(Invalid, "This Idempotency-Key was already used for a different request. Send a new key with every new change; send a key again only to retry the very same change.",
	resettlement.FieldError{Field: "Idempotency-Key", Message: "was already used for a different request"})

// requestHash is the SHA-256 of a request's canonical encoding: the JSON of
// its typed form (its fields in a fixed order, so neither the order nor the
// spacing of what was sent matters) with what the address gave.
func requestHash(parts ...any) ([]byte, error) {
	b, err := json.Marshal(parts)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(b)
	return sum[:], nil
}

// stepOf is the step a command names in its address, if any.
func stepOf(c Command) string {
	switch c := c.(type) {
	case ActOnStep:
		return c.StepID
	case Assign:
		return c.StepID
	}
	return ""
}

// claimKey records a key for the request with the hash, or finds it
// recorded for this very request (a retry): the case its first use opened,
// if any. A key used for a different request is refused naming
// Idempotency-Key.
func (s *Service) claimKey(ctx context.Context, k postgres.IdempotencyKey, hash []byte) (string, error) {
	first, err := s.DB.ClaimKey(ctx, k, hash)
	if errors.Is(err, postgres.ErrKeyReused) {
		return "", errKeyReused
	}
	return first, err
}

// checkNote checks free text a person typed.
func checkNote(field, s string, errs *resettlement.Errors) {
	if utf8.RuneCountInString(s) > 4000 || strings.ContainsRune(s, 0) {
		errs.Add(field, "must be at most 4000 characters of text")
	}
}

// CheckCommand checks what can be checked of a command without the
// database or the case: its note.
func CheckCommand(c Command) error {
	var errs resettlement.Errors
	checkNote("note", c.note(), &errs)
	if len(errs) > 0 {
		return FieldsError(errs)
	}
	return nil
}

// Act does one thing to a case for p: the case in p's sight, the key
// well formed, the note and what the command names checked, then the
// change made by the case's workflow and audited, refused or not.
func (s *Service) Act(ctx context.Context, p *auth.Principal, caseID, key string, c Command) (ActionResult, error) {
	if err := s.access(ctx, p, caseID, c.update()); err != nil {
		return ActionResult{}, err
	}
	if err := CheckKey(key); err != nil {
		return ActionResult{}, err
	}
	if err := CheckCommand(c); err != nil {
		return ActionResult{}, err
	}
	hash, err := requestHash(c.update(), caseID, stepOf(c), c)
	if err != nil {
		return ActionResult{}, err
	}
	errs, err := c.check(ctx, s)
	if err != nil {
		return ActionResult{}, err
	}
	if len(errs) > 0 {
		return ActionResult{}, FieldsError(errs)
	}
	if a, ok := c.(Assign); ok {
		if errs, err := s.checkOwnerOf(ctx, caseID, "owner", a.Owner); err != nil {
			return ActionResult{}, err
		} else if len(errs) > 0 {
			return ActionResult{}, FieldsError(errs)
		}
	}
	if d, ok := c.(dated); ok {
		born, err := s.DB.DateOfBirth(ctx, caseID)
		if err != nil {
			return ActionResult{}, err
		}
		c = d.withBirth(born)
	}
	if t, ok := c.(Transfer); ok {
		// Every open step the sending prison's staff or teams hold moves
		// with the person (resettlement.Transfer).
		rec, err := s.DB.Case(ctx, caseID)
		if err != nil {
			return ActionResult{}, err
		}
		if t.fromTeams, err = s.DB.TeamIDsAt(ctx, rec.Establishment); err != nil {
			return ActionResult{}, err
		}
		c = t
	}
	k := postgres.IdempotencyKey{Staff: p.ID(), Route: c.update(), CaseID: caseID, Key: key}
	if _, err := s.claimKey(ctx, k, hash); err != nil {
		return ActionResult{}, err
	}
	res, err := s.apply(ctx, p, caseID, key, c, "")
	if changedNothing(err) {
		_ = s.DB.ReleaseKey(context.WithoutCancel(ctx), k, hash)
	}
	return res, err
}

// apply stores the note (once per request id and case), sends the update
// and audits the outcome; prefix marks the audit line (a bulk
// reassignment). The request id is the person's, the route's and the
// key's, so one key sent on two routes is two changes, never a retry. A
// note of a change the case refused is deleted again.
func (s *Service) apply(ctx context.Context, p *auth.Principal, caseID, key string, c Command, prefix string) (ActionResult, error) {
	meta := resettlement.Meta{RequestID: p.ID() + ":" + c.update() + ":" + key, By: p.ID()}
	res, detail, err := func() (ActionResult, string, error) {
		// Consent lives here, not in the case: checked before the update
		// (consent.go), so a refusal changes nothing.
		if err := s.checkConsent(ctx, caseID, c); err != nil {
			_, detail := c.build(meta)
			return ActionResult{}, detail, err
		}
		if n := c.note(); n != "" {
			id, err := s.DB.AddNoteOnce(ctx, caseID, p.ID(), n, meta.RequestID)
			if err != nil {
				return ActionResult{}, "", err
			}
			meta.NoteID = id
		}
		cmd, detail := c.build(meta)
		res, err := s.Update(ctx, caseID, c.update(), cmd)
		if err != nil {
			if e, ok := ErrorOf(err); ok {
				err = e
			}
			if meta.NoteID != 0 && changedNothing(err) {
				if derr := s.DB.DeleteUnusedNote(context.WithoutCancel(ctx), caseID, meta.NoteID); derr != nil {
					return ActionResult{}, detail, derr
				}
			}
			return ActionResult{}, detail, err
		}
		return ActionResult{CaseID: caseID, Version: res.Version, Stage: res.Stage}, detail, nil
	}()
	if aerr := s.Audit(ctx, p, "case."+c.update(), caseID, prefix+outcome(detail, err)); aerr != nil && err == nil {
		err = aerr
	}
	if a, ok := c.(Assign); ok && err == nil {
		// The new owner's email (assignmail.go); a retry raises it once.
		err = s.notifyAssigned(ctx, p, caseID, a, meta.RequestID)
	}
	return res, err
}

// outcome is the audit line's ending: ok, refused with its status, or
// failed on our side.
func outcome(detail string, err error) string {
	if err == nil {
		return detail + " ok"
	}
	if e, ok := ErrorOf(err); ok {
		return fmt.Sprintf("%s refused %d", detail, statuses[e.Kind])
	}
	return detail + " failed"
}

// changedNothing reports whether err is a refusal that left the case as it
// was (not a timeout, after which the change may yet have been made, nor a
// fault on our side).
func changedNothing(err error) bool {
	e, ok := ErrorOf(err)
	return err != nil && ok && e.Kind != Unavailable
}

// checkOwnerOf checks an owner may be given the case (or a step of it):
// see checkOwner.
func (s *Service) checkOwnerOf(ctx context.Context, caseID, field string, o resettlement.Owner) (resettlement.Errors, error) {
	rec, err := s.DB.Case(ctx, caseID)
	if err != nil {
		return nil, err
	}
	return s.checkOwner(ctx, field, o, rec.Establishment, rec.Team)
}

// checkOwner checks an owner for a case at an establishment belonging to a
// team: only the people who can see the case may hold it or a step of it
// (an active member of staff whose role's scope takes it in, as access
// checks), and only the case's team or an active team at its
// establishment may have it in their queue. Anyone else would get its
// reminders and escalations, then be told it does not exist.
func (s *Service) checkOwner(ctx context.Context, field string, o resettlement.Owner, establishment, team string) (resettlement.Errors, error) {
	var errs resettlement.Errors
	if o.Team != "" {
		t, err := s.DB.Team(ctx, o.Team)
		if err != nil && !errors.Is(err, postgres.ErrNotFound) {
			return nil, err
		}
		switch {
		case err != nil || !t.Active:
			errs.Add(field+".team", "is not an active team")
		case t.ID != team && t.Establishment != establishment:
			errs.Add(field+".team", "is not a team at "+establishment+", where the case is")
		}
	}
	if o.Staff != "" {
		msg, err := s.checkStaffOwner(ctx, o.Staff, establishment, team)
		if err != nil {
			return nil, err
		}
		if msg != "" {
			errs.Add(field+".staff", msg)
		}
	}
	return errs, nil
}

// checkStaffOwner says why a member of staff may not hold a case at an
// establishment belonging to a team ("" when they may).
func (s *Service) checkStaffOwner(ctx context.Context, id, establishment, team string) (string, error) {
	st, err := s.DB.StaffMember(ctx, id)
	if errors.Is(err, postgres.ErrNotFound) || err == nil && !st.Active {
		return "is not an active member of staff", nil
	}
	if err != nil {
		return "", err
	}
	reach, err := s.DB.StaffReach(ctx, id)
	if err != nil {
		return "", err
	}
	if owner := (auth.Principal{Staff: st, Reach: reach}); !owner.CanWorkTeam(team, establishment) {
		return "cannot see this case: choose someone who works at " + establishment + " or answers for its team", nil
	}
	return "", nil
}

// Team is one team from the directory.
func (s *Service) Team(ctx context.Context, id string) (postgres.Team, error) {
	t, err := s.DB.Team(ctx, id)
	if errors.Is(err, postgres.ErrNotFound) {
		return t, Errorf(NotFound, "There is no such team.")
	}
	return t, err
}
