package activities

import (
	"context"
	"encoding/json"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/throughgate/throughgate/internal/mail"
	"github.com/throughgate/throughgate/resettlement"
)

// digestHorizon is how far ahead a digest looks: the same three working days
// the reminder ladder warns ahead by.
const digestHorizon = 3

// SendDigests is the activity workflows.ActivitySendDigests: it writes one
// digest per reader into the outbox, listing every open step they own that
// is overdue or due within three working days, and folds the reminders held
// back for them into it. It is idempotent per day: the digest's outbox key
// is the day.
func (a *Activities) SendDigests(ctx context.Context, day resettlement.Date) (int, error) {
	readers, err := a.DB.DigestReaders(ctx)
	if err != nil {
		return 0, err
	}
	until := resettlement.EnglandAndWales.AddWorkingDays(day, digestHorizon).At(24 * time.Hour)
	today := day.At(12 * time.Hour)
	sent := 0
	for _, r := range readers {
		activity.RecordHeartbeat(ctx, r.ID)
		steps, err := a.DB.DueSteps(ctx, r.ID, until)
		if err != nil {
			return sent, err
		}
		// Steps and cases given to the reader since the last digest (held
		// assignment emails) are listed too; they are folded only into a
		// digest that lists them.
		held, err := a.DB.HeldEmails(ctx, r.Email, mail.KindAssigned)
		if err != nil {
			return sent, err
		}
		var digestID int64
		var listed []int64
		if len(steps) > 0 || len(held) > 0 {
			d := mail.Digest{RecipientName: r.Name, Day: today}
			for _, h := range held {
				var as mail.Assigned
				if json.Unmarshal(h.Data, &as) == nil {
					d.Assigned = append(d.Assigned, as)
					listed = append(listed, h.ID)
				}
			}
			for _, s := range steps {
				item := mail.Alert{Kind: mail.KindReminder, CaseRef: s.CaseID, StepTitle: s.Title, Due: s.Due,
					CaseURL: a.BaseURL + "/cases/" + s.CaseID, Severity: "low", ReleaseUnknown: s.ReleaseDay == nil}
				if s.ReleaseDay != nil {
					item.DaysToRelease = day.DaysUntil(resettlement.DateOf(*s.ReleaseDay))
				}
				if s.Due.Before(today) {
					item.DaysOverdue = resettlement.DateOf(s.Due).DaysUntil(day)
					item.Severity = "medium"
				}
				d.Items = append(d.Items, item)
			}
			var written bool
			digestID, written, err = a.DB.EnqueueDigestOnce(ctx, "digest/"+day.String(), r.Email, r.ID, d)
			if err != nil {
				return sent, err
			}
			if !written {
				listed = nil // the day's digest went without them: tomorrow's lists them
			}
			sent++
		}
		if err := a.DB.FoldHeldIntoDigest(ctx, r.Email, digestID, mail.KindAssigned, listed); err != nil {
			return sent, err
		}
	}
	return sent, nil
}
