package activities

import (
	"testing"
	"time"

	"github.com/throughgate/throughgate/internal/mail"
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
