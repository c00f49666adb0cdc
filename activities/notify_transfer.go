package activities

import (
	"context"
	"fmt"

	"github.com/throughgate/throughgate/internal/mail"
	"github.com/throughgate/throughgate/resettlement"
	"github.com/throughgate/throughgate/workflows"
)

// NotifyTransfer is the activity workflows.ActivityNotifyTransfer: it emails
// both teams' queues (and the receiving manager), so nobody is lost between
// prisons.
func (a *Activities) NotifyTransfer(ctx context.Context, n workflows.TransferNotice) error {
	key := fmt.Sprintf("transfer/%d", n.Seq)
	data := mail.Alert{Kind: mail.KindNotice, CaseRef: n.CaseID, Headline: fmt.Sprintf("Transferred in from %s", n.From),
		Due: n.HandoverDue, Severity: "medium", CaseURL: a.BaseURL + "/cases/" + n.CaseID, ReleaseUnknown: n.ReleaseDay.IsZero()}
	if !n.ReleaseDay.IsZero() {
		data.DaysToRelease = resettlement.DateOf(n.HandoverDue).DaysUntil(n.ReleaseDay)
	}
	receiving, err := a.queueAndManager(ctx, n.ToTeam)
	if err != nil {
		return err
	}
	data.Action = fmt.Sprintf("This case has transferred in from %s. Pick up the handover and give each open step an owner.", n.From)
	if _, err := a.enqueue(ctx, n.CaseID, key, "transfer", "alert", data, receiving); err != nil {
		return err
	}
	sending, err := a.queue(ctx, n.FromTeam)
	if err != nil {
		return err
	}
	data.Headline = fmt.Sprintf("Transferred out to %s", n.To)
	data.Action = fmt.Sprintf("This case has transferred out to %s; its open steps are now with the %s team. Nothing more is needed from you.", n.To, n.ToTeam)
	_, err = a.enqueue(ctx, n.CaseID, key, "transfer", "alert", data, sending)
	return err
}
