package resettlement

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Meta travels with every command: who asks, the client's request id that
// makes a retry harmless, and the note (kept in PostgreSQL) that explains it.
type Meta struct {
	RequestID string `json:"request_id"`
	By        string `json:"by"`
	NoteID    int64  `json:"note_id,omitempty"`
}

// PartnerActor is the prefix of the actor a partner agency acts as
// through a one-time link: "partner:" and the link's opaque id.
const PartnerActor = "partner:"

// ValidActor reports whether by names who acts on a case: a member of
// staff (an id), or a partner agency through a link ("partner:" and the
// link's id). Both are opaque ids, never a person's name.
func ValidActor(by string) bool {
	if link, ok := strings.CutPrefix(by, PartnerActor); ok {
		return ValidID(link)
	}
	return ValidID(by)
}

// Seen reports whether a request id was already applied to the case.
func (c *Case) Seen(requestID string) bool {
	return requestID != "" && slices.Contains(c.Requests, requestID)
}

// begin checks what every command needs and refuses work on a closed case.
func (c *Case) begin(m Meta, allowClosed bool) error {
	var errs Errors
	if m.RequestID == "" || len(m.RequestID) > 200 {
		errs.Add("request_id", "is required (up to 200 characters)")
	}
	if !ValidActor(m.By) {
		errs.Add("by", "must name the member of staff acting")
	}
	if err := errs.Err(); err != nil {
		return err
	}
	if c.Closed && !allowClosed {
		return Conflict("the case is closed")
	}
	return nil
}

// done remembers the request and counts the change as progress.
func (c *Case) done(m Meta, now time.Time) {
	c.Requests = append(c.Requests, m.RequestID)
	if len(c.Requests) > maxRequests {
		c.Requests = slices.Delete(c.Requests, 0, len(c.Requests)-maxRequests)
	}
	c.LastProgress = now
}

// StepAction names what a person does to a step.
type StepAction string

const (
	ActionStart     StepAction = "start"
	ActionComplete  StepAction = "complete"
	ActionReopen    StepAction = "reopen"
	ActionNotNeeded StepAction = "not-needed"
	ActionWaiting   StepAction = "waiting"
	ActionDecline   StepAction = "decline"
	ActionNote      StepAction = "note" // a note with no change of status
)

// StepActions lists what a person can do to a step. Read it; never modify it.
var StepActions = []StepAction{ActionStart, ActionComplete, ActionReopen, ActionNotNeeded, ActionWaiting, ActionDecline, ActionNote}

// Valid reports whether a is one of StepActions.
func (a StepAction) Valid() bool { return slices.Contains(StepActions, a) }

// describe names the action in words for messages.
func (a StepAction) describe() string {
	switch a {
	case ActionNotNeeded:
		return "a step marked not needed must say why"
	case ActionWaiting:
		return "a step waiting on another agency must say on whom and for what"
	case ActionDecline:
		return "a declined step must say why"
	case ActionReopen:
		return "a reopened step must say why"
	case ActionNote:
		return "a note needs text"
	}
	return string(a)
}

// ActOnStep is a person working a step.
type ActOnStep struct {
	Meta
	StepID string     `json:"step_id"`
	Action StepAction `json:"action"`
}

// needsNote lists actions that must say why: a step closed without doing it,
// or parked with another agency, must leave a trail the next worker can read.
func (a StepAction) needsNote() bool {
	switch a {
	case ActionNotNeeded, ActionWaiting, ActionDecline, ActionReopen, ActionNote:
		return true
	}
	return false
}

