package workflows

import (
	"context"
	"time"

	"github.com/throughgate/throughgate/resettlement"
)

// Activities is the workflows' contract with their side effects. Each method
// is the activity of the same name, and the constants below name each one
// beside the input and result it takes: the workflows call activities by
// those names, so this package needs neither package activities, which
// implements the contract (its Activities struct, registered on the worker
// under its methods' names), nor the database behind it.
type Activities interface {
	RaiseAlarm(ctx context.Context, in AlarmInput) (AlarmResult, error)
	NotifyTransfer(ctx context.Context, n TransferNotice) error
	SaveCase(ctx context.Context, p resettlement.Projection) error
	SendDigests(ctx context.Context, day resettlement.Date) (int, error)
	AnonymiseClosedCases(ctx context.Context, at time.Time) (int, error)
}

// ActivityRaiseAlarm puts an alarm's emails in the outbox: AlarmInput in,
// AlarmResult out.
const ActivityRaiseAlarm = "RaiseAlarm"

// AlarmInput is an alarm to deliver. It carries ids, dates and step states
// only; the activity looks up who is to be told.
type AlarmInput struct {
	CaseID        string               `json:"case_id"`
	Establishment string               `json:"establishment"`
	Team          string               `json:"team"`
	Alarm         resettlement.Alarm   `json:"alarm"`
	Step          *resettlement.Step   `json:"step,omitempty"` // nil for case-wide alarms
	Urgency       resettlement.Urgency `json:"urgency"`
	ReleaseDay    resettlement.Date    `json:"release_day,omitempty"`
	Unassigned    []string             `json:"unassigned,omitempty"` // for AlarmUnassigned
}

// NewAlarmInput is what RaiseAlarm needs to raise a of case c at now: the
// workflow's timer and the read model's dispatcher (activities.Dispatcher)
// both build it here, so an alarm says the same whichever raises it first.
func NewAlarmInput(c *resettlement.Case, a resettlement.Alarm, now time.Time) AlarmInput {
	in := AlarmInput{CaseID: c.ID, Establishment: c.Establishment, Team: c.Team, Alarm: a}
	if day, ok := c.ReleaseDay(); ok {
		in.ReleaseDay = day
	}
	if s, ok := c.Step(a.StepID); ok {
		in.Step = &s
		in.Urgency = c.StepUrgency(s, now)
	} else {
		in.Urgency = c.CaseUrgency(now)
	}
	if a.Kind == resettlement.AlarmUnassigned {
		in.Unassigned = c.Unassigned()
	}
	return in
}

// AlarmResult says what was written, for the workflow's logs and tests.
type AlarmResult struct {
	// Alarm is the key of the alarm raised: a local activity's input is not
	// in the history, so this is where a reader of it finds which it was.
	Alarm      string   `json:"alarm,omitempty"`
	Recipients []string `json:"recipients"` // staff or team ids told
	Written    int      `json:"written"`    // new outbox rows (0 when raised before)
}

// ActivityNotifyTransfer tells both teams that a case moved: TransferNotice
// in, nothing out.
const ActivityNotifyTransfer = "NotifyTransfer"

// TransferNotice tells the sending and receiving teams that a case moved.
type TransferNotice struct {
	CaseID      string            `json:"case_id"`
	Seq         int               `json:"seq"` // the transfer's event number, unique within the case
	From        string            `json:"from"`
	FromTeam    string            `json:"from_team"`
	To          string            `json:"to"`
	ToTeam      string            `json:"to_team"`
	HandoverDue time.Time         `json:"handover_due"`
	ReleaseDay  resettlement.Date `json:"release_day,omitempty"`
}

// ActivitySaveCase writes the case's read model: resettlement.Projection in,
// nothing out.
const ActivitySaveCase = "SaveCase"

// ActivitySendDigests writes the day's digests (DailyDigest's one activity):
// the day (resettlement.Date) in, the number of digests written out.
const ActivitySendDigests = "SendDigests"

// ActivityAnonymiseClosedCases anonymises the cases that closed longer
// ago than the worker's RETENTION_YEARS (RetentionSweep's one activity):
// the sweep's instant (time.Time) in, the number of cases anonymised out.
const ActivityAnonymiseClosedCases = "AnonymiseClosedCases"
