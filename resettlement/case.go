package resettlement

import (
	"fmt"
	"regexp"
	"slices"
	"time"
)

// Case follows one person through one release. It carries ids, dates and
// step states only: names and other personal data live in PostgreSQL, because
// a Case is what a Temporal workflow keeps in its history.
//
// Every change a person asks for goes through a command method
// (commands.go) that validates first and changes nothing on error, so a
// rejected request never corrupts a case; the only other change, marking
// alarms raised, is TakeDue (alarm.go). now is always a parameter.
// docs/design.md, "Personal data", says what may and may not be added here.
type Case struct {
	ID            string `json:"id"`
	Establishment string `json:"establishment"`
	Team          string `json:"team"`
	Owner         string `json:"owner,omitempty"` // case owner's staff id; "" while with the team

	ReceivedOn Date         `json:"received_on"`
	Dates      ReleaseDates `json:"release_dates"`
	// SentenceDate is the day the sentence was passed, when known; the days
	// served count from it, else from ReceivedOn (ServedDays).
	SentenceDate Date `json:"sentence_date,omitempty"`
	// Adult (18 or over on the target release date) and the days served
	// decide the early release for Fridays. The application service
	// computes Adult from the date of birth, which never enters a Case, on
	// opening and on every change of dates.
	Adult bool `json:"adult"`

	Pathways          []PathwayState `json:"pathways"`
	AssessmentSkipped SkipReason     `json:"assessment_skipped,omitempty"`
	Steps             []Step         `json:"steps"`

	Paused      bool      `json:"paused,omitempty"`
	PauseReason string    `json:"pause_reason,omitempty"`
	Closed      bool      `json:"closed,omitempty"`
	Closure     *Closure  `json:"closure,omitempty"`
	OpenedAt    time.Time `json:"opened_at"`
	// LastProgress is the last time somebody moved the case on; the stall
	// rule counts from it.
	LastProgress time.Time `json:"last_progress"`

	Policy Policy `json:"policy"`
	// Plan is the version of the plan (Plans) the case runs under, fixed
	// when it opens like Policy; 0 for cases opened before plans had
	// versions, which run under version 1.
	Plan int `json:"plan,omitempty"`
	// ReleasedOn is the day the release was recorded: from then on it is
	// the release day, whatever the dates say.
	ReleasedOn Date `json:"released_on,omitempty"`

	// Cycle counts resets (recall, new sentence); alarm keys carry it so a
	// reset case reminds afresh.
	Cycle int `json:"cycle"`
	// Queued counts the times steps landed in a team queue, each owing the
	// team's manager one "unassigned" notice, first raised at QueuedAt.
	Queued   int       `json:"queued"`
	QueuedAt time.Time `json:"queued_at"`
	// Fired holds the keys of alarms already raised, so none is raised twice.
	Fired []string `json:"fired,omitempty"`
	// Requests holds the most recent client request ids, so a retried
	// request changes nothing twice.
	Requests []string `json:"requests,omitempty"`
	// Events is the case's recent history in domain words; the whole
	// history is kept in PostgreSQL. EventSeq numbers them.
	Events   []Event `json:"events,omitempty"`
	EventSeq int     `json:"event_seq"`
	// Version increases with every change, so projections written out of
	// order can keep the newest.
	Version int `json:"version"`
}

// PathwayState is the assessed need on one pathway.
type PathwayState struct {
	Pathway Pathway       `json:"pathway"`
	Status  PathwayStatus `json:"status"`
}

// Event is one entry in a case's history. Text is in domain words and holds
// no personal data; a note's text is in PostgreSQL under NoteID.
type Event struct {
	Seq    int        `json:"seq"`
	At     time.Time  `json:"at"`
	By     string     `json:"by,omitempty"` // staff id, or "" for the system
	Kind   string     `json:"kind"`
	StepID string     `json:"step_id,omitempty"`
	From   StepStatus `json:"from,omitempty"`
	To     StepStatus `json:"to,omitempty"`
	NoteID int64      `json:"note_id,omitempty"`
	Text   string     `json:"text"`
}

const (
	maxEvents   = 200 // kept in state; older ones are in PostgreSQL
	maxRequests = 100
)