// ActOnStep applies a step action.
func (c *Case) ActOnStep(cmd ActOnStep, now time.Time) error {
	if err := c.begin(cmd.Meta, false); err != nil {
		return err
	}
	s := c.step(cmd.StepID)
	if s == nil {
		return Errors{{"step_id", fmt.Sprintf("the case has no step %q", cmd.StepID)}}
	}
	if cmd.Action.needsNote() && cmd.NoteID == 0 {
		return Errors{{"note", "add a note saying why (" + cmd.Action.describe() + ")"}}
	}
	var to StepStatus
	switch cmd.Action {
	case ActionStart:
		if s.Status != StepNotStarted && s.Status != StepWaiting {
			return Conflict(fmt.Sprintf("%q is %s and cannot be started", s.Title, s.Status))
		}
		to = StepInProgress
	case ActionComplete:
		if !s.Status.Open() {
			return Conflict(fmt.Sprintf("%q is already %s", s.Title, s.Status))
		}
		if s.ID == StepRelease {
			return c.release(cmd, s, now)
		}
		to = StepDone
	case ActionReopen:
		if s.Status.Open() {
			return Conflict(fmt.Sprintf("%q is still open", s.Title))
		}
		if s.ID == StepRelease || s.Kind == KindIdentify {
			return Conflict(fmt.Sprintf("%q cannot be reopened; change the release dates or reset the case instead", s.Title))
		}
		to = StepInProgress
	case ActionNotNeeded, ActionWaiting, ActionDecline:
		if !s.Status.Open() {
			return Conflict(fmt.Sprintf("%q is already %s", s.Title, s.Status))
		}
		if s.ID == StepRelease && cmd.Action != ActionWaiting {
			return Conflict("the release step cannot be closed this way; change the release dates or close the case")
		}
		to = map[StepAction]StepStatus{ActionNotNeeded: StepNotNeeded, ActionWaiting: StepWaiting, ActionDecline: StepDeclined}[cmd.Action]
		if s.Status == to {
			return Conflict(fmt.Sprintf("%q is already %s", s.Title, s.Status))
		}
	case ActionNote:
		c.record(now, cmd.By, Event{Kind: "note", StepID: s.ID, NoteID: cmd.NoteID, Text: "Note added to " + s.Title})
		c.done(cmd.Meta, now)
		return nil
	default:
		return Errors{{"action", "must be one of " + oneOf(StepActions)}}
	}
	c.setStatus(now, cmd.By, s, to, cmd.NoteID, "")
	if to == StepInProgress && cmd.Action == ActionReopen && !s.Due.IsZero() && !s.Due.After(now) {
		s.Due = EnglandAndWales.Shift(now, c.Policy.Grace)
		s.DueDate, s.Graced = DateOf(s.Due), true
	}
	c.done(cmd.Meta, now)
	c.closeIfFollowedUp(now)
	return nil
}

// release records the person leaving custody. The day it is recorded
// becomes the release day for good (Case.ReleasedOn), so the follow-up
// contacts count from it and no rule shifts it again.
func (c *Case) release(cmd ActOnStep, s *Step, now time.Time) error {
	today := DateOf(now)
	if day, ok := c.ReleaseDay(); ok && today.Before(EnglandAndWales.AddWorkingDays(day, -2)) {
		return Conflict(fmt.Sprintf("release is due on %s; record it on the day (change the release dates first if the person is leaving early)", day))
	}
	c.setStatus(now, cmd.By, s, StepDone, cmd.NoteID, "released on "+today.String())
	if c.rules() >= rulesFixed {
		c.ReleasedOn = today
		c.reschedule(now)
	} else if day, ok := c.ReleaseDay(); !ok || day != today {
		// rulesFirst: the day became the confirmed date, which the
		// release-day rule could then move again.
		c.Dates.Confirmed = today
		c.reschedule(now)
	}
	c.done(cmd.Meta, now)
	return nil
}

// Released reports whether the release step is done.
func (c *Case) Released() bool {
	s := c.step(StepRelease)
	return s != nil && s.Status == StepDone
}

// closeIfFollowedUp closes the case once it is released and every follow-up
// contact is closed: a case does not run for ever.
func (c *Case) closeIfFollowedUp(now time.Time) {
	if c.Closed || !c.Released() {
		return
	}
	for _, s := range c.Steps {
		if s.Status.Open() {
			return
		}
	}
	c.Closed = true
	c.Closure = &Closure{Reason: CloseCompleted}
	c.record(now, "", Event{Kind: "closed", Text: "Case closed: all follow-up contacts done"})
}

// PathwayNeed is the assessment's finding on one pathway.
type PathwayNeed struct {
	Pathway Pathway       `json:"pathway"`
	Status  PathwayStatus `json:"status"`
}

// RecordAssessment records the pre-release needs assessment, or its skipping.
type RecordAssessment struct {
	Meta
	Needs []PathwayNeed `json:"needs,omitempty"`
	Skip  SkipReason    `json:"skip,omitempty"`
}

