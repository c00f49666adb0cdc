package outbox

import (
	"github.com/throughgate/throughgate/activities"
	tgmail "github.com/throughgate/throughgate/internal/mail"
)

// The outbox stores what the activities wrote; these adapt it to the
// templates' input.
type (
	alertData  activities.EmailData
	digestData activities.DigestData
)

// alert maps an outbox row's data to what the mail templates render.
func (d alertData) alert() tgmail.Alert {
	a := tgmail.Alert{Kind: tgmail.KindReminder, Level: d.Level, CaseRef: d.CaseRef, StepTitle: d.StepTitle, Due: d.Due,
		DaysOverdue: d.DaysOverdue, Severity: d.Severity, Action: d.Action, CaseURL: d.CaseURL, RecipientName: d.RecipientName}
	if d.DaysToRelease != nil {
		a.DaysToRelease = *d.DaysToRelease
	}
	if d.Kind == "escalation" {
		a.Kind = tgmail.KindEscalation
	}
	return a
}
