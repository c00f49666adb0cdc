package activities

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/throughgate/throughgate/internal/mail"
	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/resettlement"
	"github.com/throughgate/throughgate/workflows"
)

// recipient is someone an alarm goes to.
type recipient struct {
	id, name, email string
	digest          bool
	muted           []string // kinds of email this person turned off
}

// RaiseAlarm is the activity workflows.ActivityRaiseAlarm: it puts the
// alarm's emails in the outbox, one per recipient. The outbox's unique key
// (case, alarm, recipient) makes a second run a no-op.
//
// Who is told: reminders go to the step's owner, or the team's queue address
// when the step is unassigned or its owner is away or gone; escalation level
// 1 goes to the owner's team manager, level 2 to the head of service;
// unassigned steps go to the queue and its manager; a stalled case to the
// manager of the case's team.
//
// An alarm is raised once, to whoever it went to first: the dispatcher
// raises it at its instant from the read model, and the workflow, waking the
// policy's backstop later (or for a command in between), raises it again;
// if the command gave the step a new owner, the new owner must not get the
// alarm the old one already had.
func (a *Activities) RaiseAlarm(ctx context.Context, in workflows.AlarmInput) (workflows.AlarmResult, error) {
	if raised, err := a.DB.AlarmRaised(ctx, in.CaseID, in.Alarm.Key); err != nil || raised {
		return workflows.AlarmResult{Alarm: in.Alarm.Key}, err
	}
	team := in.Team
	if in.Step != nil {
		team = in.Step.Owner.Team
	}
	var to []recipient
	var err error
	switch in.Alarm.Kind {
	case resettlement.AlarmReminder, resettlement.AlarmDue:
		to, err = a.ownerOrQueue(ctx, in.Step.Owner)
	case resettlement.AlarmEscalation:
		to, err = a.escalation(ctx, team, in.Alarm.Level)
	case resettlement.AlarmUnassigned:
		to, err = a.queueAndManager(ctx, team)
	case resettlement.AlarmStalled:
		to, err = a.escalation(ctx, team, 1)
	default:
		return workflows.AlarmResult{}, fmt.Errorf("unknown alarm kind %q", in.Alarm.Kind)
	}
	if err != nil {
		return workflows.AlarmResult{}, err
	}
	data := alertEmail(in, a.BaseURL)
	return a.enqueue(ctx, in.CaseID, in.Alarm.Key, string(in.Alarm.Kind), "alert", data, to)
}

// alertEmail is what the email says: the step, its dates and urgency, and a
// link — no personal data of the person in custody.
func alertEmail(in workflows.AlarmInput, baseURL string) mail.Alert {
	u := in.Urgency
	e := mail.Alert{Kind: mail.KindReminder, CaseRef: in.CaseID, DaysOverdue: u.DaysOverdue,
		ReleaseUnknown: u.DaysToRelease == nil, Severity: u.Severity.String(), CaseURL: baseURL + "/cases/" + in.CaseID}
	if u.DaysToRelease != nil {
		e.DaysToRelease = *u.DaysToRelease
	}
	if u.Severity == resettlement.SeverityNone {
		e.Severity = "low"
	}
	if in.Step != nil {
		e.StepTitle, e.Due, e.Action = in.Step.Title, in.Step.Due, in.Step.Action()
	}
	switch in.Alarm.Kind {
	case resettlement.AlarmEscalation:
		e.Kind, e.Level = mail.KindEscalation, in.Alarm.Level
	case resettlement.AlarmUnassigned:
		e.Kind, e.Headline, e.Steps = mail.KindNotice, "Steps waiting in the team queue", in.Unassigned
		e.Action = "Give each step in the team queue an owner."
	case resettlement.AlarmStalled:
		e.Kind, e.Headline = mail.KindNotice, "No progress on this case"
		e.Action = "Nothing has moved on this case for the stall period: check who is working it and what is blocking it."
	}
	return e
}

// enqueue writes one outbox row per recipient, less those who turned this
// kind of email off, in one statement: all of them or none
// (DB.AlarmRaised relies on it).
func (a *Activities) enqueue(ctx context.Context, caseID, key, kind, template string, data mail.Alert, to []recipient) (workflows.AlarmResult, error) {
	res := workflows.AlarmResult{Alarm: key}
	var es []postgres.Email
	for _, r := range to {
		if slices.Contains(r.muted, kind) {
			continue
		}
		d := data
		d.RecipientName = r.name
		es = append(es, postgres.Email{CaseID: caseID, AlarmKey: key, Recipient: r.email,
			RecipientID: r.id, Kind: kind, Template: template, Data: d, Digest: r.digest})
		res.Recipients = append(res.Recipients, r.id)
	}
	if len(es) > 0 {
		written, err := a.DB.EnqueueEmails(ctx, es)
		if err != nil {
			return workflows.AlarmResult{Alarm: key}, err
		}
		res.Written = written
	}
	if len(to) == 0 {
		a.logger().Warn("alarm has nobody to tell: check the team's manager, head of service and queue address",
			"case", caseID, "alarm", key)
	}
	return res, nil
}

func (a *Activities) ownerOrQueue(ctx context.Context, owner resettlement.Owner) ([]recipient, error) {
	if owner.Staff != "" {
		s, err := a.DB.StaffMember(ctx, owner.Staff)
		if err != nil && !errors.Is(err, postgres.ErrNotFound) {
			return nil, err
		}
		away := s.AwayUntil != nil && !time.Now().After(*s.AwayUntil)
		if err == nil && s.Active && !away && s.Email != "" {
			return []recipient{{id: s.ID, name: s.Name, email: s.Email, digest: s.Notify == "digest", muted: s.Muted}}, nil
		}
	}
	return a.queue(ctx, owner.Team)
}

// queue is the team's shared address, or its manager's when it has none.
func (a *Activities) queue(ctx context.Context, teamID string) ([]recipient, error) {
	t, err := a.DB.Team(ctx, teamID)
	if errors.Is(err, postgres.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if t.Email != "" {
		return []recipient{{id: t.ID, name: t.Name, email: t.Email}}, nil
	}
	return a.escalation(ctx, teamID, 1)
}

func (a *Activities) queueAndManager(ctx context.Context, teamID string) ([]recipient, error) {
	q, err := a.queue(ctx, teamID)
	if err != nil {
		return nil, err
	}
	m, err := a.escalation(ctx, teamID, 1)
	if err != nil {
		return nil, err
	}
	for _, r := range m {
		if len(q) == 0 || q[0].email != r.email {
			q = append(q, r)
		}
	}
	return q, nil
}

// escalation finds the team manager (level 1) or head of service (level 2),
// falling back to the other when one is missing. Escalations ignore
// digest preferences and absence: a manager cannot turn them off.
func (a *Activities) escalation(ctx context.Context, teamID string, level int) ([]recipient, error) {
	t, err := a.DB.Team(ctx, teamID)
	if errors.Is(err, postgres.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	order := []string{t.Manager, t.Head}
	if level >= 2 {
		order = []string{t.Head, t.Manager}
	}
	for _, id := range order {
		if id == "" {
			continue
		}
		s, err := a.DB.StaffMember(ctx, id)
		if errors.Is(err, postgres.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if s.Active && s.Email != "" {
			return []recipient{{id: s.ID, name: s.Name, email: s.Email, muted: s.Muted}}, nil
		}
	}
	return nil, nil
}