// RecordAssessment sets each pathway's status. A pathway needing no support
// closes its steps as not needed (declined support: declined); a pathway with
// no standard step of its own that needs support gets a support step.
func (c *Case) RecordAssessment(cmd RecordAssessment, now time.Time) error {
	if err := c.begin(cmd.Meta, false); err != nil {
		return err
	}
	var errs Errors
	if cmd.Skip != "" && !cmd.Skip.Valid() {
		errs.Add("skip", "must be one of "+oneOf(SkipReasons))
	}
	if cmd.Skip == "" && len(cmd.Needs) == 0 {
		errs.Add("needs", "give the status of at least one pathway, or a reason to skip the assessment")
	}
	seen := map[Pathway]bool{}
	for i, n := range cmd.Needs {
		if !n.Pathway.Valid() {
			errs.Add(fmt.Sprintf("needs[%d].pathway", i), fmt.Sprintf("%q is not one of the seven pathways", n.Pathway))
		} else if seen[n.Pathway] {
			errs.Add(fmt.Sprintf("needs[%d].pathway", i), "is given twice")
		}
		seen[n.Pathway] = true
		if !n.Status.Valid() {
			errs.Add(fmt.Sprintf("needs[%d].status", i), "must be one of "+oneOf(PathwayStatuses))
		}
	}
	if (cmd.Skip == SkipOther) && cmd.NoteID == 0 {
		errs.Add("note", "say why the assessment was skipped")
	}
	if err := errs.Err(); err != nil {
		return err
	}
	for _, n := range cmd.Needs {
		for i := range c.Pathways {
			if c.Pathways[i].Pathway == n.Pathway {
				c.Pathways[i].Status = n.Status
			}
		}
		c.applyNeed(n, cmd, now)
	}
	if a := c.step(StepNeedsAssessment); a != nil && a.Status.Open() {
		why := ""
		if cmd.Skip != "" {
			c.AssessmentSkipped = cmd.Skip
			why = "skipped: " + string(cmd.Skip)
		}
		c.setStatus(now, cmd.By, a, StepDone, cmd.NoteID, why)
	} else {
		c.record(now, cmd.By, Event{Kind: "assessment", NoteID: cmd.NoteID, Text: "Needs assessment updated"})
	}
	c.done(cmd.Meta, now)
	return nil
}

func (c *Case) applyNeed(n PathwayNeed, cmd RecordAssessment, now time.Time) {
	switch n.Status {
	case PathwaySupportNotRequired, PathwaySupportDeclined:
		to := StepNotNeeded
		if n.Status == PathwaySupportDeclined {
			to = StepDeclined
		}
		for i := range c.Steps {
			s := &c.Steps[i]
			if s.Pathway == n.Pathway && s.Status.Open() && s.Kind != KindFollowUp {
				c.setStatus(now, cmd.By, s, to, cmd.NoteID, "assessment: "+string(n.Status))
			}
		}
	case PathwaySupportRequired:
		id := SupportStepID(n.Pathway)
		if c.plan().hasPathwayStep(n.Pathway) || c.step(id) != nil {
			return
		}
		owner := Owner{Staff: c.Owner, Team: c.Team}
		c.Steps = append(c.Steps, Step{ID: id, Kind: KindPathwaySupport, Title: "Support arranged: " + n.Pathway.Title(),
			Pathway: n.Pathway, Status: StepNotStarted, Owner: owner, Updated: now})
		c.reschedule(now)
		if owner.Unassigned() {
			c.queue(now)
		}
		c.record(now, cmd.By, Event{Kind: "step-added", StepID: id, Text: "Step added: Support arranged: " + n.Pathway.Title()})
	}
}

// Assign gives a step, or the whole case, to a worker or a team queue.
type Assign struct {
	Meta
	StepID string `json:"step_id,omitempty"` // "": the case and every open step its owner held
	Owner  Owner  `json:"owner"`
}

