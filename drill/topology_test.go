package drill

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/throughgate/throughgate/internal/casework"
	"github.com/throughgate/throughgate/resettlement"
)

// TestSeparatedTopology runs one full case, over the HTTP API, through the
// topology deploy/compose.yaml describes, each part a separate process
// configured by compose's own settings: opened, its reminders delivered by
// the workers through the SMTP relay, every step worked, released, followed
// up and closed by itself; then no reminder lost or sent twice, and the
// read model equal to the workflow's state.
func TestSeparatedTopology(t *testing.T) {
	// With nothing broken, a change that fails is retried (with its key)
	// for a few seconds only, then the test fails.
	const quick = 10 * time.Second
	began := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	topo := startTopology(t, ctx)
	up := time.Now()

	// compose's two roles: api and the workers are signed in as the role
	// of DATABASE_URL, which migrate made a member of the application's
	// group role and which may not change the audit log; and what Temporal
	// holds of a case is sealed with PAYLOAD_KEYS.
	appRole := "throughgate_service"
	var signedIn int
	var member, canChange bool
	if err := topo.Pool.QueryRow(ctx, `select (select count(*) from pg_stat_activity where usename = $1 and datname = 'throughgate'),
		pg_has_role($1, 'throughgate_app', 'member'),
		has_table_privilege($1, 'audit', 'update') or has_table_privilege($1, 'audit', 'delete') or has_table_privilege($1, 'audit', 'truncate')`,
		appRole).Scan(&signedIn, &member, &canChange); err != nil {
		t.Fatal(err)
	}
	if signedIn == 0 || !member || canChange {
		t.Errorf("role %s: %d connections, member of throughgate_app %v, may change the audit log %v", appRole, signedIn, member, canChange)
	}

	officer, err := SignIn(ctx, topo.APIURL, Officer, topo.Password)
	if err != nil {
		t.Fatal(err)
	}
	// Released two working days from today, so the release can be
	// recorded now; received 60 days ago, so most windows have passed and
	// the fast ladder's grace sets them: reminders within seconds.
	today := resettlement.DateOf(time.Now())
	id, _, err := openCase(ctx, officer, "A1234BC", resettlement.EnglandAndWales.AddWorkingDays(today, 2), quick)
	if err != nil {
		t.Fatal(err)
	}
	opened := time.Now()
	if err := recordConsent(ctx, officer, id, quick); err != nil {
		t.Fatal(err)
	}

	// A reminder reaches the relay, sent by a worker over STARTTLS with AUTH.
	var reminder OutboxRow
	if !waitFor(ctx, 60*time.Second, func() bool {
		rows, _ := topo.Outbox(ctx, id)
		for _, r := range rows {
			if strings.HasSuffix(r.AlarmKey, "/reminder") && r.State == "sent" {
				reminder = r
				return true
			}
		}
		return false
	}) {
		t.Fatalf("no reminder was sent within 60 s of opening case %s", id)
	}
	var got bool
	for _, m := range topo.Relay.Messages() {
		if m.MessageID == reminder.MessageID {
			got = true
			if !m.TLS || m.AuthUser != topo.Relay.Username || !slices.Equal(m.To, []string{"olu.officer@pvi.example.org"}) ||
				!strings.Contains(m.Text, topo.APIURL+"/cases/"+id) {
				t.Errorf("reminder %s: tls %v, auth %q, to %v, text:\n%s", m.MessageID, m.TLS, m.AuthUser, m.To, m.Text)
			}
		}
	}
	if !got {
		t.Fatalf("the outbox says reminder %s (%s) was sent, but the relay has no such message", reminder.MessageID, reminder.AlarmKey)
	}
	t.Logf("first reminder delivered %s after opening", time.Since(opened).Round(100*time.Millisecond))

	// Work the case to its end, as TestFullCaseOnTheRealServer does in
	// one process: the assessment, every step before release started and
	// completed, the release, the follow-ups.
	n := 0
	key := func() string { n++; return fmt.Sprintf("full-%d", n) }
	if ch := officer.Change(ctx, "/api/v1/cases/"+id+"/assessment", key(),
		map[string]any{"needs": []map[string]string{{"pathway": "drugs-alcohol", "status": "support-required"}}}, quick); ch.Status != http.StatusOK {
		t.Fatalf("assessment: %s", ch)
	}
	var view casework.CaseView
	if err := officer.Get(ctx, "/api/v1/cases/"+id, &view); err != nil {
		t.Fatal(err)
	}
	for _, s := range view.Steps {
		if s.Status.Open() && s.Kind != resettlement.KindFollowUp && s.ID != "release" {
			for _, a := range []string{"start", "complete"} {
				if _, err := act(ctx, officer, id, s.ID, a, key(), quick); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	for _, s := range []string{"release", "follow-up-1", "follow-up-7", "follow-up-28", "follow-up-84"} {
		if _, err := act(ctx, officer, id, s, "complete", key(), quick); err != nil {
			t.Fatal(err)
		}
	}
	if !waitFor(ctx, 30*time.Second, func() bool {
		err := officer.Get(ctx, "/api/v1/cases/"+id, &view)
		return err == nil && view.ClosedAt != nil && view.Stage == string(resettlement.StageClosed)
	}) {
		t.Fatalf("the case did not close itself: stage %s, closed %v", view.Stage, view.ClosedAt)
	}
	if sealed, err := topo.PayloadsSealed(ctx, id); err != nil || !sealed {
		t.Errorf("case %s's workflow input is not sealed with PAYLOAD_KEYS (%v)", id, err)
	}
	t.Logf("case %s worked to its end with %d changes, closed %s after opening", id, len(officer.Changes()), time.Since(opened).Round(100*time.Millisecond))

	a, err := topo.AuditCases(ctx, []string{id}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if a.Raised == 0 || a.Emails == 0 {
		t.Errorf("no alarm was raised: %+v", a)
	}
	for _, l := range a.Lost {
		t.Errorf("lost: %s", l)
	}
	for _, m := range a.Mismatches {
		t.Errorf("read model differs from the workflow: %s", m)
	}
	if a.Duplicates != 0 {
		t.Errorf("%d duplicate emails with nothing broken", a.Duplicates)
	}
	if stray, err := topo.StrayMessages(ctx); err != nil || len(stray) > 0 {
		t.Errorf("messages no outbox row explains: %v %v", stray, err)
	}
	for _, ch := range officer.Changes() {
		if ch.Retried() {
			t.Errorf("a change needed %d attempts with nothing broken: %s", ch.Attempts, &ch)
		}
	}
	b, _ := json.Marshal(a.Cases)
	t.Logf("alarms fired %d (raised %d, passed over %d), emails %d, delivered %d: %s", a.Fired, a.Raised, a.PassedOver, a.Emails, a.Delivered, b)
	t.Logf("short form: %s in all (%s to start the topology)", time.Since(began).Round(100*time.Millisecond), up.Sub(began).Round(100*time.Millisecond))
}
