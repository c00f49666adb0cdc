package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/throughgate/throughgate/internal/app"
	"github.com/throughgate/throughgate/internal/casework"
	"github.com/throughgate/throughgate/internal/config"
	"github.com/throughgate/throughgate/internal/devsmtp"
	"github.com/throughgate/throughgate/internal/devstack"
	"github.com/throughgate/throughgate/internal/httpserver"
	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/resettlement"
	"github.com/throughgate/throughgate/workflows"
)

// These tests start the real dev stack — a private PostgreSQL, the embedded
// Temporal server on it, the development SMTP server, the worker and the
// API — on free loopback ports, exactly as `throughgate dev` does.

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// devConfig is a dev configuration on free ports under dir.
func devConfig(t *testing.T, dir string, extra ...string) config.Config {
	t.Helper()
	args := append([]string{
		"--data-dir", dir,
		"--http-addr", "127.0.0.1:0",
		"--pg-port", fmt.Sprint(freePort(t)),
		"--temporal-port", fmt.Sprint(freePort(t)),
		"--temporal-ui-port", "0",
		"--smtp-addr", "127.0.0.1:0",
		"--temporal-shards", "16",
	}, extra...)
	cfg, err := config.Load("dev", args, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func startDev(t *testing.T, cfg config.Config) *devstack.Dev {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	d, err := devstack.Start(ctx, cfg, app.NewLogger("warn", "text"))
	if err != nil {
		t.Fatalf("StartDev: %v", err)
	}
	return d
}

// startDevWithPolicy is startDev with the policy file policy (JSON): a
// seconds-scale ladder is configuration, not a code path.
func startDevWithPolicy(t *testing.T, policy string) *devstack.Dev {
	t.Helper()
	path := filepath.Join(tempDir(t), "policy.json")
	if err := os.WriteFile(path, []byte(policy), 0o600); err != nil {
		t.Fatal(err)
	}
	return startDev(t, devConfig(t, filepath.Join(tempDir(t), "data"), "--policy-file", path))
}

func getJSON(t *testing.T, url string, v any) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v in %s", url, err, b)
	}
	return resp.StatusCode
}

