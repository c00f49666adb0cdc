package casework

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/resettlement"
)

// Prison movement events, acted on (docs/design.md, "Prison movement
// events"): each delivery is verified (events_sign.go), read
// (events_parse.go), recorded in PostgreSQL before anything is done about
// it, and then acted on through the very Service methods the API and the
// pages use — OpenCase and Act — by a system principal, "events:<source>"
// in the audit log. A person's events are processed one at a time
// (postgres.DB.LockPerson); an event that cannot be acted on yet is held,
// and one that cannot be acted on at all is parked for the managers'
// review queue (events_review.go).

// EventSettings configure prison movement events.
type EventSettings struct {
	// Sources are who may send events, each with its secret
	// (EVENT_SOURCES); none: every delivery is refused.
	Sources []EventSource
	// Teams names, per establishment, the team that takes new cases there
	// when several active teams work at it (EVENT_TEAMS).
	Teams map[string]string
	// Search finds a person's record when an event carries none
	// (PRISONER_SEARCH_URL); nil when there is none to ask.
	Search PrisonerSearch
	// Hold is how long an event may wait for an earlier one before it is
	// parked (EVENT_HOLD); 0 means DefaultEventHold.
	Hold time.Duration
}

// DefaultEventHold is how long an event waits for the one it depends on.
const DefaultEventHold = 24 * time.Hour

// maxEventAttempts is how many times an event is tried when processing it
// fails on our side (the case engine or the prisoner search unreachable)
// before it is parked.
const maxEventAttempts = 5

// EventStaffPrefix begins the staff id events act under in a case's
// history ("events-nomis"); the audit log names them "events:nomis".
const EventStaffPrefix = "events-"

// viaEvents marks the system principal events act as (auth.Principal.Via).
const viaEvents = "events"

func (s *Service) eventHold() time.Duration {
	if s.Events.Hold > 0 {
		return s.Events.Hold
	}
	return DefaultEventHold
}

// eventActor is the principal an event from source acts as on cases at an
// establishment: an officer's reach there, and no more.
func eventActor(source, establishment string) *auth.Principal {
	return &auth.Principal{Staff: postgres.Staff{ID: EventStaffPrefix + source, Name: "events:" + source, Role: auth.RoleOfficer, Active: true},
		Reach: postgres.Reach{TeamEstablishment: establishment}, Via: viaEvents}
}

// auditActor is who the audit log says acted: the member of staff, or
// "events:<source>" for an event.
func auditActor(p *auth.Principal) string {
	if p.Via == viaEvents {
		return "events:" + strings.TrimPrefix(p.ID(), EventStaffPrefix)
	}
	return p.ID()
}

// EventResult answers a delivery: the event as recorded, with what was
// done, and whether it had been delivered before.
type EventResult struct {
	postgres.EventRecord
	Duplicate bool `json:"duplicate"`
}

// ReceiveEvent takes one delivery of an event: verified against the
// sources, read, recorded once per source and event id, then acted on. A
// redelivery of an event already dealt with is answered with the first
// outcome and changes nothing; one whose processing failed on our side is
// processed again. When processing fails on our side the event stays
// recorded as received, the error says so, and the sweep (SweepEvents)
// or a redelivery tries again.
func (s *Service) ReceiveEvent(ctx context.Context, d SignedDelivery) (EventResult, error) {
	source, err := VerifyDelivery(s.Events.Sources, d, s.now())
	if err != nil {
		return EventResult{}, err
	}
	ev, err := ParseEvent(d.Body)
	if err != nil {
		return EventResult{}, err
	}
	rec, created, err := s.DB.RecordEvent(ctx, postgres.NewEvent{Source: source, EventID: d.EventID, Type: ev.Type,
		Reason: ev.Reason, PrisonNumber: ev.PrisonNumber, Establishment: ev.Prison, OccurredAt: ev.OccurredAt,
		ReceivedAt: s.now(), Body: d.Body})
	if errors.Is(err, postgres.ErrEventIDReused) {
		return EventResult{}, Errorf(Conflict, "This source already sent a different event with this id: give every event its own id, and send an event again only unchanged.",
			resettlement.FieldError{Field: HeaderEventID, Message: "was already used for a different event"})
	}
	if err != nil {
		return EventResult{}, err
	}
	if created {
		if err := s.AuditAs(ctx, "events:"+source, "", "event.received", "", eventDetail(rec)); err != nil {
			return EventResult{}, err
		}
	}
	res := EventResult{EventRecord: rec, Duplicate: !created}
	if rec.Status != postgres.EventReceived {
		return res, nil
	}
	res.EventRecord, err = s.processEvent(ctx, rec.ID, eventRun{})
	return res, err
}

