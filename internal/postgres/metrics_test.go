package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/internal/postgres/pgtest"
	"github.com/throughgate/throughgate/resettlement"
)

// The gauges count open cases by stage, stalled cases and overdue steps as
// the board does (closed and paused cases left out), and the outbox's
// waiting, oldest and undeliverable emails.
func TestReadModelMetrics(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	now := time.Now()
	// Cases as opening writes them, then the read model's columns and steps
	// as the workflow's projection would leave them, written directly.
	exec := func(sql string, args ...any) {
		t.Helper()
		pgtest.Int(t, db, `with x as (`+sql+` returning 1) select count(*) from x`, args...)
	}
	cases := []struct {
		id, stage       string
		stalled, paused bool
		closed          bool
	}{
		{"case-open1", "identified", false, false, false},
		{"case-open2", "release", true, false, false},
		{"case-paused", "assessment", false, true, false},
		{"case-closed", "closed", true, false, true},
	}
	for i, c := range cases {
		if _, _, err := db.CreateCase(ctx, postgres.NewCase{ID: c.id, Person: postgres.Person{PrisonNumber: fmt.Sprintf("A%04dBC", i),
			Booking: "1", GivenName: "Sam", FamilyName: "Example", DateOfBirth: resettlement.D(1990, 5, 17)}, OpenedBy: "officer-1",
			Establishment: "PVI", Team: "pvi-resettlement", ReceivedOn: resettlement.D(2026, 2, 1)}); err != nil {
			t.Fatal(err)
		}
		exec(`update cases set stage = $2, stalled = $3, paused = $4, closed_at = case when $5 then now() end where id = $1`,
			c.id, c.stage, c.stalled, c.paused, c.closed)
	}
	for _, st := range []struct {
		caseID, id, status string
		due                time.Duration // 0: on hold, no due date
	}{
		{"case-open1", "overdue", "not-started", -time.Hour},
		{"case-open1", "done-late", "done", -2 * time.Hour},
		{"case-open1", "due-tomorrow", "in-progress", 24 * time.Hour},
		{"case-open1", "on-hold", "waiting", 0},
		{"case-open2", "overdue", "waiting", -48 * time.Hour},
		{"case-paused", "overdue", "not-started", -time.Hour},
		{"case-closed", "overdue", "not-started", -time.Hour},
	} {
		var due *time.Time
		if st.due != 0 {
			d := now.Add(st.due)
			due = &d
		}
		exec(`insert into steps (case_id, id, kind, title, status, owner_team, due, due_date, updated)
			values ($1, $2, 'task', $2, $3, 'pvi-resettlement', $4, $4::timestamptz::date, now())`, st.caseID, st.id, st.status, due)
	}

	for _, key := range []string{"a", "b", "c", "d"} {
		if _, err := db.EnqueueEmail(ctx, postgres.Email{CaseID: "case-open1", AlarmKey: key, Recipient: "olu@pvi.example.org",
			Kind: "reminder", Template: "reminder", Data: map[string]string{}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.EnqueueEmail(ctx, postgres.Email{CaseID: "case-open1", AlarmKey: "e", Recipient: "olu@pvi.example.org",
		Kind: "reminder", Template: "reminder", Data: map[string]string{}, Digest: true}); err != nil {
		t.Fatal(err)
	}
	exec(`update outbox set state = 'undeliverable' where alarm_key = 'a'`)
	exec(`update outbox set state = 'sent', sent_at = now() where alarm_key = 'b'`)
	exec(`update outbox set state = 'sending', created_at = now() - interval '10 minutes' where alarm_key = 'c'`)

	m, err := db.ReadModelMetrics(ctx, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	wantOpen := map[string]int{"identified": 1, "assessment": 1, "pre-release-plan": 0, "release": 1, "follow-up": 0}
	if fmt.Sprint(m.OpenCases) != fmt.Sprint(wantOpen) {
		t.Errorf("open cases %v, want %v", m.OpenCases, wantOpen)
	}
	if m.StalledCases != 1 {
		t.Errorf("stalled %d, want 1 (the closed case is not counted)", m.StalledCases)
	}
	// At now+1h the step due tomorrow is not yet overdue; the paused and
	// closed cases' steps are not counted.
	if m.OverdueSteps != 2 {
		t.Errorf("overdue steps %d, want 2", m.OverdueSteps)
	}
	if m.OutboxPending != 2 || m.OutboxUndeliverable != 1 {
		t.Errorf("outbox pending %d undeliverable %d, want 2 and 1 (sent and digest rows not counted)", m.OutboxPending, m.OutboxUndeliverable)
	}
	if m.OutboxOldestPending < 69*time.Minute || m.OutboxOldestPending > 71*time.Minute {
		t.Errorf("oldest pending %s, want about 1h10m (the row claimed 10 minutes before now, read an hour on)", m.OutboxOldestPending)
	}

	// An empty database: every open stage at zero, nothing waiting.
	empty, err := pgtest.New(t).ReadModelMetrics(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(empty.OpenCases) != 5 || empty.OutboxOldestPending != 0 || empty.OverdueSteps != 0 {
		t.Errorf("empty database: %+v", empty)
	}
}
