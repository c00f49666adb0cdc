package resettlement

import (
	"slices"
	"time"
)

// StepStatus is where a step stands.
type StepStatus string

const (
	StepNotStarted StepStatus = "not-started"
	StepInProgress StepStatus = "in-progress"
	StepWaiting    StepStatus = "waiting" // waiting on another agency
	StepDone       StepStatus = "done"
	StepNotNeeded  StepStatus = "not-needed"
	StepDeclined   StepStatus = "declined"
	StepCancelled  StepStatus = "cancelled"
)

// StepStatuses lists every step status, open ones first. Read it; never
// modify it.
var StepStatuses = []StepStatus{StepNotStarted, StepInProgress, StepWaiting, StepDone, StepNotNeeded, StepDeclined, StepCancelled}

// OpenStepStatuses are the statuses of a step that still needs work (the
// SQL that lists open steps must use the same three). Read it; never modify
// it.
var OpenStepStatuses = []StepStatus{StepNotStarted, StepInProgress, StepWaiting}

// Valid reports whether s is one of StepStatuses.
func (s StepStatus) Valid() bool { return slices.Contains(StepStatuses, s) }

// Open reports whether the step still needs work: its status is one of
// OpenStepStatuses. Only open steps have alarms.
func (s StepStatus) Open() bool { return slices.Contains(OpenStepStatuses, s) }

// Title is the status as staff see it.
func (s StepStatus) Title() string {
	switch s {
	case StepNotStarted:
		return "Not started"
	case StepInProgress:
		return "In progress"
	case StepWaiting:
		return "Waiting on another agency"
	case StepDone:
		return "Done"
	case StepNotNeeded:
		return "Not needed"
	case StepDeclined:
		return "Declined"
	case StepCancelled:
		return "Cancelled"
	}
	return string(s)
}

// Owner is who answers for a step: a named worker, or a team's queue when
// Staff is empty. Both are opaque ids; names and addresses live in PostgreSQL.
type Owner struct {
	Staff string `json:"staff,omitempty"`
	Team  string `json:"team"`
}

// Unassigned reports whether the step sits in a team queue with no worker.
func (o Owner) Unassigned() bool { return o.Staff == "" }

// Step is one piece of resettlement work with a window and an owner.
type Step struct {
	ID       string     `json:"id"`
	Kind     StepKind   `json:"kind"`
	Title    string     `json:"title"`
	Pathway  Pathway    `json:"pathway,omitempty"`
	Blocking bool       `json:"blocking"` // blocks release: ID, bank account, GP, night-one accommodation
	Status   StepStatus `json:"status"`
	Owner    Owner      `json:"owner"`

	// From is the first day work may start (zero: any time).
	From Date `json:"from,omitempty"`
	// DueDate is the day it is due; Due the instant it becomes overdue.
	// Both are zero while the step is on hold because no release date is known.
	DueDate Date      `json:"due_date,omitempty"`
	Due     time.Time `json:"due,omitempty"`
	// Graced is set when the planned due date had already passed and the
	// grace period set a new one.
	Graced bool `json:"graced,omitempty"`
	// Planned is the due date the plan gives the step, before any grace; a
	// re-plan that leaves it unchanged leaves the step's due instant and
	// its place on the escalation ladder alone. Zero for steps planned
	// before it was recorded.
	Planned Date `json:"planned,omitempty"`

	// Assignment counts assignments, so an "unassigned" alarm fires once for
	// each time the step lands in a queue.
	Assignment int       `json:"assignment"`
	Updated    time.Time `json:"updated"`
}

// OnHold reports whether the step has no due date yet.
func (s Step) OnHold() bool { return s.Due.IsZero() }

// Overdue reports whether the open step is past its due instant at now.
func (s Step) Overdue(now time.Time) bool { return s.Status.Open() && !s.OnHold() && now.After(s.Due) }
