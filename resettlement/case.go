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
	// Adult and the days served decide the early release for Fridays.
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
	Adult         bool         `json:"adult"`
	OpenedBy      string       `json:"opened_by,omitempty"`
	Policy        *Policy      `json:"policy,omitempty"` // nil: DefaultPolicy
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
	if t, _, ok := o.Dates.Target(); ok && !o.ReceivedOn.IsZero() && t.Before(o.ReceivedOn) {
		errs.Add("release_dates", "the release date cannot be before the reception date")
	}
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
		Adult:         o.Adult,
		OpenedAt:      now,
		LastProgress:  now,
		Policy:        policy,
	}
	for _, p := range Pathways {
		c.Pathways = append(c.Pathways, PathwayState{p, PathwayNotStarted})
	}
	c.plan(now, o.OpenedBy)
	c.record(now, o.OpenedBy, Event{Kind: "opened", Text: fmt.Sprintf("Case opened at %s, received %s", c.Establishment, c.ReceivedOn)})
	c.Version = 1
	return c, nil
}

// plan lays out the catalogue's steps afresh (on opening and on reset).
func (c *Case) plan(now time.Time, by string) {
	c.Steps = c.Steps[:0]
	owner := Owner{Staff: c.Owner, Team: c.Team}
	for _, e := range catalogue {
		s := Step{ID: e.id, Kind: e.kind, Title: e.title, Pathway: e.pathway, Blocking: e.blocking,
			Status: StepNotStarted, Owner: owner, Updated: now}
		if e.kind == KindIdentify {
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
		if !s.Status.Open() || isFollowUp(s.ID) {
			continue
		}
		to := StepNotNeeded
		if s.ID == StepRelease {
			to = StepDone
		}
		c.setStatus(now, by, s, to, 0, "case opened after release on "+day.String())
	}
}

// ReleaseDay returns the adjusted release day R, if a release date is known.
func (c *Case) ReleaseDay() (Date, bool) {
	target, _, ok := c.Dates.Target()
	if !ok {
		return Date{}, false
	}
	served := c.ReceivedOn.DaysUntil(target)
	return EnglandAndWales.ReleaseDay(target, c.Dates.Kind(), c.Adult, served), true
}

// reschedule recomputes the window of every open step from the current dates.
// Steps that are closed keep the dates they closed with.
func (c *Case) reschedule(now time.Time) {
	release, hasRelease := c.ReleaseDay()
	for i := range c.Steps {
		s := &c.Steps[i]
		if !s.Status.Open() {
			continue
		}
		e, ok := lookup(s.ID)
		if !ok && s.Kind == KindPathwaySupport {
			e = entry{anchor: fromRelease, due: supportDue}
		} else if !ok {
			continue // handover steps keep the due date they were given
		}
		var from, due Date
		switch e.anchor {
		case fromReception:
			due = e.due.apply(EnglandAndWales, c.ReceivedOn)
		case fromRelease:
			if !hasRelease {
				s.From, s.DueDate, s.Due, s.Graced = Date{}, Date{}, time.Time{}, false
				continue
			}
			due = e.due.apply(EnglandAndWales, release)
			if e.from != nil {
				from = e.from.apply(EnglandAndWales, release)
			}
			if e.kind == KindNeedsAssessment {
				due = c.needsAssessmentDue(release, due)
			}
		}
		c.setDue(s, from, due, now)
	}
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

// setDue gives a step its window, applying the grace period when the due
// instant has already passed.
func (c *Case) setDue(s *Step, from, due Date, now time.Time) {
	s.From = from
	s.DueDate = due
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