// Assign reassigns. Reminders and escalations follow the new owner from the
// next alarm on; the old owner hears no more.
func (c *Case) Assign(cmd Assign, now time.Time) error {
	if err := c.begin(cmd.Meta, false); err != nil {
		return err
	}
	if cmd.Owner.Team == "" {
		cmd.Owner.Team = c.Team
	}
	var errs Errors
	if !ValidID(cmd.Owner.Team) {
		errs.Add("owner.team", "is not a valid team id")
	}
	if cmd.Owner.Staff != "" && !ValidID(cmd.Owner.Staff) {
		errs.Add("owner.staff", "is not a valid staff id")
	}
	if err := errs.Err(); err != nil {
		return err
	}
	var moved []*Step
	if cmd.StepID == "" {
		prev := c.Owner
		if prev == cmd.Owner.Staff && cmd.Owner.Team == c.Team {
			return Conflict("the case already has that owner")
		}
		c.Owner = cmd.Owner.Staff
		for i := range c.Steps {
			s := &c.Steps[i]
			if s.Status.Open() && s.Owner.Staff == prev {
				moved = append(moved, s)
			}
		}
		c.record(now, cmd.By, Event{Kind: "case-assigned", NoteID: cmd.NoteID, Text: ownerText("Case assigned to", cmd.Owner)})
	} else {
		s := c.step(cmd.StepID)
		if s == nil {
			return Errors{{"step_id", fmt.Sprintf("the case has no step %q", cmd.StepID)}}
		}
		if !s.Status.Open() {
			return Conflict(fmt.Sprintf("%q is %s; reopen it before assigning it", s.Title, s.Status))
		}
		if s.Owner == cmd.Owner {
			return Conflict(fmt.Sprintf("%q already has that owner", s.Title))
		}
		moved = append(moved, s)
	}
	for _, s := range moved {
		s.Owner = cmd.Owner
		s.Assignment++
		s.Updated = now
		if cmd.StepID != "" {
			c.record(now, cmd.By, Event{Kind: "step-assigned", StepID: s.ID, NoteID: cmd.NoteID, Text: ownerText(s.Title+" assigned to", cmd.Owner)})
		}
	}
	if cmd.Owner.Unassigned() && len(moved) > 0 {
		c.queue(now)
	}
	c.done(cmd.Meta, now)
	return nil
}

func ownerText(prefix string, o Owner) string {
	if o.Unassigned() {
		return prefix + " the " + o.Team + " team queue"
	}
	return prefix + " " + o.Staff + " (" + o.Team + ")"
}

// ChangeReleaseDates replaces the release dates. Every dependent window
// moves; with no release date left (release cancelled or deferred) the
// release-anchored steps go on hold. The checks are those of opening a
// case (OpenCase.Validate): consistent dates, no target before the reception
// date, a sensible sentence date.
type ChangeReleaseDates struct {
	Meta
	Dates  ReleaseDates `json:"release_dates"`
	Reason string       `json:"reason"`
	// SentenceDate, when given, replaces the case's; zero keeps it.
	SentenceDate Date `json:"sentence_date,omitempty"`
	// Adult is whether the person is 18 or over on the new target, worked
	// out by the application service from the date of birth (which a Case
	// never holds); nil keeps the case's (no target, or an older command).
	Adult *bool `json:"adult,omitempty"`
}

// ReleaseDateReasons are the reasons staff give for a change of dates.
// Read it; never modify it.
var ReleaseDateReasons = []string{"recalculation", "parole-decision", "added-days", "hdc-decision", "release-cancelled", "release-deferred", "correction", "other"}

// ValidReleaseDateReason reports whether reason is one of ReleaseDateReasons.
func ValidReleaseDateReason(reason string) bool { return slices.Contains(ReleaseDateReasons, reason) }

func (c *Case) ChangeReleaseDates(cmd ChangeReleaseDates, now time.Time) error {
	if err := c.begin(cmd.Meta, false); err != nil {
		return err
	}
	var errs Errors
	if !ValidReleaseDateReason(cmd.Reason) {
		errs.Add("reason", "must be one of "+oneOf(ReleaseDateReasons))
	}
	sentence, adult := c.SentenceDate, c.Adult
	if !cmd.SentenceDate.IsZero() {
		sentence = cmd.SentenceDate
	}
	if cmd.Adult != nil {
		adult = *cmd.Adult
	}
	c.checkDates(&errs, c.ReceivedOn, sentence, cmd.Dates, now)
	if c.Released() {
		errs.Add("release_dates", "the person has already been released; reset the case for a recall")
	}
	if err := errs.Err(); err != nil {
		return err
	}
	if cmd.Dates == c.Dates && sentence == c.SentenceDate && adult == c.Adult {
		return Conflict("the release dates are unchanged")
	}
	c.Dates, c.SentenceDate, c.Adult = cmd.Dates, sentence, adult
	c.reschedule(now)
	text := "Release dates changed (" + cmd.Reason + "): no release date"
	if day, ok := c.ReleaseDay(); ok {
		t, src, _ := c.Target()
		text = fmt.Sprintf("Release dates changed (%s): target %s (%s), release day %s", cmd.Reason, t, src, day)
	}
	c.record(now, cmd.By, Event{Kind: "release-dates", NoteID: cmd.NoteID, Text: text})
	c.done(cmd.Meta, now)
	return nil
}

