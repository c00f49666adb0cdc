package activities

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/throughgate/throughgate/internal/mail"
	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/internal/postgres/pgtest"
	"github.com/throughgate/throughgate/resettlement"
	"github.com/throughgate/throughgate/workflows"
)

// The delivery path itself (directory look-ups, outbox rows, emails) is
// tested on the real engine in package integration; this checks what each
// kind of alarm says.
func TestAlertEmail(t *testing.T) {
	due := time.Date(2027, 1, 13, 17, 0, 0, 0, resettlement.London)
	step := &resettlement.Step{ID: "housing-referral", Kind: resettlement.KindHousingReferral, Title: "Housing: duty to refer", Due: due}
	nine := 9
	tests := []struct {
		name string
		in   workflows.AlarmInput
		want mail.Alert
	}{
		{"reminder, not overdue",
			workflows.AlarmInput{CaseID: "c1", Alarm: resettlement.Alarm{Kind: resettlement.AlarmReminder}, Step: step, Urgency: resettlement.Urgency{DaysToRelease: &nine}},
			mail.Alert{Kind: mail.KindReminder, CaseRef: "c1", StepTitle: "Housing: duty to refer", Due: due, DaysToRelease: 9, Severity: "low", Action: step.Action(), CaseURL: "https://tg.example/cases/c1"}},
		{"escalation with no release date",
			workflows.AlarmInput{CaseID: "c1", Alarm: resettlement.Alarm{Kind: resettlement.AlarmEscalation, Level: 2}, Step: step, Urgency: resettlement.Urgency{Severity: resettlement.SeverityHigh, DaysOverdue: 8}},
			mail.Alert{Kind: mail.KindEscalation, Level: 2, CaseRef: "c1", StepTitle: "Housing: duty to refer", Due: due, DaysOverdue: 8, ReleaseUnknown: true, Severity: "high", Action: step.Action(), CaseURL: "https://tg.example/cases/c1"}},
		{"steps in the queue",
			workflows.AlarmInput{CaseID: "c1", Alarm: resettlement.Alarm{Kind: resettlement.AlarmUnassigned}, Unassigned: []string{"GP registration"}, Urgency: resettlement.Urgency{DaysToRelease: &nine}},
			mail.Alert{Kind: mail.KindNotice, CaseRef: "c1", Headline: "Steps waiting in the team queue", Steps: []string{"GP registration"}, DaysToRelease: 9, Severity: "low", Action: "Give each step in the team queue an owner.", CaseURL: "https://tg.example/cases/c1"}},
	}
	for _, tt := range tests {
		got := alertEmail(tt.in, "https://tg.example")
		if got.Kind != tt.want.Kind || got.Level != tt.want.Level || got.StepTitle != tt.want.StepTitle || !got.Due.Equal(tt.want.Due) ||
			got.DaysToRelease != tt.want.DaysToRelease || got.ReleaseUnknown != tt.want.ReleaseUnknown || got.Severity != tt.want.Severity ||
			got.Headline != tt.want.Headline || len(got.Steps) != len(tt.want.Steps) || got.Action != tt.want.Action || got.CaseURL != tt.want.CaseURL {
			t.Errorf("%s:\n got %+v\nwant %+v", tt.name, got, tt.want)
		}
		// Every alarm renders.
		if _, _, _, err := mail.RenderAlert(got); err != nil {
			t.Errorf("%s: does not render: %v", tt.name, err)
		}
	}
	stalled := alertEmail(workflows.AlarmInput{CaseID: "c1", Alarm: resettlement.Alarm{Kind: resettlement.AlarmStalled}}, "https://tg.example")
	if stalled.Kind != mail.KindNotice || stalled.Headline == "" {
		t.Errorf("stalled: %+v", stalled)
	}
	if _, _, _, err := mail.RenderAlert(stalled); err != nil {
		t.Errorf("stalled does not render: %v", err)
	}
}

// An alarm is raised once, to whoever it went to first: the dispatcher
// raises it at its instant, and the workflow, waking later after a command
// gave the step a new owner, must not send the new owner the same alarm.
// Each raise writes all of its recipients or none.
func TestAnAlarmIsRaisedOnce(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	for _, s := range []postgres.Staff{
		{ID: "officer-1", Name: "Olu Officer", Email: "olu@pvi.example.org", Role: "officer", Notify: "each", Active: true},
		{ID: "officer-2", Name: "Ade Officer", Email: "ade@pvi.example.org", Role: "officer", Notify: "each", Active: true},
	} {
		if err := db.CreateStaff(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.CreateTeam(ctx, postgres.Team{ID: "pvi-resettlement", Name: "PVI resettlement", Establishment: "PVI", Active: true}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.CreateCase(ctx, postgres.NewCase{ID: "case-once", Person: postgres.Person{PrisonNumber: "A1234AA", Booking: "1",
		GivenName: "Sam", FamilyName: "Example", DateOfBirth: resettlement.D(1990, 5, 17)}, OpenedBy: "officer-1",
		Establishment: "PVI", Team: "pvi-resettlement", ReceivedOn: resettlement.D(2026, 11, 20)}); err != nil {
		t.Fatal(err)
	}
	a := &Activities{DB: db, BaseURL: "https://tg.example"}
	raise := func(key, owner string) workflows.AlarmResult {
		t.Helper()
		step := &resettlement.Step{ID: "housing-referral", Kind: resettlement.KindHousingReferral, Title: "Housing: duty to refer",
			Owner: resettlement.Owner{Staff: owner, Team: "pvi-resettlement"}}
		res, err := a.RaiseAlarm(ctx, workflows.AlarmInput{CaseID: "case-once", Team: "pvi-resettlement", Step: step,
			Alarm: resettlement.Alarm{Key: key, Kind: resettlement.AlarmReminder, StepID: step.ID}})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	recipients := func() []string {
		rows, err := db.CaseEmails(ctx, "case-once")
		if err != nil {
			t.Fatal(err)
		}
		var to []string
		for _, r := range rows {
			to = append(to, r.AlarmKey+" "+r.Recipient)
		}
		return to
	}
	if res := raise("c0/housing-referral/2027-01-13/reminder", "officer-1"); res.Written != 1 {
		t.Fatalf("first raise wrote %d", res.Written)
	}
	// The step changed hands; the workflow raises the same alarm again.
	if res := raise("c0/housing-referral/2027-01-13/reminder", "officer-2"); res.Written != 0 || len(res.Recipients) != 0 {
		t.Errorf("second raise of one alarm wrote %d to %v", res.Written, res.Recipients)
	}
	// The next alarm goes to the new owner.
	raise("c0/housing-referral/2027-01-13/due", "officer-2")
	want := []string{"c0/housing-referral/2027-01-13/reminder olu@pvi.example.org", "c0/housing-referral/2027-01-13/due ade@pvi.example.org"}
	if got := recipients(); !slices.Equal(got, want) {
		t.Errorf("outbox %v, want %v", got, want)
	}
}