// eventDetail is an audit line's description of an event: ids and codes,
// never the person.
func eventDetail(rec postgres.EventRecord) string {
	d := fmt.Sprintf("event=%d type=%s", rec.ID, rec.Type)
	if rec.Reason != "" {
		d += " reason=" + rec.Reason
	}
	if rec.Establishment != "" {
		d += " establishment=" + rec.Establishment
	}
	return d
}

// eventRun says how an event is being processed.
type eventRun struct {
	// by is the manager applying it from the review queue (nil: on
	// delivery, or by the sweep).
	by *auth.Principal
	// team is the team the manager chose for the establishment.
	team string
	// final: the event has waited as long as it may, so held becomes
	// parked.
	final bool
	// sweep: the periodic retry, which also takes held events.
	sweep bool
}

// processable reports whether an event in a status is to be processed in
// this run: a received one always; a held one by the sweep or a manager;
// a parked one only by a manager.
func (r eventRun) processable(status string) bool {
	switch status {
	case postgres.EventReceived:
		return true
	case postgres.EventHeld:
		return r.sweep || r.by != nil
	case postgres.EventParked:
		return r.by != nil
	}
	return false
}

// processEvent acts on a recorded event under its person's lock, then
// tries again the person's held events if it applied.
func (s *Service) processEvent(ctx context.Context, id int64, run eventRun) (postgres.EventRecord, error) {
	rec, err := s.DB.Event(ctx, id)
	if err != nil {
		return rec, err
	}
	unlock, err := s.DB.LockPerson(ctx, rec.PrisonNumber)
	if err != nil {
		return rec, err
	}
	defer unlock()
	// Another process may have dealt with it while we waited.
	if rec, err = s.DB.Event(ctx, id); err != nil || !run.processable(rec.Status) {
		return rec, err
	}
	o, err := s.processLocked(ctx, rec, run)
	if err != nil {
		return rec, err
	}
	if o.Status == postgres.EventApplied && rec.PrisonNumber != "" {
		// A held event that fails on our side now stays held for the
		// sweep: this event is dealt with either way.
		_ = s.retryHeld(ctx, rec.PrisonNumber)
	}
	return s.DB.Event(ctx, id)
}

// processLocked acts on one event and records the outcome; the caller
// holds the person's lock. A failure on our side leaves the event as it
// was and is counted.
func (s *Service) processLocked(ctx context.Context, rec postgres.EventRecord, run eventRun) (postgres.EventOutcome, error) {
	o, err := s.actOnEvent(ctx, rec, run)
	if err != nil {
		if rec.Status == postgres.EventReceived {
			_, _ = s.DB.CountEventFailure(context.WithoutCancel(ctx), rec.ID)
		}
		return o, err
	}
	if o.Status == postgres.EventHeld && run.final {
		o.Status = postgres.EventParked
		o.Outcome = fmt.Sprintf("waited %s and was parked: %s", s.eventHold(), o.Outcome)
	}
	if o.Status == rec.Status && o.Outcome == rec.Outcome && run.by == nil {
		return o, nil // tried again, still held: nothing new to record
	}
	actor := "events:" + rec.Source
	if run.by != nil {
		o.DecidedBy = run.by.ID()
		actor = run.by.ID()
	}
	if err := s.DB.SetEventOutcome(ctx, rec.ID, o, s.now()); err != nil {
		return o, err
	}
	rec.Status = o.Status
	if o.Establishment != "" {
		rec.Establishment = o.Establishment
	}
	return o, s.AuditAs(ctx, actor, "", "event."+o.Status, o.CaseID, eventDetail(rec))
}

