package resettlement

import "time"

// Projection is what the ReleaseCase workflow hands its SaveCase activity
// after each change, for PostgreSQL's read model of the case: the case, what
// the workflow derived from it at that moment, and the events the database
// has not yet seen. It is plain data: the workflow builds it, the activity
// passes it on, and package postgres writes it.
//
// Its JSON is the activity's input in every stored workflow history, so its
// field names and tags must not change.
type Projection struct {
	Case            *Case     `json:"case"`
	Stage           Stage     `json:"stage"`
	Stalled         bool      `json:"stalled"`
	EscalationLevel int       `json:"escalation_level"`
	NextDue         time.Time `json:"next_due"`
	Events          []Event   `json:"events"`
	// AlarmsAt is the case's next alarm instant that raises anything
	// (Case.NextRaise); zero when none is to come. PostgreSQL's alarm
	// dispatcher raises the case's alarms then, whether or not the
	// workflow's timer is on time; the workflow raises them again when it
	// wakes, and the outbox's key makes that a no-op.
	AlarmsAt time.Time `json:"alarms_at,omitzero"`
}