func openDemoCase(t *testing.T, d *devstack.Dev, prisonNumber string, dates resettlement.ReleaseDates, received resettlement.Date) string {
	t.Helper()
	id, created, err := d.Cases.Open(context.Background(), casework.OpenRequest{
		Person: postgres.Person{PrisonNumber: prisonNumber, Booking: "1", GivenName: "Sam", FamilyName: "Example",
			DateOfBirth: resettlement.D(1990, 5, 17)},
		Establishment: "PVI", Team: "pvi-resettlement", Owner: "officer-1", ReceivedOn: received, Dates: dates,
		OpenedBy: "officer-1", RequestID: "open-" + prisonNumber,
	})
	if err != nil || !created {
		t.Fatalf("open: %v (created %v)", err, created)
	}
	return id
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s after %s", what, within)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestDevStackReadyRoundTripsAndRestart(t *testing.T) {
	dir := filepath.Join(tempDir(t), "data")
	cfg := devConfig(t, dir)
	start := time.Now()
	d := startDev(t, cfg)
	t.Logf("dev stack ready in %s", time.Since(start).Round(time.Millisecond))

	var ready httpserver.Readiness
	if code := getJSON(t, d.URL+"/readyz", &ready); code != http.StatusOK || !ready.Ready || len(ready.Dependencies) != 4 {
		t.Fatalf("readyz %d %+v", code, ready)
	}
	for _, dep := range ready.Dependencies {
		if dep.State != "up" {
			t.Errorf("%s is %s: %s", dep.Name, dep.State, dep.Error)
		}
	}

	// PostgreSQL and Temporal: a case opens, its workflow runs and saves its projection.
	ctx := context.Background()
	today := resettlement.DateOf(time.Now())
	id := openDemoCase(t, d, "A1234BC", resettlement.ReleaseDates{CRD: today.AddDays(90)}, today.AddDays(-1))
	waitFor(t, "the case's first projection", 20*time.Second, func() bool {
		rec, err := d.DB.Case(ctx, id)
		return err == nil && rec.Version > 0
	})
	st, err := d.Cases.State(ctx, id)
	if err != nil || st.Case.ID != id {
		t.Fatalf("query: %v %+v", err, st.Case)
	}

	// SMTP: a message through the real sender lands in the dev mailbox.
	sender, err := d.Sender()
	if err != nil {
		t.Fatal(err)
	}
	if errs := sender.Send(ctx, mailMessage("olu.officer@pvi.example.org", "round trip", "<roundtrip@throughgate>")); errs[0] != nil {
		t.Fatalf("send: %v", errs[0])
	}
	var box []struct {
		Subject   string   `json:"subject"`
		MessageID string   `json:"message_id"`
		To        []string `json:"to"`
	}
	getJSON(t, d.URL+"/dev/mail.json", &box)
	// The case's own reminders may arrive around it: look for it among them.
	if !slices.ContainsFunc(box, func(m struct {
		Subject   string   `json:"subject"`
		MessageID string   `json:"message_id"`
		To        []string `json:"to"`
	}) bool {
		return m.MessageID == "<roundtrip@throughgate>"
	}) {
		t.Errorf("mailbox %+v", box)
	}

	// With a dependency down, readiness says which and answers 503.
	d.SMTP.Close()
	var down httpserver.Readiness
	if code := getJSON(t, d.URL+"/readyz", &down); code != http.StatusServiceUnavailable || down.Ready {
		t.Errorf("readyz with SMTP down: %d %+v", code, down)
	}
	for _, dep := range down.Dependencies {
		if (dep.Name == "smtp") != (dep.State == "down") {
			t.Errorf("with SMTP down, %s is %s (%s)", dep.Name, dep.State, dep.Error)
		}
	}

	if err := d.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}

	// A second start on the same data keeps the case and its workflow.
	start = time.Now()
	d2 := startDev(t, devConfig(t, dir))
	defer d2.Stop()
	t.Logf("second start ready in %s", time.Since(start).Round(time.Millisecond))
	rec, err := d2.DB.Case(ctx, id)
	if err != nil || rec.Person.PrisonNumber != "A1234BC" {
		t.Fatalf("case after restart: %v %+v", err, rec.Person)
	}
	st2, err := d2.Cases.State(ctx, id)
	if err != nil || st2.Case.Version < st.Case.Version {
		t.Fatalf("workflow after restart: %v", err)
	}
	// And the same booking cannot be opened twice.
	_, _, err = d2.Cases.Open(ctx, casework.OpenRequest{
		Person:        postgres.Person{PrisonNumber: "A1234BC", Booking: "1", GivenName: "Sam", FamilyName: "Example", DateOfBirth: resettlement.D(1990, 5, 17)},
		Establishment: "PVI", Team: "pvi-resettlement", ReceivedOn: today, Dates: resettlement.ReleaseDates{CRD: today.AddDays(90)},
		OpenedBy: "officer-1", RequestID: "another-attempt",
	})
	var exists *postgres.OpenCaseExistsError
	if !asErr(err, &exists) || exists.CaseID != id {
		t.Errorf("second open for the same booking: %v", err)
	}
}

func TestDevStackRefusesBadStarts(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	cfg := devConfig(t, tempDir(t), "--http-addr", busy.Addr().String())
	_, err = devstack.Start(context.Background(), cfg, app.NewLogger("warn", "text"))
	if err == nil || !strings.Contains(err.Error(), "already in use") || !strings.Contains(err.Error(), "HTTP_ADDR") {
		t.Errorf("http port in use: %v", err)
	}
	cfg = devConfig(t, tempDir(t), "--pg-port", fmt.Sprint(busy.Addr().(*net.TCPAddr).Port))
	_, err = devstack.Start(context.Background(), cfg, app.NewLogger("warn", "text"))
	if err == nil || !strings.Contains(err.Error(), "PG_PORT") {
		t.Errorf("postgres port in use: %v", err)
	}
}