// Transfer moves the case with the person to another prison.
type Transfer struct {
	Meta
	To     string `json:"to"`      // receiving establishment code
	ToTeam string `json:"to_team"` // receiving resettlement team
	// FromTeams are the teams of the sending establishment (the service
	// looks them up): open steps any of them own move with the case.
	FromTeams []string `json:"from_teams,omitempty"`
}

// Transfer changes the establishment, moves every open step owned by the
// sending establishment's staff or teams (the case's team and FromTeams) to
// the receiving team's queue, so the sending staff hear no more, and adds a
// handover step for the receiving team. Losing people on transfer is the
// failure this system exists to prevent.
func (c *Case) Transfer(cmd Transfer, now time.Time) error {
	if err := c.begin(cmd.Meta, false); err != nil {
		return err
	}
	var errs Errors
	if !ValidEstablishment(cmd.To) {
		errs.Add("to", "must be a three-letter prison code such as BXI")
	} else if cmd.To == c.Establishment {
		errs.Add("to", "the person is already at "+cmd.To)
	}
	if !ValidID(cmd.ToTeam) {
		errs.Add("to_team", "is required")
	}
	if c.Released() {
		errs.Add("to", "the person has already been released")
	}
	if err := errs.Err(); err != nil {
		return err
	}
	from, fromTeam := c.Establishment, c.Team
	queue := Owner{Team: cmd.ToTeam}
	for i := range c.Steps {
		s := &c.Steps[i]
		if s.Status.Open() && (s.Owner.Team == fromTeam || slices.Contains(cmd.FromTeams, s.Owner.Team)) {
			s.Owner = queue
			s.Assignment++
			s.Updated = now
		}
	}
	c.Establishment, c.Team, c.Owner = cmd.To, cmd.ToTeam, ""
	n := 1
	for _, s := range c.Steps {
		if s.Kind == KindHandover {
			n++
		}
	}
	due := EnglandAndWales.Shift(now, c.Policy.Handover)
	c.Steps = append(c.Steps, Step{ID: HandoverStepID(n), Kind: KindHandover,
		Title: "Handover from " + from + " received and case picked up", Status: StepNotStarted,
		Owner: queue, DueDate: DateOf(due), Due: due, Updated: now})
	c.queue(now)
	c.record(now, cmd.By, Event{Kind: "transfer", NoteID: cmd.NoteID, Text: fmt.Sprintf("Transferred from %s (%s) to %s (%s)", from, fromTeam, cmd.To, cmd.ToTeam)})
	c.done(cmd.Meta, now)
	return nil
}

// PauseReason says why a case is paused. It is a choice from a list, not
// free text: the reason travels in the workflow's history, where personal
// data must not go; anything more goes in the note, which stays in
// PostgreSQL (docs/design.md, "Personal data").
type PauseReason string

const (
	PauseCourt       PauseReason = "awaiting-court-date"       // remanded or awaiting sentence
	PauseHospital    PauseReason = "hospital-transfer-pending" // transfer to a secure hospital
	PauseCalculation PauseReason = "awaiting-sentence-calculation"
	PauseAtLarge     PauseReason = "unlawfully-at-large"
	PauseOther       PauseReason = "other" // needs a note
)

// PauseReasons lists why a case may be paused. Read it; never modify it.
var PauseReasons = []PauseReason{PauseCourt, PauseHospital, PauseCalculation, PauseAtLarge, PauseOther}

// Valid reports whether r is one of PauseReasons.
func (r PauseReason) Valid() bool { return slices.Contains(PauseReasons, r) }

// Title is the reason as staff read it.
func (r PauseReason) Title() string {
	switch r {
	case PauseCourt:
		return "Awaiting a court date"
	case PauseHospital:
		return "Transfer to hospital pending"
	case PauseCalculation:
		return "Awaiting a sentence calculation"
	case PauseAtLarge:
		return "Unlawfully at large"
	case PauseOther:
		return "Other (see the note)"
	}
	return string(r)
}

