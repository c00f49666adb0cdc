package postgres_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/internal/postgres/pgtest"
	"github.com/throughgate/throughgate/resettlement"
)

// A case's next alarms are kept with its save, raised once at their
// instant, held by a command on its way, and a dispatcher raising them
// holds the case until it is done.
func TestNextAlarmsRaisedOnceAtTheirInstant(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, resettlement.London)
	policy := resettlement.DefaultPolicy()
	c, err := resettlement.Open(resettlement.OpenCase{CaseID: "case-alarms", Establishment: "PVI", Team: "pvi-resettlement",
		Owner: "officer-1", ReceivedOn: resettlement.D(2026, 11, 20), Dates: resettlement.ReleaseDates{CRD: resettlement.D(2027, 3, 10)},
		Adult: true, Policy: &policy}, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.CreateCase(ctx, postgres.NewCase{ID: c.ID, Person: postgres.Person{PrisonNumber: "A1234AA", Booking: "1",
		GivenName: "Sam", FamilyName: "Example", DateOfBirth: resettlement.D(1990, 5, 17)}, OpenedBy: "officer-1",
		Establishment: "PVI", Team: "pvi-resettlement", ReceivedOn: c.ReceivedOn}); err != nil {
		t.Fatal(err)
	}
	c.TakeDue(now)
	save := func(c *resettlement.Case) {
		t.Helper()
		p := resettlement.Projection{Case: c, Stage: c.Stage(now)}
		_, p.AlarmsAt = c.NextRaise()
		if err := db.SaveCase(ctx, p, now); err != nil {
			t.Fatal(err)
		}
	}
	save(c)
	want, at := c.NextRaise()
	after := at.Add(time.Hour)
	next := after // the instant the raise says comes next
	if len(want) == 0 {
		t.Fatal("the case has no alarm to come")
	}
	var got []postgres.DueAlarms
	raise := func(now time.Time) int {
		t.Helper()
		got = nil
		n, err := db.RaiseDueAlarms(ctx, now, 10, func(d postgres.DueAlarms) time.Time {
			got = append(got, d)
			// Raising writes the outbox, whose key refers to the case
			// locked for the raise, from another connection.
			ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			for _, a := range want {
				if _, err := db.EnqueueEmail(ctx, postgres.Email{CaseID: d.Case.ID, AlarmKey: a.Key, Recipient: "olu.officer@pvi.example.org",
					RecipientID: "officer-1", Kind: string(a.Kind), Template: "alert", Data: map[string]string{}}); err != nil {
					t.Errorf("writing the outbox while raising: %v", err)
				}
			}
			return next
		})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := raise(at.Add(-time.Second)); n != 0 {
		t.Fatalf("a second early: %d cases raised", n)
	}
	if n := raise(at); n != 1 || len(got) != 1 {
		t.Fatalf("at the instant: %d cases raised, want 1", n)
	}
	if d := got[0]; d.Case.ID != c.ID || !d.At.Equal(at) || len(d.Case.Steps) != len(c.Steps) {
		t.Errorf("raised case %s at %s with %d steps, want %s at %s with %d", d.Case.ID, d.At, len(d.Case.Steps), c.ID, at, len(c.Steps))
	}
	if n := raise(after.Add(-time.Second)); n != 0 {
		t.Fatalf("raised again before the next instant: %d", n)
	}
	next = time.Time{} // none to come
	if n := raise(after); n != 1 {
		t.Fatalf("not raised at the next instant the raise gave")
	}
	if n := raise(after.AddDate(1, 0, 0)); n != 0 {
		t.Fatalf("raised again after the last: %d", n)
	}

	// A save of an older version does not bring them back; a newer does.
	old := c.Clone()
	save(old)
	if n := raise(at); n != 0 {
		t.Fatal("an older save set the alarms again")
	}
	c.Version++
	save(c)

	// A command on its way holds them; one that changed nothing (no save
	// since) gets them back.
	held, err := db.HoldAlarms(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if n := raise(at); n != 0 {
		t.Fatal("held alarms were raised")
	}
	if err := db.ReleaseAlarms(ctx, held); err != nil {
		t.Fatal(err)
	}
	next = time.Time{}
	if n := raise(at); n != 1 {
		t.Fatal("alarms released after a command that changed nothing were not raised")
	}
	// One the workflow saved keeps what its save set.
	c.Version++
	save(c)
	if held, err = db.HoldAlarms(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	c.Version++
	c.Paused = true // the command paused the case: no alarms to come
	save(c)
	c.Paused = false
	if err := db.ReleaseAlarms(ctx, held); err != nil {
		t.Fatal(err)
	}
	if n := raise(at.AddDate(1, 0, 0)); n != 0 {
		t.Fatal("a release brought back alarms the workflow's save had cleared")
	}

	// While a dispatcher raises them, a second finds nothing and a hold
	// waits until the first is done.
	c.Version++
	save(c)
	var mu sync.Mutex
	var order []string
	note := func(s string) { mu.Lock(); order = append(order, s); mu.Unlock() }
	raising, holding := make(chan struct{}), make(chan error)
	go func() {
		_, err := db.RaiseDueAlarms(ctx, at, 10, func(postgres.DueAlarms) time.Time {
			close(raising)
			time.Sleep(300 * time.Millisecond)
			note("raised")
			return time.Time{}
		})
		if err != nil {
			t.Error(err)
		}
	}()
	<-raising
	if n := raise(at); n != 0 {
		t.Error("two dispatchers took one case")
	}
	go func() { _, err := db.HoldAlarms(ctx, c.ID); note("held"); holding <- err }()
	if err := <-holding; err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(order, []string{"raised", "held"}) {
		t.Errorf("order %v: the hold did not wait for the raise", order)
	}
}