// retryHeld tries the person's held events again, in the order they
// happened, until none applies.
func (s *Service) retryHeld(ctx context.Context, prisonNumber string) error {
	for range 20 { // each round applies at least one event, and a person has few
		held, err := s.DB.PersonEvents(ctx, prisonNumber, postgres.EventHeld)
		if err != nil {
			return err
		}
		progress := false
		for _, rec := range held {
			o, err := s.processLocked(ctx, rec, eventRun{sweep: true})
			if err != nil {
				return err
			}
			progress = progress || o.Status == postgres.EventApplied
		}
		if !progress {
			return nil
		}
	}
	return nil
}

// Outcomes.

func eventOutcome(status, text, caseID, establishment string) (postgres.EventOutcome, error) {
	return postgres.EventOutcome{Status: status, Outcome: text, CaseID: caseID, Establishment: establishment}, nil
}

// refusedBy turns the service's refusal of what an event asked into a
// parked outcome saying why; anything else (a fault, an engine that did
// not answer) is returned as an error, leaving the event to be tried again.
func refusedBy(err error, what, caseID, establishment string) (postgres.EventOutcome, error) {
	e, ok := ErrorOf(err)
	if !ok || e.Kind == Unavailable {
		return postgres.EventOutcome{}, err
	}
	return eventOutcome(postgres.EventParked, what+": "+describeError(e), caseID, establishment)
}

// describeError says in one line what a refusal said.
func describeError(e *Error) string {
	var parts []string
	if len(e.Fields) == 0 || !strings.HasPrefix(e.Detail, "The request has problems") {
		parts = append(parts, strings.TrimSuffix(e.Detail, "."))
	}
	for _, f := range e.Fields {
		parts = append(parts, f.Field+" "+f.Message)
	}
	return strings.Join(parts, "; ")
}

// actOnEvent does what an event asks (Classify).
func (s *Service) actOnEvent(ctx context.Context, rec postgres.EventRecord, run eventRun) (postgres.EventOutcome, error) {
	ev, err := ParseEvent(rec.Body)
	if err != nil {
		return eventOutcome(postgres.EventParked, "the recorded event cannot be read", "", "")
	}
	move, why := Classify(ev.Type, ev.Reason, ev.Categories)
	switch move {
	case MoveOpen:
		return s.eventOpen(ctx, rec, ev, run, "")
	case MoveReadmit:
		return s.eventReadmit(ctx, rec, ev, run)
	case MoveTransfer:
		return s.eventTransfer(ctx, rec, ev, run)
	case MoveRelease:
		return s.eventRelease(ctx, rec, ev)
	case MoveDates:
		return s.eventDates(ctx, rec, ev)
	}
	return eventOutcome(postgres.EventIgnored, why, "", "")
}

func eventKey(rec postgres.EventRecord) string { return fmt.Sprintf("event-%d", rec.ID) }

// eventTeam chooses the team that takes a case at an establishment: the
// team the manager chose, or the one active team there, or, of several,
// the one EVENT_TEAMS names. why says why there is none.
func (s *Service) eventTeam(ctx context.Context, establishment, chosen string) (team postgres.Team, why string, err error) {
	all, err := s.DB.AllTeams(ctx)
	if err != nil {
		return team, "", err
	}
	var at []postgres.Team
	for _, t := range all {
		if t.Active && t.Establishment == establishment {
			at = append(at, t)
		}
	}
	want := chosen
	if want == "" && len(at) > 1 {
		want = s.Events.Teams[establishment]
	}
	for _, t := range at {
		if t.ID == want || want == "" && len(at) == 1 {
			return t, "", nil
		}
	}
	switch {
	case chosen != "":
		return team, "team " + chosen + " is not an active team at " + establishment, nil
	case len(at) == 0:
		return team, "no active team works at " + establishment + " (an establishment Throughgate does not know): add its team, then apply", nil
	}
	return team, fmt.Sprintf("%d active teams work at %s and EVENT_TEAMS names none of them: choose the team when applying", len(at), establishment), nil
}