// Pause stops reminders, escalations and the stall check, with a reason
// from PauseReasons (other needs a note).
type Pause struct {
	Meta
	Reason PauseReason `json:"reason"`
}

func (c *Case) Pause(cmd Pause, now time.Time) error {
	if err := c.begin(cmd.Meta, false); err != nil {
		return err
	}
	text := string(cmd.Reason)
	if c.rules() < rulesFixed && !cmd.Reason.Valid() {
		// The first rules took a free-text reason: histories replay it.
		if cmd.Reason == "" || len(cmd.Reason) > 200 {
			return Errors{{"reason", "say why the case is paused (up to 200 characters)"}}
		}
	} else {
		switch {
		case !cmd.Reason.Valid():
			return Errors{{"reason", "must be one of " + oneOf(PauseReasons)}}
		case cmd.Reason == PauseOther && cmd.NoteID == 0:
			return Errors{{"note", "say in a note why the case is paused"}}
		}
		text = cmd.Reason.Title()
	}
	if c.Paused {
		return Conflict("the case is already paused")
	}
	c.Paused, c.PauseReason = true, string(cmd.Reason)
	c.record(now, cmd.By, Event{Kind: "paused", NoteID: cmd.NoteID, Text: "Case paused: " + text})
	c.done(cmd.Meta, now)
	return nil
}

// Resume restarts a paused case (its Reason is not used).
type Resume = Pause

// Resume restarts a paused case. Alarms whose time passed while paused are
// not replayed one by one: each overdue step raises only its latest.
func (c *Case) Resume(cmd Resume, now time.Time) error {
	if err := c.begin(cmd.Meta, false); err != nil {
		return err
	}
	if !c.Paused {
		return Conflict("the case is not paused")
	}
	c.Paused, c.PauseReason = false, ""
	c.record(now, cmd.By, Event{Kind: "resumed", NoteID: cmd.NoteID, Text: "Case resumed"})
	c.done(cmd.Meta, now)
	return nil
}

// ResetReason says why a case starts again.
type ResetReason string

const (
	ResetRecall      ResetReason = "recall"       // recalled to prison after release
	ResetNewSentence ResetReason = "new-sentence" // returned on a new sentence
)

// ResetReasons lists why a case may start again. Read it; never modify it.
var ResetReasons = []ResetReason{ResetRecall, ResetNewSentence}

// Valid reports whether r is one of ResetReasons.
func (r ResetReason) Valid() bool { return slices.Contains(ResetReasons, r) }

// Reset starts the case again after a recall or a new sentence: open work is
// cancelled and the plan is laid afresh from the new reception and dates.
// The dates are checked as on opening (OpenCase.Validate).
type Reset struct {
	Meta
	Reason     ResetReason  `json:"reason"`
	ReceivedOn Date         `json:"received_on"`
	Dates      ReleaseDates `json:"release_dates"`
	// SentenceDate is the new custody's sentence date, if known. Zero
	// leaves it unknown (the days served then count from ReceivedOn): the
	// previous one belongs to the custody that ended.
	SentenceDate Date `json:"sentence_date,omitempty"`
	// Adult is as in ChangeReleaseDates: nil keeps the case's.
	Adult *bool `json:"adult,omitempty"`
	// Plan is the plan version the new custody runs under (0: the case's).
	Plan int `json:"plan,omitempty"`
}

