package integration

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/throughgate/throughgate/internal/app"
	"github.com/throughgate/throughgate/resettlement"
)

// A case's alarms go out at their instant while its workflow cannot run
// (the worker stopped, as at a peak the Temporal server is far behind):
// the read model's dispatcher raises what the workflow's last save said,
// through the real outbox and SMTP. When the worker is back the workflow
// raises them too, and nobody gets an email twice.
func TestAlarmsGoOutWhileTheWorkflowIsBehind(t *testing.T) {
	policy := filepath.Join(tempDir(t), "policy.json")
	os.WriteFile(policy, []byte(`{
		"grace": {"duration": "12s"},
		"remind_before": {"duration": "-6s"},
		"remind_on_due": {"duration": "-1s"},
		"escalations": [{"duration": "30s"}, {"duration": "40s"}]
	}`), 0o600)
	d := startDev(t, devConfig(t, filepath.Join(tempDir(t), "data"), "--policy-file", policy))
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

	// The housing referral's emails written to the outbox, by kind, and
	// how many of them were sent.
	housing := func(kind string) (written, sent []string) {
		t.Helper()
		rows, err := d.DB.CaseEmails(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if strings.Contains(r.AlarmKey, "/housing-referral/") && r.Kind == kind {
				written = append(written, r.Recipient)
				if r.State == "sent" {
					sent = append(sent, r.Recipient)
				}
			}
		}
		return written, sent
	}
	waitFor(t, "the housing referral's reminder sent, with the worker stopped", 20*time.Second, func() bool {
		_, sent := housing("reminder")
		return len(sent) > 0
	})
	if got, _ := housing("reminder"); len(got) != 1 || got[0] != "olu.officer@pvi.example.org" {
		t.Errorf("reminder went to %v, want the owner once", got)
	}
	if due, _ := housing("due"); len(due) != 0 {
		t.Errorf("the due-day reminder was raised before its workflow's save said so: %v", due)
	}
	delivered := 0
	for _, m := range d.SMTP.Messages() {
		if strings.Contains(m.Subject, "Housing: duty to refer for case "+id) {
			delivered++
		}
	}
	if delivered != 1 {
		t.Errorf("%d housing emails reached the SMTP server, want the reminder", delivered)
	}
	t.Logf("reminder sent %s after the worker stopped", time.Since(stopped).Round(100*time.Millisecond))

	// The worker is back: the workflow wakes late, raises what is due, and
	// the outbox ignores the reminder it raises again.
	w := app.NewWorker(d.Client, d.DB, d.Config, app.NewLogger("warn", "text"))
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	d.Worker = w // for d.Stop
	waitFor(t, "the due-day reminder from the workflow", 40*time.Second, func() bool {
		_, sent := housing("due")
		return len(sent) > 0
	})
	time.Sleep(1500 * time.Millisecond) // a duplicate would arrive within the sender's next poll
	if got, _ := housing("reminder"); len(got) != 1 {
		t.Errorf("%d housing reminders written, want 1", len(got))
	}
	ids := map[string]int{}
	for _, m := range d.SMTP.Messages() {
		if ids[m.MessageID]++; ids[m.MessageID] > 1 {
			t.Errorf("%q delivered twice", m.Subject)
		}
	}
	// The workflow saved after raising, and that save set the next alarms
	// (the escalations, which the dispatcher may raise before it).
	waitFor(t, "the read model to show the workflow caught up", 20*time.Second, func() bool {
		rec, err := d.DB.Case(ctx, id)
		return err == nil && rec.Version > saved
	})
}