func TestReminderFiresOnTheRealServer(t *testing.T) {
	// A seconds-scale policy is configuration, not a code path.
	d := startDevWithPolicy(t, `{
		"grace": {"duration": "6s"},
		"remind_before": {"duration": "-4s"},
		"remind_on_due": {"duration": "-1s"},
		"escalations": [{"duration": "2s"}, {"duration": "4s"}],
		"backstop": "1s"
	}`)
	defer d.Stop()
	ctx := context.Background()
	today := resettlement.DateOf(time.Now())
	// A short sentence: most windows have passed, so the grace period sets them.
	id := openDemoCase(t, d, "B2345CD", resettlement.ReleaseDates{CRD: today.AddDays(3)}, today.AddDays(-20))
	_, err := d.Cases.Update(ctx, id, workflows.UpdateActOnStep, resettlement.ActOnStep{
		Meta: resettlement.Meta{RequestID: "done-1", By: "officer-1"}, StepID: "immediate-needs", Action: resettlement.ActionComplete})
	if err != nil {
		t.Fatal(err)
	}
	kinds := func() map[string]int {
		rows, err := d.DB.CaseEmails(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]int{}
		for _, r := range rows {
			if strings.Contains(r.AlarmKey, "/housing-referral/") {
				m[r.Kind+":"+r.Recipient]++
			}
		}
		return m
	}
	defer func() {
		if t.Failed() {
			rows, _ := d.DB.CaseEmails(ctx, id)
			for _, r := range rows {
				t.Logf("outbox: %s %s %s %s", r.AlarmKey, r.Kind, r.Recipient, r.State)
			}
			st, err := d.Cases.State(ctx, id)
			t.Logf("state: %v next alarms %+v", err, st.NextAlarms)
			for _, m := range d.SMTP.Messages() {
				t.Logf("mail: %s %q", m.To, m.Subject)
			}
		}
	}()
	waitFor(t, "the housing referral's second escalation", 40*time.Second, func() bool {
		return kinds()["escalation:hana.head@london.example.org"] > 0
	})
	got := kinds()
	want := map[string]int{
		"reminder:olu.officer@pvi.example.org":    1,
		"due:olu.officer@pvi.example.org":         1,
		"escalation:mo.manager@pvi.example.org":   1,
		"escalation:hana.head@london.example.org": 1,
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%s: %d emails, want %d (all: %v)", k, got[k], n, got)
		}
	}
	// The emails themselves arrive once each, to the right people, with the
	// right subject and link.
	var housing []devsmtp.Message
	waitFor(t, "the housing referral's four emails", 20*time.Second, func() bool {
		housing = nil
		for _, m := range d.SMTP.Messages() {
			if strings.Contains(m.Subject, "Housing: duty to refer for case "+id) {
				housing = append(housing, m)
			}
		}
		return len(housing) >= 4
	})
	time.Sleep(1500 * time.Millisecond) // a duplicate would arrive within the sender's next poll
	byRecipient := map[string][]string{}
	ids := map[string]int{}
	for _, m := range d.SMTP.Messages() {
		if strings.Contains(m.Subject, "Housing: duty to refer for case "+id) {
			byRecipient[m.To[0]] = append(byRecipient[m.To[0]], m.Subject)
			ids[m.MessageID]++
			if !strings.Contains(m.Text, d.Config.BaseURL+"/cases/"+id) || !strings.Contains(m.HTML, d.Config.BaseURL+"/cases/"+id) {
				t.Errorf("%q has no link to the case", m.Subject)
			}
			// A reminder says it can be turned off, and links to where.
			if !strings.HasPrefix(strings.TrimPrefix(m.Subject, "[Critical] "), "Escalation") &&
				(!strings.Contains(m.Text, d.Config.BaseURL+"/account") || !strings.Contains(m.HTML, `href="`+d.Config.BaseURL+`/account"`)) {
				t.Errorf("%q has no link to the settings page:\n%s", m.Subject, m.Text)
			}
			for _, personal := range []string{"Sam", "Example", "B2345CD", "1990"} {
				if strings.Contains(m.Text+m.HTML+m.Subject, personal) {
					t.Errorf("%q carries personal data %q", m.Subject, personal)
				}
			}
		}
	}
	if len(ids) != 4 {
		t.Errorf("%d distinct housing emails, want 4: %v", len(ids), byRecipient)
	}
	for mid, n := range ids {
		if n != 1 {
			t.Errorf("%s delivered %d times", mid, n)
		}
	}
	if got := byRecipient["olu.officer@pvi.example.org"]; len(got) != 2 {
		t.Errorf("owner got %v, want the reminder and the due-day reminder", got)
	}
	if got := byRecipient["mo.manager@pvi.example.org"]; len(got) != 1 || !strings.Contains(got[0], "Escalation") {
		t.Errorf("team manager got %v, want one escalation", got)
	}
	if got := byRecipient["hana.head@london.example.org"]; len(got) != 1 || !strings.Contains(got[0], "head of service") {
		t.Errorf("head of service got %v, want one escalation", got)
	}

	// The read model follows: the projection is saved after the alarm is raised.
	waitFor(t, "the read model to show escalation level 2", 10*time.Second, func() bool {
		rec, err := d.DB.Case(ctx, id)
		return err == nil && rec.EscalationLevel == 2
	})
	st, _ := d.Cases.State(ctx, id)
	if s, _ := st.Case.Step("immediate-needs"); s.Status != resettlement.StepDone {
		t.Errorf("immediate needs %s", s.Status)
	}

	// Work the case to its end on the real server, so its history can be
	// kept for the replay test in workflows/.
	for _, u := range []struct {
		name string
		cmd  interface{ RequestMeta() resettlement.Meta }
	}{
		{workflows.UpdateAssign, resettlement.Assign{Meta: meta("a1"), StepID: "housing-referral", Owner: resettlement.Owner{Staff: "officer-2", Team: "pvi-resettlement"}}},
		{workflows.UpdateRecordAssessment, resettlement.RecordAssessment{Meta: meta("a2"), Needs: []resettlement.PathwayNeed{{Pathway: resettlement.DrugsAlcohol, Status: resettlement.PathwaySupportRequired}}}},
		{workflows.UpdateChangeReleaseDates, resettlement.ChangeReleaseDates{Meta: meta("a3"), Dates: resettlement.ReleaseDates{CRD: today.AddDays(40)}, Reason: "added-days"}},
		{workflows.UpdatePause, resettlement.Pause{Meta: meta("a4"), Reason: resettlement.PauseCourt}},
		{workflows.UpdateResume, resettlement.Pause{Meta: meta("a5")}},
		{workflows.UpdateTransfer, resettlement.Transfer{Meta: meta("a6"), To: "BXI", ToTeam: "bxi-resettlement"}},
		{workflows.UpdateActOnStep, resettlement.ActOnStep{Meta: meta("a7"), StepID: "handover-1", Action: resettlement.ActionComplete}},
		{workflows.UpdateClose, resettlement.Close{Meta: meta("a8"), Reason: resettlement.CloseHospital}},
	} {
		if _, err := d.Cases.Update(ctx, id, u.name, u.cmd); err != nil {
			t.Fatalf("%s: %v", u.name, err)
		}
	}
	n := keepHistory(t, d, id, "reminder-ladder-transfer-close")
	t.Logf("history of a worked case: %d events", n)
	rows, _ := d.DB.CaseEmails(ctx, id)
	transfers := 0
	for _, r := range rows {
		if r.Kind == "transfer" {
			transfers++
		}
	}
	if transfers == 0 {
		t.Error("no transfer notice was written")
	}
}