// prisonerFor is the person's record: the event's own, or Prisoner
// Search's. why says why there is none; an error means the search did
// not answer (the event is tried again later).
func (s *Service) prisonerFor(ctx context.Context, ev MovementEvent) (p *PrisonerRecord, why string, err error) {
	if ev.Prisoner != nil {
		return ev.Prisoner, "", nil
	}
	if s.Events.Search == nil {
		return nil, "the event carries no person's record (additionalInformation.prisoner) and PRISONER_SEARCH_URL is not set", nil
	}
	p, err = s.Events.Search.Prisoner(ctx, ev.PrisonNumber)
	if err != nil {
		return nil, "", &Error{Kind: Unavailable, Detail: "The prisoner search did not answer; the event is kept and tried again."}
	}
	if p == nil {
		return nil, "the prisoner search does not know the person", nil
	}
	return p, "", nil
}

// personCases are the person's cases, the latest first, and the latest
// open one (nil when none).
func (s *Service) personCases(ctx context.Context, prisonNumber string) ([]postgres.PersonCase, *postgres.PersonCase, error) {
	cases, err := s.DB.PersonCases(ctx, prisonNumber)
	if err != nil {
		return nil, nil, err
	}
	for i := range cases {
		if cases[i].ClosedAt == nil {
			return cases, &cases[i], nil
		}
	}
	return cases, nil, nil
}

func released(c *postgres.PersonCase) bool { return c.Stage == string(resettlement.StageFollowUp) }

// superseded says why an event is out of date: a later one of the types
// has already been applied for the person ("" when none has).
func (s *Service) superseded(ctx context.Context, rec postgres.EventRecord, ev MovementEvent, types ...string) (string, error) {
	at, ok, err := s.DB.LatestApplied(ctx, ev.PrisonNumber, types, rec.ID)
	if err != nil || !ok || !at.After(ev.OccurredAt) {
		return "", err
	}
	return "a later event (of " + at.In(resettlement.London).Format("2 Jan 2006 15:04") + ") was applied already: this one is out of date", nil
}

