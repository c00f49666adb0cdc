package integration

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/throughgate/throughgate/internal/app"
	"github.com/throughgate/throughgate/resettlement"
)

// A case's alarms go out at their instants while its workflow cannot run
// (the worker stopped, as at a peak the Temporal server is far behind): the
// read model's dispatcher walks the whole ladder from the case as last
// saved, through the real outbox and SMTP, to the people the workflow
// would tell. When the worker is back the workflow raises them too, and
// nobody gets an email twice.
func TestAlarmsGoOutWhileTheWorkflowIsBehind(t *testing.T) {
	d := startDevWithPolicy(t, `{
		"grace": {"duration": "10s"},
		"remind_before": {"duration": "-6s"},
		"remind_on_due": {"duration": "-2s"},
		"escalations": [{"duration": "2s"}, {"duration": "5s"}],
		"backstop": "1s"
	}`)
	defer d.Stop()
	ctx := context.Background()
	today := resettlement.DateOf(time.Now())
	id := openDemoCase(t, d, "B3456DE", resettlement.ReleaseDates{CRD: today.AddDays(3)}, today.AddDays(-20))
	var saved int
	waitFor(t, "the workflow's first save", 10*time.Second, func() bool {
		rec, err := d.DB.Case(ctx, id)
		saved = rec.Version
		return err == nil && rec.State != nil
	})
	d.Worker.Stop() // no workflow task runs from here
	stopped := time.Now()

	// The housing referral's emails in the outbox: kind and recipient of
	// each, and of those sent.
	housing := func() (written, sent []string) {
		t.Helper()
		rows, err := d.DB.CaseEmails(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if strings.Contains(r.AlarmKey, "/housing-referral/") {
				written = append(written, r.Kind+":"+r.Recipient)
				if r.State == "sent" {
					sent = append(sent, r.Kind+":"+r.Recipient)
				}
			}
		}
		slices.Sort(written)
		slices.Sort(sent)
		return written, sent
	}
	ladder := []string{"due:olu.officer@pvi.example.org", "escalation:hana.head@london.example.org",
		"escalation:mo.manager@pvi.example.org", "reminder:olu.officer@pvi.example.org"}
	waitFor(t, "the housing referral's whole ladder sent, with the worker stopped", 30*time.Second, func() bool {
		_, sent := housing()
		return len(sent) >= len(ladder)
	})
	if written, _ := housing(); !slices.Equal(written, ladder) {
		t.Errorf("written %v, want %v", written, ladder)
	}
	delivered := 0
	for _, m := range d.SMTP.Messages() {
		if strings.Contains(m.Subject, "Housing: duty to refer for case "+id) {
			delivered++
		}
	}
	if delivered != len(ladder) {
		t.Errorf("%d housing emails reached the SMTP server, want %d", delivered, len(ladder))
	}
	t.Logf("the ladder sent %s after the worker stopped", time.Since(stopped).Round(100*time.Millisecond))

	// The worker is back: the workflow wakes late, raises what is due (the
	// outbox ignores it) and saves.
	w := app.NewWorker(d.Client, d.DB, d.Config, app.NewLogger("warn", "text"))
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	d.Worker = w // for d.Stop
	waitFor(t, "the read model to show the workflow caught up", 30*time.Second, func() bool {
		rec, err := d.DB.Case(ctx, id)
		return err == nil && rec.Version > saved && rec.EscalationLevel == 2
	})
	time.Sleep(1500 * time.Millisecond) // a duplicate would arrive within the sender's next poll
	if written, _ := housing(); !slices.Equal(written, ladder) {
		t.Errorf("after the workflow caught up: written %v, want %v", written, ladder)
	}
	ids := map[string]int{}
	for _, m := range d.SMTP.Messages() {
		if ids[m.MessageID]++; ids[m.MessageID] > 1 {
			t.Errorf("%q delivered twice", m.Subject)
		}
	}
}