func meta(id string) resettlement.Meta {
	return resettlement.Meta{RequestID: id, By: "manager-1", NoteID: 0}
}

func TestDailyDigestForAWorkerWhoChoseIt(t *testing.T) {
	d := startDevWithPolicy(t, `{"grace": {"duration": "3s"}, "remind_before": {"duration": "-2s"}, "remind_on_due": {"duration": "-1s"},
		"escalations": [{"duration": "1h"}, {"duration": "2h"}], "backstop": "1s"}`)
	defer d.Stop()
	ctx := context.Background()
	officer, err := d.DB.StaffMember(ctx, "officer-1")
	if err != nil {
		t.Fatal(err)
	}
	officer.Notify = "digest"
	if err := d.DB.PutStaff(ctx, officer); err != nil {
		t.Fatal(err)
	}
	today := resettlement.DateOf(time.Now())
	id := openDemoCase(t, d, "C3456DE", resettlement.ReleaseDates{CRD: today.AddDays(3)}, today.AddDays(-20))
	held := func() (ids []int64) {
		rows, _ := d.DB.CaseEmails(ctx, id)
		for _, r := range rows {
			if r.State == "digest" {
				ids = append(ids, r.ID)
			}
		}
		return ids
	}
	waitFor(t, "reminders held for the digest", 20*time.Second, func() bool { return len(held()) >= 5 })
	before := held()
	for _, m := range d.SMTP.Messages() {
		if m.To[0] == officer.Email {
			t.Errorf("a digest reader got a separate reminder: %q", m.Subject)
		}
	}
	// The schedule exists; run its workflow for a working day.
	if _, err := d.Client.ScheduleClient().GetHandle(ctx, workflows.DailyDigestScheduleID).Describe(ctx); err != nil {
		t.Fatalf("digest schedule: %v", err)
	}
	day := resettlement.EnglandAndWales.OnOrBefore(today)
	run, err := d.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "digest-test", TaskQueue: workflows.TaskQueue},
		workflows.DailyDigest, workflows.DigestInput{Day: day})
	if err != nil {
		t.Fatal(err)
	}
	var sent int
	if err := run.Get(ctx, &sent); err != nil || sent != 1 {
		t.Fatalf("digests sent %d (%v), want 1", sent, err)
	}
	var digest []devsmtp.Message
	waitFor(t, "the digest email", 20*time.Second, func() bool {
		digest = nil
		for _, m := range d.SMTP.Messages() {
			if m.To[0] == officer.Email {
				digest = append(digest, m)
			}
		}
		return len(digest) > 0
	})
	if len(digest) != 1 || !strings.HasPrefix(strings.TrimPrefix(digest[0].Subject, "[Critical] "), "Daily summary for") ||
		!strings.Contains(digest[0].Text, "Housing: duty to refer") || !strings.Contains(digest[0].Text, d.Config.BaseURL+"/cases/"+id) {
		t.Errorf("digest %d emails, first %q:\n%s", len(digest), digest[0].Subject, digest[0].Text)
	}
	if !strings.Contains(digest[0].Text, d.Config.BaseURL+"/account") || !strings.Contains(digest[0].HTML, `href="`+d.Config.BaseURL+`/account"`) {
		t.Errorf("the digest does not link to the settings page:\n%s", digest[0].Text)
	}
	// The reminders held when the digest ran are folded into it (alarms
	// raised since wait for tomorrow's).
	rows, _ := d.DB.CaseEmails(ctx, id)
	state := map[int64]string{}
	for _, r := range rows {
		state[r.ID] = r.State
	}
	for _, rid := range before {
		if state[rid] != "digested" {
			t.Errorf("held reminder %d is %s after the digest", rid, state[rid])
		}
	}
	// Running it again for the same day sends nothing more.
	run, _ = d.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "digest-test-again", TaskQueue: workflows.TaskQueue},
		workflows.DailyDigest, workflows.DigestInput{Day: day})
	run.Get(ctx, &sent)
	time.Sleep(2 * time.Second)
	n := 0
	for _, m := range d.SMTP.Messages() {
		if m.To[0] == officer.Email {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d digests after a second run for the same day", n)
	}
}

