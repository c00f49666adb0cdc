package resettlement

import (
	"slices"
	"strconv"
	"time"
)

// AlarmKind says what an alarm asks for.
type AlarmKind string

const (
	AlarmReminder   AlarmKind = "reminder"   // to the owner, before the due date
	AlarmDue        AlarmKind = "due"        // to the owner, on the due date
	AlarmEscalation AlarmKind = "escalation" // to the team manager (level 1) or head of service (level 2)
	AlarmUnassigned AlarmKind = "unassigned" // steps landed in a team queue: to the queue and its manager
	AlarmStalled    AlarmKind = "stalled"    // no progress for the stall period: to the team manager
)

// AlarmKinds lists every kind of alarm. Read it; never modify it.
var AlarmKinds = []AlarmKind{AlarmReminder, AlarmDue, AlarmEscalation, AlarmUnassigned, AlarmStalled}

// Valid reports whether k is one of AlarmKinds.
func (k AlarmKind) Valid() bool { return slices.Contains(AlarmKinds, k) }

// Alarm is a moment at which somebody must be told something.
type Alarm struct {
	// Key is unique within a case for one reason to tell somebody; the
	// outbox keys its emails on (case, key, recipient), so an alarm raised
	// twice — a retried activity, a replayed workflow — sends one email to
	// each recipient.
	Key    string    `json:"key"`
	Kind   AlarmKind `json:"kind"`
	Level  int       `json:"level,omitempty"`
	StepID string    `json:"step_id,omitempty"`
	At     time.Time `json:"at"`
}

// rank orders alarms on one step by how far up the ladder they are.
func (a Alarm) rank() int {
	switch a.Kind {
	case AlarmReminder:
		return 0
	case AlarmDue:
		return 1
	}
	return 1 + a.Level
}

// Alarms returns every alarm the case has not yet raised, earliest first.
// A paused or closed case has none.
func (c *Case) Alarms() []Alarm {
	if c.Closed || c.Paused {
		return nil
	}
	var out []Alarm
	add := func(a Alarm) {
		if !slices.Contains(c.Fired, a.Key) {
			out = append(out, a)
		}
	}
	p := c.Policy
	cycle := "c" + strconv.Itoa(c.Cycle)
	for _, s := range c.Steps {
		if !s.Status.Open() || s.OnHold() {
			continue
		}
		// Built by concatenation rather than fmt: every workflow task and
		// every save computes the case's alarms, some of them several times.
		key := cycle + "/" + s.ID + "/" + s.DueDate.String() + "/"
		add(Alarm{Key: key + "reminder", Kind: AlarmReminder, StepID: s.ID, At: EnglandAndWales.Shift(s.Due, p.RemindBefore)})
		add(Alarm{Key: key + "due", Kind: AlarmDue, StepID: s.ID, At: EnglandAndWales.Shift(s.Due, p.RemindOnDue)})
		for i, e := range p.Escalations {
			add(Alarm{Key: key + "escalation-" + strconv.Itoa(i+1), Kind: AlarmEscalation, Level: i + 1, StepID: s.ID, At: EnglandAndWales.Shift(s.Due, e)})
		}
	}
	if c.Queued > 0 {
		add(Alarm{Key: cycle + "/unassigned/" + strconv.Itoa(c.Queued), Kind: AlarmUnassigned, At: c.QueuedAt})
	}
	if at, ok := c.stallAt(); ok {
		add(Alarm{Key: cycle + "/stalled/" + strconv.FormatInt(c.LastProgress.Unix(), 10), Kind: AlarmStalled, At: at})
	}
	slices.SortStableFunc(out, func(a, b Alarm) int { return a.At.Compare(b.At) })
	return out
}

// NextAlarm returns the earliest alarm still to raise.
func (c *Case) NextAlarm() (Alarm, bool) {
	as := c.Alarms()
	if len(as) == 0 {
		return Alarm{}, false
	}
	return as[0], true
}

