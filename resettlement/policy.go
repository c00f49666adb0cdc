package resettlement

import (
	"encoding/json"
	"fmt"
	"time"
)

// Duration is a time.Duration that reads and writes as "72h" or "5s" in JSON,
// so a policy file is readable by the people who tune it.
type Duration time.Duration

// Std returns the standard library duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a duration must be a string such as \"8h\" or \"30s\"")
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a duration such as \"8h\" or \"30s\"", s)
	}
	*d = Duration(v)
	return nil
}

// Offset moves an instant by calendar days, then working days, then a plain
// duration, keeping the London wall-clock time across the day moves.
// Deployments use days; tests and demonstrations use seconds, with the same code.
type Offset struct {
	Days        int      `json:"days,omitempty"`
	WorkingDays int      `json:"working_days,omitempty"`
	Duration    Duration `json:"duration,omitempty"`
}

// negated returns the offset that moves the other way.
func (o Offset) negated() Offset {
	return Offset{Days: -o.Days, WorkingDays: -o.WorkingDays, Duration: -o.Duration}
}

// Policy is the reminder and escalation ladder of a service. It is fixed into
// a case when the case opens, so a workflow replays with the policy it ran
// under even after the service changes its settings.
type Policy struct {
	// DueTime is the London wall-clock time at which a step due on a date
	// becomes overdue: the close of business.
	DueTime Duration `json:"due_time"`
	// Grace sets the due instant of a step whose planned due date has
	// already passed when it is planned (late identification, short
	// sentences), counted from that moment.
	Grace Offset `json:"grace"`
	// RemindBefore and RemindOnDue remind the owner; both are counted from
	// the due instant (negative: before it).
	RemindBefore Offset `json:"remind_before"`
	RemindOnDue  Offset `json:"remind_on_due"`
	// Escalations are counted from the due instant: level 1 goes to the
	// owner's team manager, level 2 to the head of service.
	Escalations []Offset `json:"escalations"`
	// StallAfter marks a case stalled when nothing has progressed for this long.
	StallAfter Offset `json:"stall_after"`
	// Handover is how long the receiving team has to pick up a transferred case.
	Handover Offset `json:"handover"`
	// Backstop is how long after an alarm's instant the case's workflow
	// wakes to raise it. The read model's dispatcher raises it at the
	// instant (docs/design.md, "The alarm ladder"); the workflow's raise,
	// which the outbox ignores when the dispatcher's came first, catches
	// one the dispatcher could not. The wait keeps the workflows' timers
	// off the instant, so at a 09:00 peak the emails have the processor to
	// themselves first. Cases opened before it existed have none (their
	// policy has no such field): their workflows wake at the instant.
	Backstop Duration `json:"backstop,omitempty"`
}

// DefaultPolicy is the ladder of docs/design.md, "The alarm ladder": a step
// becomes overdue at 17:00 London time on its due date; its owner is
// reminded at 09:00 three working days before and at 09:00 on the due date;
// the owner's team manager is told when the step is 2 working days overdue
// and the head of service at 7 calendar days; a step whose due instant has
// already passed when it is planned or reopened is due 2 working days after
// that moment instead (the grace); a case is stalled after 10 working days
// without progress; a transferred case's handover is due 2 working days
// after the transfer. The catalogue's doc comment (catalogue.go) works this
// ladder through for one step.
func DefaultPolicy() Policy {
	return Policy{
		DueTime:      Duration(17 * time.Hour),
		Grace:        Offset{WorkingDays: 2},
		RemindBefore: Offset{WorkingDays: -3, Duration: Duration(-8 * time.Hour)}, // 09:00
		RemindOnDue:  Offset{Duration: Duration(-8 * time.Hour)},                  // 09:00 on the day
		Escalations:  []Offset{{WorkingDays: 2}, {Days: 7}},
		StallAfter:   Offset{WorkingDays: 10},
		Handover:     Offset{WorkingDays: 2},
		// Long enough for the dispatcher to put 30,000 alarms due at one
		// instant in the outbox and the sender to hand them to SMTP on
		// two cores before 30,000 workflows wake (README, "Performance").
		Backstop: Duration(5 * time.Minute),
	}
}

// Validate checks that the ladder climbs: the time of day falls within a
// day, the early reminder comes no later than the due-day one, there are one
// or two escalations, each after the due instant and after the level before
// it, and the grace, stall and handover periods are positive. It compares
// offsets by approximate length (a working day counts as a day), so it
// catches a ladder set the wrong way round, not every odd one.
func (p Policy) Validate() error {
	var errs Errors
	if p.DueTime < 0 || p.DueTime.Std() >= 24*time.Hour {
		errs.Add("policy.due_time", "must be a time of day between 0s and 24h")
	}
	if p.offsetLength(p.Grace) <= 0 {
		errs.Add("policy.grace", "must be after the moment the step is planned")
	}
	if p.offsetLength(p.RemindBefore) > p.offsetLength(p.RemindOnDue) {
		errs.Add("policy.remind_before", "must come before the reminder on the due date")
	}
	if len(p.Escalations) == 0 || len(p.Escalations) > 2 {
		errs.Add("policy.escalations", "must have one or two levels (team manager, head of service)")
	}
	prev := time.Duration(0)
	for i, e := range p.Escalations {
		if l := p.offsetLength(e); l <= prev {
			errs.Add(fmt.Sprintf("policy.escalations[%d]", i), "each escalation must come after the due time and after the level before it")
		} else {
			prev = l
		}
	}
	if p.offsetLength(p.StallAfter) <= 0 {
		errs.Add("policy.stall_after", "must be positive")
	}
	if p.offsetLength(p.Handover) <= 0 {
		errs.Add("policy.handover", "must be positive")
	}
	if p.Backstop < 0 || p.Backstop.Std() > time.Hour {
		errs.Add("policy.backstop", "must be between 0s and 1h")
	}
	return errs.Err()
}

// offsetLength approximates an offset's length for ordering checks only.
func (Policy) offsetLength(o Offset) time.Duration {
	return time.Duration(o.Days)*24*time.Hour + time.Duration(o.WorkingDays)*24*time.Hour + o.Duration.Std()
}