// TestFullCaseOnTheRealServer works a case from identification to the last
// follow-up on the real server, and reports its history length.
func TestFullCaseOnTheRealServer(t *testing.T) {
	d := startDev(t, devConfig(t, filepath.Join(tempDir(t), "data")))
	defer d.Stop()
	ctx := context.Background()
	today := resettlement.DateOf(time.Now())
	// Release two working days out, so the release can be recorded today.
	target := resettlement.EnglandAndWales.AddWorkingDays(today, 2)
	id := openDemoCase(t, d, "D4567EF", resettlement.ReleaseDates{CRD: target}, today.AddDays(-60))
	n := 0
	act := func(step string, a resettlement.StepAction) {
		t.Helper()
		n++
		_, err := d.Cases.Update(ctx, id, workflows.UpdateActOnStep, resettlement.ActOnStep{
			Meta: resettlement.Meta{RequestID: fmt.Sprintf("full-%d", n), By: "officer-1"}, StepID: step, Action: a})
		if err != nil {
			t.Fatalf("%s %s: %v", a, step, err)
		}
	}
	if _, err := d.Cases.Update(ctx, id, workflows.UpdateRecordAssessment, resettlement.RecordAssessment{
		Meta:  resettlement.Meta{RequestID: "full-assess", By: "officer-1"},
		Needs: []resettlement.PathwayNeed{{Pathway: resettlement.DrugsAlcohol, Status: resettlement.PathwaySupportRequired}}}); err != nil {
		t.Fatal(err)
	}
	st, err := d.Cases.State(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range st.Case.Steps {
		if s.Status.Open() && s.Kind != resettlement.KindFollowUp && s.ID != "release" {
			act(s.ID, resettlement.ActionStart)
			act(s.ID, resettlement.ActionComplete)
		}
	}
	act("release", resettlement.ActionComplete)
	for _, f := range []string{"follow-up-1", "follow-up-7", "follow-up-28", "follow-up-84"} {
		act(f, resettlement.ActionComplete)
	}
	run := d.Client.GetWorkflow(ctx, workflows.WorkflowID(id), "")
	var res workflows.Result
	if err := run.Get(ctx, &res); err != nil || res.Closure == nil || res.Closure.Reason != resettlement.CloseCompleted {
		t.Fatalf("the case did not close itself: %v %+v", err, res.Closure)
	}
	waitFor(t, "the read model to show the case closed", 10*time.Second, func() bool {
		rec, err := d.DB.Case(ctx, id)
		return err == nil && rec.ClosedAt != nil && rec.Stage == string(resettlement.StageClosed)
	})
	events := keepHistory(t, d, id, "full-case-opened-to-closed")
	t.Logf("full case: %d updates, %d history events", n+1, events)
}

func TestMutedKindsAreNotSentButEscalationsAlwaysAre(t *testing.T) {
	d := startDevWithPolicy(t, `{"grace": {"duration": "4s"}, "remind_before": {"duration": "-3s"}, "remind_on_due": {"duration": "-1s"},
		"escalations": [{"duration": "1s"}, {"duration": "1h"}], "backstop": "1s"}`)
	defer d.Stop()
	ctx := context.Background()
	if err := d.DB.SetMuted(ctx, "officer-1", []string{"reminder"}); err != nil {
		t.Fatal(err)
	}
	if err := d.DB.SetMuted(ctx, "manager-1", []string{"escalation"}); err == nil {
		t.Error("a manager turned escalations off")
	}
	today := resettlement.DateOf(time.Now())
	id := openDemoCase(t, d, "E5678FG", resettlement.ReleaseDates{CRD: today.AddDays(3)}, today.AddDays(-20))
	kinds := func() map[string]int {
		rows, _ := d.DB.CaseEmails(ctx, id)
		m := map[string]int{}
		for _, r := range rows {
			if strings.Contains(r.AlarmKey, "/housing-referral/") {
				m[r.Kind+":"+r.Recipient]++
			}
		}
		return m
	}
	waitFor(t, "the housing referral's escalation", 30*time.Second, func() bool {
		return kinds()["escalation:mo.manager@pvi.example.org"] == 1
	})
	got := kinds()
	if got["reminder:olu.officer@pvi.example.org"] != 0 || got["due:olu.officer@pvi.example.org"] != 1 {
		t.Errorf("officer who muted reminders: %v", got)
	}
}