// OpenCase is what an officer supplies to open a case, less the personal
// data, which stays in PostgreSQL under the case id.
type OpenCase struct {
	CaseID        string       `json:"case_id"`
	Establishment string       `json:"establishment"`
	Team          string       `json:"team"`
	Owner         string       `json:"owner,omitempty"`
	ReceivedOn    Date         `json:"received_on"`
	Dates         ReleaseDates `json:"release_dates"`
	SentenceDate  Date         `json:"sentence_date,omitempty"` // optional: see Case.SentenceDate
	Adult         bool         `json:"adult"`
	OpenedBy      string       `json:"opened_by,omitempty"`
	Policy        *Policy      `json:"policy,omitempty"` // nil: DefaultPolicy
	// Plan is the plan version to open under (0: CurrentPlan).
	Plan int `json:"plan,omitempty"`
}

var (
	establishmentPattern = regexp.MustCompile(`^[A-Z]{3}$`)
	idPattern            = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
)

// ValidEstablishment reports whether code looks like a prison code (PVI, BXI).
func ValidEstablishment(code string) bool { return establishmentPattern.MatchString(code) }

// ValidID reports whether s is a well-formed opaque id (case, staff, team).
func ValidID(s string) bool { return idPattern.MatchString(s) }

// Validate checks an OpenCase for everything that can be checked without the
// database.
func (o OpenCase) Validate(now time.Time) error {
	var errs Errors
	if !ValidID(o.CaseID) {
		errs.Add("case_id", "must be an opaque id of lower-case letters, digits and dashes")
	}
	if !ValidEstablishment(o.Establishment) {
		errs.Add("establishment", "must be a three-letter prison code such as PVI")
	}
	if !ValidID(o.Team) {
		errs.Add("team", "is required")
	}
	if o.Owner != "" && !ValidID(o.Owner) {
		errs.Add("owner", "is not a valid staff id")
	}
	if o.ReceivedOn.IsZero() {
		errs.Add("received_on", "is required")
	} else if o.ReceivedOn.After(DateOf(now)) {
		errs.Add("received_on", "cannot be in the future")
	}
	if err := o.Dates.Validate(); err != nil {
		fe, _ := AsFieldErrors(err)
		errs = append(errs, fe...)
	}
	checkCustodyDates(&errs, o.ReceivedOn, o.SentenceDate, o.Dates, now)
	if o.Policy != nil {
		if err := o.Policy.Validate(); err != nil {
			fe, _ := AsFieldErrors(err)
			errs = append(errs, fe...)
		}
	}
	return errs.Err()
}

// Open plans a new case: the catalogue's steps with their windows, the
// identification step done, every pathway not started.
func Open(o OpenCase, now time.Time) (*Case, error) {
	if err := o.Validate(now); err != nil {
		return nil, err
	}
	policy := DefaultPolicy()
	if o.Policy != nil {
		policy = *o.Policy
	}
	c := &Case{
		ID:            o.CaseID,
		Establishment: o.Establishment,
		Team:          o.Team,
		Owner:         o.Owner,
		ReceivedOn:    o.ReceivedOn,
		Dates:         o.Dates,
		SentenceDate:  o.SentenceDate,
		Adult:         o.Adult,
		OpenedAt:      now,
		LastProgress:  now,
		Policy:        policy,
		Plan:          o.Plan,
	}
	for _, p := range Pathways {
		c.Pathways = append(c.Pathways, PathwayState{p, PathwayNotStarted})
	}
	if c.Plan == 0 {
		c.Plan = CurrentPlan().Version
	}
	c.layOut(now, o.OpenedBy)
	c.record(now, o.OpenedBy, Event{Kind: "opened", Text: fmt.Sprintf("Case opened at %s, received %s", c.Establishment, c.ReceivedOn)})
	c.Version = 1
	return c, nil
}

// layOut lays out the plan's steps afresh (on opening and on reset).
func (c *Case) layOut(now time.Time, by string) {
	c.Steps = c.Steps[:0]
	owner := Owner{Staff: c.Owner, Team: c.Team}
	for _, e := range c.plan().Steps {
		s := Step{ID: e.ID, Kind: e.Kind, Title: e.Title, Pathway: e.Pathway, Blocking: e.Blocking,
			Status: StepNotStarted, Owner: owner, Updated: now}
		if e.Kind == KindIdentify {
			s.Status = StepDone
			s.DueDate = c.ReceivedOn
			s.Due = c.ReceivedOn.At(c.Policy.DueTime.Std())
		}
		c.Steps = append(c.Steps, s)
	}
	c.reschedule(now)
	if owner.Unassigned() {
		c.queue(now)
	}
	if day, ok := c.ReleaseDay(); ok && day.Before(DateOf(now)) {
		c.openedAfterRelease(now, by, day)
	}
}