func (c *Case) Reset(cmd Reset, now time.Time) error {
	if err := c.begin(cmd.Meta, false); err != nil {
		return err
	}
	var errs Errors
	if !cmd.Reason.Valid() {
		errs.Add("reason", "must be recall or new-sentence")
	}
	if cmd.ReceivedOn.IsZero() || cmd.ReceivedOn.After(DateOf(now)) {
		errs.Add("received_on", "is required and cannot be in the future")
	}
	// A new custody starts under the plan the service names (the current
	// one) if that is newer; a reset recorded before resets named a plan
	// keeps the case's.
	plan := c.Plan
	if cmd.Plan != 0 {
		validPlanVersion("plan", cmd.Plan, &errs)
		if cmd.Plan > c.plan().Version {
			c.Plan = cmd.Plan
		}
	}
	c.checkDates(&errs, cmd.ReceivedOn, cmd.SentenceDate, cmd.Dates, now)
	if err := errs.Err(); err != nil {
		c.Plan = plan
		return err
	}
	for i := range c.Steps {
		if s := &c.Steps[i]; s.Status.Open() {
			c.setStatus(now, cmd.By, s, StepCancelled, cmd.NoteID, "reset: "+string(cmd.Reason))
		}
	}
	c.Cycle++
	c.ReceivedOn, c.Dates = cmd.ReceivedOn, cmd.Dates
	c.SentenceDate = cmd.SentenceDate
	if cmd.Adult != nil {
		c.Adult = *cmd.Adult
	}
	c.AssessmentSkipped, c.Paused, c.PauseReason = "", false, ""
	for i := range c.Pathways {
		c.Pathways[i].Status = PathwayNotStarted
	}
	c.ReleasedOn = Date{}
	c.layOut(now, cmd.By)
	c.record(now, cmd.By, Event{Kind: "reset", NoteID: cmd.NoteID, Text: fmt.Sprintf("Case reset (%s), received %s", cmd.Reason, cmd.ReceivedOn)})
	c.done(cmd.Meta, now)
	return nil
}

// CloseReason says why a case ended.
type CloseReason string

const (
	CloseCompleted        CloseReason = "completed" // follow-up done
	CloseSupportDeclined  CloseReason = "support-declined"
	CloseHospital         CloseReason = "transferred-to-hospital"
	CloseDeported         CloseReason = "deported"
	CloseDiedInCustody    CloseReason = "died-in-custody"
	CloseReleaseCancelled CloseReason = "release-cancelled"
	CloseDuplicate        CloseReason = "opened-in-error"
	CloseOther            CloseReason = "other"
)

// CloseReasons lists why a case may end, in the order staff choose from
// them. Read it; never modify it.
var CloseReasons = []CloseReason{CloseCompleted, CloseSupportDeclined, CloseHospital, CloseDeported, CloseDiedInCustody, CloseReleaseCancelled, CloseDuplicate, CloseOther}

// Valid reports whether r is one of CloseReasons.
func (r CloseReason) Valid() bool { return slices.Contains(CloseReasons, r) }

// Outcome is what the case achieved, recorded at closure. Nil means unknown.
type Outcome struct {
	AccommodationNightOne *bool `json:"accommodation_night_one,omitempty"`
	Accommodation12Weeks  *bool `json:"accommodation_12_weeks,omitempty"`
	GPRegistered          *bool `json:"gp_registered,omitempty"`
	IDObtained            *bool `json:"id_obtained,omitempty"`
	BankAccount           *bool `json:"bank_account,omitempty"`
	BenefitsInPayment     *bool `json:"benefits_in_payment,omitempty"`
	EmploymentOrTraining  *bool `json:"employment_or_training,omitempty"`
	EngagedWithProbation  *bool `json:"engaged_with_probation,omitempty"`
}

// Closure is how a case ended.
type Closure struct {
	Reason  CloseReason `json:"reason"`
	Outcome Outcome     `json:"outcome"`
}

// Close ends a case by hand. Open steps are cancelled.
type Close struct {
	Meta
	Reason  CloseReason `json:"reason"`
	Outcome Outcome     `json:"outcome"`
}

func (c *Case) Close(cmd Close, now time.Time) error {
	if err := c.begin(cmd.Meta, false); err != nil {
		return err
	}
	if !cmd.Reason.Valid() {
		return Errors{{"reason", "must be one of " + oneOf(CloseReasons)}}
	}
	if cmd.Reason == CloseOther && cmd.NoteID == 0 {
		return Errors{{"note", "say why the case is closed"}}
	}
	for i := range c.Steps {
		if s := &c.Steps[i]; s.Status.Open() {
			c.setStatus(now, cmd.By, s, StepCancelled, 0, "case closed")
		}
	}
	c.Closed = true
	c.Closure = &Closure{Reason: cmd.Reason, Outcome: cmd.Outcome}
	c.record(now, cmd.By, Event{Kind: "closed", NoteID: cmd.NoteID, Text: "Case closed: " + string(cmd.Reason)})
	c.done(cmd.Meta, now)
	return nil
}

// RequestMeta returns the command's Meta; every command embeds Meta, so
// every command has this method, which lets the workflow handle them alike.
func (m Meta) RequestMeta() Meta { return m }