// awaitReadModel waits, a few seconds at most, for the read model to hold
// a case's version, so the person's next event reads the case as it now
// is (its prison, its stage).
func (s *Service) awaitReadModel(ctx context.Context, caseID string, version int) {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		v, err := s.DB.CaseVersion(ctx, caseID)
		if err != nil || v >= version {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// eventOpen opens a case for a reception: the person's record from the
// event or the prisoner search, the establishment's team, the reception
// day, the release dates known (none: the release-day steps wait).
func (s *Service) eventOpen(ctx context.Context, rec postgres.EventRecord, ev MovementEvent, run eventRun, lead string) (postgres.EventOutcome, error) {
	team, why, err := s.eventTeam(ctx, ev.Prison, run.team)
	if err != nil || why != "" {
		return postgres.EventOutcome{Status: postgres.EventParked, Outcome: lead + why}, err
	}
	p, why, err := s.prisonerFor(ctx, ev)
	if err != nil || why != "" {
		return postgres.EventOutcome{Status: postgres.EventParked, Outcome: lead + why}, err
	}
	if p.BookingID == "" {
		return eventOutcome(postgres.EventParked, lead+"the person's record has no bookingId", "", "")
	}
	_, open, err := s.personCases(ctx, ev.PrisonNumber)
	if err != nil {
		return postgres.EventOutcome{}, err
	}
	if open != nil && open.Booking == string(p.BookingID) {
		if open.Establishment == ev.Prison {
			return eventOutcome(postgres.EventIgnored, lead+"the person already has an open case for this booking", open.ID, "")
		}
		return eventOutcome(postgres.EventParked, lead+"the person already has an open case for this booking at "+open.Establishment+
			": check for a missed transfer, then dismiss", open.ID, "")
	}
	req := OpenRequest{Person: postgres.Person{PrisonNumber: ev.PrisonNumber, Booking: string(p.BookingID),
		GivenName: p.FirstName, FamilyName: p.LastName, DateOfBirth: p.DateOfBirth},
		Establishment: ev.Prison, Team: team.ID, ReceivedOn: resettlement.DateOf(ev.OccurredAt),
		SentenceDate: p.SentenceStartDate, Dates: p.Dates()}
	view, _, err := s.OpenCase(ctx, eventActor(rec.Source, ev.Prison), req, eventKey(rec))
	if err != nil {
		return refusedBy(err, lead+"the case could not be opened", "", "")
	}
	s.awaitReadModel(ctx, view.ID, view.Version)
	text := fmt.Sprintf("%sopened case %s at %s for team %s", lead, view.ID, ev.Prison, team.ID)
	if _, _, ok := req.Dates.Target(); !ok {
		text += ", its release-day steps on hold: no release date is known yet"
	}
	if open != nil {
		text += "; the person's case " + open.ID + " (another booking) is still open at " + open.Establishment
	}
	return eventOutcome(postgres.EventApplied, text, view.ID, "")
}

// eventReadmit deals with a readmission: a new case when the person's
// last case is closed (or they have none); a reset for a recall when it
// is released and in follow-up, moved to the receiving prison if it is
// elsewhere.
func (s *Service) eventReadmit(ctx context.Context, rec postgres.EventRecord, ev MovementEvent, run eventRun) (postgres.EventOutcome, error) {
	cases, _, err := s.personCases(ctx, ev.PrisonNumber)
	if err != nil {
		return postgres.EventOutcome{}, err
	}
	if len(cases) == 0 || cases[0].ClosedAt != nil {
		return s.eventOpen(ctx, rec, ev, run, "readmission: ")
	}
	last := &cases[0]
	if !released(last) {
		return eventOutcome(postgres.EventParked, "readmission, but case "+last.ID+" is open and records no release: record the release on it (or close it), then apply",
			last.ID, last.Establishment)
	}
	var team postgres.Team
	moving := last.Establishment != ev.Prison
	if moving {
		var why string
		if team, why, err = s.eventTeam(ctx, ev.Prison, run.team); err != nil || why != "" {
			return postgres.EventOutcome{Status: postgres.EventParked, Outcome: "readmission of the person of case " + last.ID + ": " + why, CaseID: last.ID}, err
		}
	}
	reset := Reset{Reason: resettlement.ResetRecall, ReceivedOn: resettlement.DateOf(ev.OccurredAt)}
	p, _, err := s.prisonerFor(ctx, ev)
	if err != nil {
		return postgres.EventOutcome{}, err
	}
	if p != nil {
		reset.ReleaseDates, reset.SentenceDate = p.Dates(), p.SentenceStartDate
	}
	res, err := s.Act(ctx, eventActor(rec.Source, last.Establishment), last.ID, eventKey(rec), reset)
	if err != nil {
		return refusedBy(err, "case "+last.ID+" could not be reset for a recall", last.ID, last.Establishment)
	}
	s.awaitReadModel(ctx, last.ID, res.Version)
	text := "reset case " + last.ID + " for a recall"
	if p == nil {
		text += ", its release-day steps on hold: no release date is known yet"
	}
	if moving {
		res, err = s.Act(ctx, eventActor(rec.Source, last.Establishment), last.ID, eventKey(rec), Transfer{To: ev.Prison, ToTeam: team.ID})
		if err != nil {
			return refusedBy(err, text+", but could not move it to "+ev.Prison, last.ID, last.Establishment)
		}
		s.awaitReadModel(ctx, last.ID, res.Version)
		text += " and moved it from " + last.Establishment + " to " + ev.Prison + " (team " + team.ID + ")"
	}
	return eventOutcome(postgres.EventApplied, text, last.ID, "")
}

// movementTypes are the events that say where a person is.
var movementTypes = []string{EventReceived, EventReleased}

// eventTransfer moves the person's open case to the receiving prison. With
// no case yet (the reception it follows is still to come), it is held.
func (s *Service) eventTransfer(ctx context.Context, rec postgres.EventRecord, ev MovementEvent, run eventRun) (postgres.EventOutcome, error) {
	if why, err := s.superseded(ctx, rec, ev, movementTypes...); err != nil || why != "" {
		return postgres.EventOutcome{Status: postgres.EventIgnored, Outcome: why}, err
	}
	_, open, err := s.personCases(ctx, ev.PrisonNumber)
	if err != nil {
		return postgres.EventOutcome{}, err
	}
	switch {
	case open == nil:
		return eventOutcome(postgres.EventHeld, "no open case for the person yet: held until the reception it follows arrives (for "+
			s.eventHold().String()+" at most)", "", "")
	case released(open):
		return eventOutcome(postgres.EventIgnored, "case "+open.ID+" records a release: a transfer does not move it", open.ID, "")
	case open.Establishment == ev.Prison:
		return eventOutcome(postgres.EventIgnored, "case "+open.ID+" is already at "+ev.Prison, open.ID, "")
	}
	team, why, err := s.eventTeam(ctx, ev.Prison, run.team)
	if err != nil || why != "" {
		return postgres.EventOutcome{Status: postgres.EventParked, Outcome: "transfer of case " + open.ID + ": " + why, CaseID: open.ID}, err
	}
	res, err := s.Act(ctx, eventActor(rec.Source, open.Establishment), open.ID, eventKey(rec), Transfer{To: ev.Prison, ToTeam: team.ID})
	if err != nil {
		return refusedBy(err, "case "+open.ID+" could not be moved to "+ev.Prison, open.ID, "")
	}
	s.awaitReadModel(ctx, open.ID, res.Version)
	return eventOutcome(postgres.EventApplied, "moved case "+open.ID+" from "+open.Establishment+" to "+ev.Prison+" (team "+team.ID+")", open.ID, "")
}

// eventRelease records the release on the person's open case, on the day.
// A release earlier than the case's release day allows first makes that
// day the confirmed release date.
func (s *Service) eventRelease(ctx context.Context, rec postgres.EventRecord, ev MovementEvent) (postgres.EventOutcome, error) {
	if why, err := s.superseded(ctx, rec, ev, movementTypes...); err != nil || why != "" {
		return postgres.EventOutcome{Status: postgres.EventIgnored, Outcome: why}, err
	}
	_, open, err := s.personCases(ctx, ev.PrisonNumber)
	if err != nil {
		return postgres.EventOutcome{}, err
	}
	switch {
	case open == nil:
		return eventOutcome(postgres.EventParked, "no open case for the person: there is nothing to record the release on", "", "")
	case released(open):
		return eventOutcome(postgres.EventIgnored, "case "+open.ID+" records the release already", open.ID, "")
	}
	actor := eventActor(rec.Source, open.Establishment)
	release := ActOnStep{StepID: resettlement.StepRelease, Action: resettlement.ActionComplete}
	res, err := s.Act(ctx, actor, open.ID, eventKey(rec), release)
	early := ""
	if e, ok := ErrorOf(err); ok && e.Kind == Conflict && strings.Contains(e.Detail, "release is due on") {
		// Leaving earlier than planned: the day is the confirmed date.
		c, cerr := s.DB.Case(ctx, open.ID)
		if cerr != nil {
			return postgres.EventOutcome{}, cerr
		}
		if c.State == nil {
			return refusedBy(err, "the release could not be recorded on case "+open.ID, open.ID, "")
		}
		dates := c.State.Dates
		dates.Confirmed = resettlement.DateOf(s.now())
		change := ChangeReleaseDates{ReleaseDates: dates, Reason: "correction",
			Note: "The prison recorded the release (prison movement event " + fmt.Sprint(rec.ID) + ")."}
		cres, cerr := s.Act(ctx, actor, open.ID, eventKey(rec), change)
		if cerr != nil {
			return refusedBy(cerr, "the release could not be recorded on case "+open.ID, open.ID, "")
		}
		s.awaitReadModel(ctx, open.ID, cres.Version)
		early = ", earlier than planned: " + dates.Confirmed.String() + " is now the confirmed release date"
		res, err = s.Act(ctx, actor, open.ID, eventKey(rec), release)
	}
	if err != nil {
		return refusedBy(err, "the release could not be recorded on case "+open.ID, open.ID, "")
	}
	s.awaitReadModel(ctx, open.ID, res.Version)
	text := "recorded the release on case " + open.ID + early
	if open.Establishment != ev.Prison {
		text += " (the case was at " + open.Establishment + ", the person left " + ev.Prison + ")"
	}
	return eventOutcome(postgres.EventApplied, text, open.ID, "")
}

// eventDates re-plans the person's open case from the release dates after
// a sentence change: the event's record's, or the prisoner search's.
func (s *Service) eventDates(ctx context.Context, rec postgres.EventRecord, ev MovementEvent) (postgres.EventOutcome, error) {
	if why, err := s.superseded(ctx, rec, ev, EventUpdated); err != nil || why != "" {
		return postgres.EventOutcome{Status: postgres.EventIgnored, Outcome: why}, err
	}
	_, open, err := s.personCases(ctx, ev.PrisonNumber)
	if err != nil {
		return postgres.EventOutcome{}, err
	}
	switch {
	case open == nil:
		return eventOutcome(postgres.EventIgnored, "no open case for the person", "", "")
	case released(open):
		return eventOutcome(postgres.EventIgnored, "case "+open.ID+" records a release: release dates no longer move its plan", open.ID, "")
	}
	p, why, err := s.prisonerFor(ctx, ev)
	if err != nil || why != "" {
		return postgres.EventOutcome{Status: postgres.EventParked, Outcome: "the new release dates are not known: " + why,
			CaseID: open.ID, Establishment: open.Establishment}, err
	}
	res, err := s.Act(ctx, eventActor(rec.Source, open.Establishment), open.ID, eventKey(rec),
		ChangeReleaseDates{ReleaseDates: p.Dates(), SentenceDate: p.SentenceStartDate, Reason: "recalculation"})
	if e, ok := ErrorOf(err); ok && e.Kind == Conflict && strings.Contains(e.Detail, "unchanged") {
		return eventOutcome(postgres.EventIgnored, "the release dates of case "+open.ID+" are unchanged", open.ID, open.Establishment)
	}
	if err != nil {
		return refusedBy(err, "the release dates of case "+open.ID+" could not be changed", open.ID, open.Establishment)
	}
	s.awaitReadModel(ctx, open.ID, res.Version)
	return eventOutcome(postgres.EventApplied, "re-planned case "+open.ID+" from the recalculated release dates", open.ID, open.Establishment)
}

// SweepEvents is the periodic pass over events still to be dealt with:
// those whose processing failed on our side are tried again (and parked
// after maxEventAttempts), and held ones are tried again, parked once they
// have waited EVENT_HOLD. It returns how many it changed; the worker runs
// it every minute (app.StartEventSweeper).
func (s *Service) SweepEvents(ctx context.Context) (int, error) {
	now := s.now()
	changed := 0
	stuck, err := s.DB.EventsToSweep(ctx, postgres.EventReceived, now.Add(-2*time.Minute), 100)
	if err != nil {
		return 0, err
	}
	var errs []error
	for _, rec := range stuck {
		if rec.Attempts >= maxEventAttempts {
			o := postgres.EventOutcome{Status: postgres.EventParked,
				Outcome: fmt.Sprintf("could not be processed in %d attempts (the case engine or the prisoner search did not answer): apply to try again", rec.Attempts)}
			if err := s.parkStuck(ctx, rec, o); err != nil {
				errs = append(errs, err)
			}
			changed++
			continue
		}
		after, err := s.processEvent(ctx, rec.ID, eventRun{sweep: true})
		if err != nil {
			errs = append(errs, fmt.Errorf("event %d: %w", rec.ID, err))
		} else if after.Status != rec.Status {
			changed++
		}
	}
	held, err := s.DB.EventsToSweep(ctx, postgres.EventHeld, now, 200)
	if err != nil {
		return changed, err
	}
	for _, rec := range held {
		final := !rec.ReceivedAt.After(now.Add(-s.eventHold()))
		after, err := s.processEvent(ctx, rec.ID, eventRun{sweep: true, final: final})
		if err != nil {
			errs = append(errs, fmt.Errorf("event %d: %w", rec.ID, err))
		} else if after.Status != rec.Status {
			changed++
		}
	}
	return changed, errors.Join(errs...)
}

// parkStuck parks an event that failed too often, under its person's lock.
func (s *Service) parkStuck(ctx context.Context, rec postgres.EventRecord, o postgres.EventOutcome) error {
	unlock, err := s.DB.LockPerson(ctx, rec.PrisonNumber)
	if err != nil {
		return err
	}
	defer unlock()
	if cur, err := s.DB.Event(ctx, rec.ID); err != nil || cur.Status != postgres.EventReceived {
		return err
	}
	if err := s.DB.SetEventOutcome(ctx, rec.ID, o, s.now()); err != nil {
		return err
	}
	rec.Status = o.Status
	return s.AuditAs(ctx, "events:"+rec.Source, "", "event."+o.Status, "", eventDetail(rec))
}