// NextRaise returns what TakeDue will raise at the first alarm instant that
// raises anything, and that instant, if nothing changes the case before
// then; none for a case with no alarm to come. It leaves the case as it is.
//
// The read model keeps the instant beside the case (Projection.AlarmsAt),
// so the alarms can go out then even when the workflow's timer is late (or
// waits out the policy's backstop): the workflow raises the same keys when
// it wakes, and the outbox's key makes that a no-op.
func (c *Case) NextRaise() ([]Alarm, time.Time) {
	d := c.Clone()
	for {
		next, ok := d.NextAlarm()
		if !ok {
			return nil, time.Time{}
		}
		// An instant whose alarms are all passed over (an unassigned
		// notice for steps since assigned) raises nothing: look past it.
		if due := d.TakeDue(next.At); len(due) > 0 {
			return due, next.At
		}
	}
}

// TakeDueSince is TakeDue for a case saved without its list of raised keys
// (the read model's copy), whose next alarm instant was from: every alarm
// before from is taken as raised — the workflow raises whatever is due
// before it saves, so none of them is still to raise — and those due at now
// are taken as TakeDue takes them, the passed rungs of a step folded into
// the highest. The read model's dispatcher raises them, then finds its next
// instant with NextRaise.
func (c *Case) TakeDueSince(from, now time.Time) []Alarm {
	for _, a := range c.Alarms() {
		if a.At.Before(from) {
			c.Fired = append(c.Fired, a.Key)
		}
	}
	return c.TakeDue(now)
}

// TakeDue returns the alarms due at now and marks them raised.
//
// When several alarms of one step have passed together — a case resumed
// after a pause, a worker that was down — only the highest on the ladder is
// raised: the owner needs one email saying "overdue, escalated", not a burst
// of stale reminders. The ones passed over are marked raised too.
// An "unassigned" notice for steps that have since been given an owner is
// dropped the same way.
func (c *Case) TakeDue(now time.Time) []Alarm {
	var due []Alarm
	for _, a := range c.Alarms() {
		if a.At.After(now) {
			break
		}
		c.Fired = append(c.Fired, a.Key)
		if a.Kind == AlarmUnassigned && len(c.Unassigned()) == 0 {
			continue
		}
		if i := slices.IndexFunc(due, func(d Alarm) bool { return d.StepID != "" && d.StepID == a.StepID }); i >= 0 {
			if a.rank() > due[i].rank() {
				due[i] = a
			}
			continue
		}
		due = append(due, a)
	}
	if len(due) > 0 {
		c.Version++
	}
	return due
}

// Unassigned returns the ids of open steps sitting in a team queue.
func (c *Case) Unassigned() []string {
	var ids []string
	for _, s := range c.Steps {
		if s.Status.Open() && s.Owner.Unassigned() {
			ids = append(ids, s.ID)
		}
	}
	return ids
}

// Stalled reports whether the case has stalled at now (stallAt).
func (c *Case) Stalled(now time.Time) bool {
	at, ok := c.stallAt()
	return !c.Closed && !c.Paused && ok && !now.Before(at)
}

// stallAt is when the case stalls if nobody moves it on: Policy.StallAfter
// after the last progress, and — the stall clock runs only while work is
// waiting — no earlier than Policy.StallAfter before the first open step
// falls due. A case with no open step due (all done, or on hold for a
// release date, or released with the follow-ups done) never stalls.
// Under rulesFirst the clock always ran.
func (c *Case) stallAt() (time.Time, bool) {
	at := EnglandAndWales.Shift(c.LastProgress, c.Policy.StallAfter)
	if c.rules() < rulesFixed {
		return at, true
	}
	next, ok := c.NextDue()
	if !ok {
		return time.Time{}, false
	}
	if w := EnglandAndWales.Shift(next, c.Policy.StallAfter.negated()); w.After(at) {
		at = w
	}
	return at, true
}

// EscalationLevel returns the highest escalation level reached by any open
// step at now (0: none).
func (c *Case) EscalationLevel(now time.Time) int {
	if c.Closed || c.Paused {
		return 0
	}
	level := 0
	for _, s := range c.Steps {
		if !s.Status.Open() || s.OnHold() {
			continue
		}
		for i, e := range c.Policy.Escalations {
			if !now.Before(EnglandAndWales.Shift(s.Due, e)) && i+1 > level {
				level = i + 1
			}
		}
	}
	return level
}

// NextDue returns the earliest due instant among open steps.
func (c *Case) NextDue() (time.Time, bool) {
	var next time.Time
	for _, s := range c.Steps {
		if s.Status.Open() && !s.OnHold() && (next.IsZero() || s.Due.Before(next)) {
			next = s.Due
		}
	}
	return next, !next.IsZero()
}