// openedAfterRelease handles a case identified only after the person left:
// work before release can no longer be done; the follow-up still can.
func (c *Case) openedAfterRelease(now time.Time, by string, day Date) {
	for i := range c.Steps {
		s := &c.Steps[i]
		if !s.Status.Open() || s.Kind == KindFollowUp {
			continue
		}
		to := StepNotNeeded
		if s.ID == StepRelease {
			to = StepDone
		}
		c.setStatus(now, by, s, to, 0, "case opened after release on "+day.String())
	}
}

// ReleaseDay returns the adjusted release day R, if a release date is known:
// the target (Case.Target) moved by Calendar.ReleaseDay for the kind of
// release, whether the person is an adult at release, and the days served
// from the sentence date (or the reception date when that is not known). A
// case under the first date rules keeps their target and release day.
func (c *Case) ReleaseDay() (Date, bool) {
	if !c.ReleasedOn.IsZero() {
		return c.ReleasedOn, true // recorded on the day: never shifted again
	}
	target, _, ok := c.Target()
	if !ok {
		return Date{}, false
	}
	served := ServedDays(c.SentenceDate, c.ReceivedOn, target)
	if c.rules() < rulesFixed {
		return EnglandAndWales.releaseDayFirst(target, c.Dates.kindFirst(), c.Adult, served), true
	}
	return EnglandAndWales.ReleaseDay(target, c.Dates.Kind(), c.Adult, served), true
}

// reschedule recomputes the window of every open step from the current
// dates. Steps that are closed keep the dates they closed with; handover
// steps keep the due date they were given.
func (c *Case) reschedule(now time.Time) {
	release, hasRelease := c.ReleaseDay()
	for i := range c.Steps {
		s := &c.Steps[i]
		if !s.Status.Open() {
			continue
		}
		e, ok := c.plan().step(s.ID)
		if !ok && s.Kind == KindPathwaySupport {
			e = PlanStep{Anchor: FromRelease, Due: supportDue}
		} else if !ok {
			continue
		}
		var from, due Date
		switch e.Anchor {
		case FromReception:
			due = c.planDate(e.Due, c.ReceivedOn, e.Kind)
		case FromRelease:
			if !hasRelease {
				s.From, s.DueDate, s.Due, s.Graced, s.Planned = Date{}, Date{}, time.Time{}, false, Date{}
				continue
			}
			due = c.planDate(e.Due, release, e.Kind)
			if e.From != nil {
				from = e.From.apply(EnglandAndWales, release)
			}
			if e.Kind == KindNeedsAssessment {
				due = c.needsAssessmentDue(release, due)
			}
		}
		if c.rules() < rulesFixed {
			c.setDueFirst(s, from, due, now)
			continue
		}
		c.arm(s, from, due, now)
	}
}

// planDate applies a row's shift to its anchor. A calendar-day count that
// lands on a weekend or bank holiday moves to a working day: back for work
// before release, which must be done while the prison's staff are there;
// forward for a follow-up, which cannot happen before its day.
func (c *Case) planDate(sh Shift, anchor Date, kind StepKind) Date {
	d := sh.apply(EnglandAndWales, anchor)
	if c.rules() < rulesFixed || !sh.calendarDays() {
		return d
	}
	if kind == KindFollowUp {
		return EnglandAndWales.OnOrAfter(d)
	}
	return EnglandAndWales.OnOrBefore(d)
}

// needsAssessmentDue applies the late-identification rule: the assessment is
// due 10 weeks before release, or 5 working days after reception (C) if that
// is later, but never after the working day before release.
func (c *Case) needsAssessmentDue(release, planned Date) Date {
	late := EnglandAndWales.AddWorkingDays(c.ReceivedOn, 5)
	due := planned
	if late.After(due) {
		due = late
	}
	if last := EnglandAndWales.AddWorkingDays(release, -1); due.After(last) {
		due = last
	}
	return due
}

// arm gives an open step the due instant of its planned due date, keeping
// what a re-plan must not undo (docs/design.md, "Deadlines and re-planning"):
//
//   - a step whose planned date is unchanged keeps its due instant, so it
//     stays overdue and keeps its place on the escalation ladder (alarm keys
//     carry the due date, so none is raised twice and none is skipped);
//   - a step whose planned date is still ahead is due then, re-armed from
//     the new date (its alarms are new);
//   - a step whose planned date has passed is due at the earlier of its
//     current due instant and the grace instant, so lateness already run
//     up is never forgiven.
func (c *Case) arm(s *Step, from, planned Date, now time.Time) {
	s.From = from
	if s.Planned.IsZero() && !s.OnHold() && !s.Graced {
		s.Planned = s.DueDate // planned before Planned was recorded
	}
	if !s.OnHold() && s.Planned == planned {
		return
	}
	s.Planned = planned
	if at := planned.At(c.Policy.DueTime.Std()); at.After(now) {
		s.Due, s.DueDate, s.Graced = at, planned, false
		return
	}
	grace := c.graceDue(s, now)
	if !s.OnHold() && s.Due.Before(grace) {
		return
	}
	s.Due, s.DueDate, s.Graced = grace, DateOf(grace), true
}

// graceDue is when a step planned too late to meet its date is due instead:
// Policy.Grace from now, at close of business (Policy.DueTime) of a working
// day so its reminders come at the usual morning hour, and for work before
// release no later than close of business on the last working day before
// release — or today, if even that has passed (StepUrgency then grades the
// step at least high). A grace of a plain duration, which demonstrations
// and tests use to run a ladder in seconds, is an instant.
func (c *Case) graceDue(s *Step, now time.Time) time.Time {
	g := c.Policy.Grace
	cob := c.Policy.DueTime.Std()
	due := EnglandAndWales.Shift(now, g)
	if g.Days != 0 || g.WorkingDays != 0 {
		due = EnglandAndWales.OnOrAfter(DateOf(due)).At(cob)
	}
	if release, ok := c.ReleaseDay(); ok && s.Kind != KindFollowUp && s.Kind != KindRelease {
		last := EnglandAndWales.AddWorkingDays(release, -1).At(cob)
		if due.After(last) {
			due = last
		}
		if !due.After(now) {
			due = DateOf(now).At(cob)
		}
	}
	return due
}

// setDueFirst is the first rules' version of arm (rulesFirst): any re-plan
// re-graces a step whose date has passed, from now.
func (c *Case) setDueFirst(s *Step, from, due Date, now time.Time) {
	s.From = from
	s.DueDate = due
	s.Planned = due
	s.Due = due.At(c.Policy.DueTime.Std())
	s.Graced = false
	if !s.Due.After(now) {
		s.Due = EnglandAndWales.Shift(now, c.Policy.Grace)
		s.DueDate = DateOf(s.Due)
		s.Graced = true
	}
}

// step finds a step by id.
func (c *Case) step(id string) *Step {
	for i := range c.Steps {
		if c.Steps[i].ID == id {
			return &c.Steps[i]
		}
	}
	return nil
}

// Step returns a copy of the step with the id, if there is one.
func (c *Case) Step(id string) (Step, bool) {
	if s := c.step(id); s != nil {
		return *s, true
	}
	return Step{}, false
}

// record appends an event and marks the case changed.
func (c *Case) record(now time.Time, by string, e Event) {
	c.EventSeq++
	e.Seq, e.At, e.By = c.EventSeq, now, by
	c.Events = append(c.Events, e)
	if len(c.Events) > maxEvents {
		c.Events = slices.Delete(c.Events, 0, len(c.Events)-maxEvents)
	}
	c.Version++
}

// setStatus moves a step and records why.
func (c *Case) setStatus(now time.Time, by string, s *Step, to StepStatus, note int64, why string) {
	from := s.Status
	s.Status = to
	s.Updated = now
	text := fmt.Sprintf("%s: %s → %s", s.Title, from, to)
	if why != "" {
		text += " (" + why + ")"
	}
	c.record(now, by, Event{Kind: "step-status", StepID: s.ID, From: from, To: to, NoteID: note, Text: text})
}

// queue notes that steps landed in a team queue, owing its manager a notice.
func (c *Case) queue(now time.Time) {
	c.Queued++
	c.QueuedAt = now
}

// Clone returns a deep copy, for validating a command without touching the
// case itself.
func (c *Case) Clone() *Case {
	d := *c
	d.Pathways = slices.Clone(c.Pathways)
	d.Steps = slices.Clone(c.Steps)
	d.Fired = slices.Clone(c.Fired)
	d.Requests = slices.Clone(c.Requests)
	d.Events = slices.Clone(c.Events)
	d.Policy.Escalations = slices.Clone(c.Policy.Escalations)
	if c.Closure != nil {
		cl := *c.Closure
		d.Closure = &cl
	}
	return &d
}

// EventsAfter returns the events with a sequence number above seq.
func (c *Case) EventsAfter(seq int) []Event {
	for i, e := range c.Events {
		if e.Seq > seq {
			return c.Events[i:]
		}
	}
	return nil
}
