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
		p.Alarms, p.AlarmsAt = c.NextRaise()
		if err := db.SaveCase(ctx, p, now); err != nil {
			t.Fatal(err)
		}
	}
	save(c)
	want, at := c.NextRaise()
	if len(want) == 0 {
		t.Fatal("the case has no alarm to come")
	}
	var got []postgres.DueAlarms
	raise := func(now time.Time) int {
		t.Helper()
		got = nil
		n, err := db.RaiseDueAlarms(ctx, now, 10, func(d postgres.DueAlarms) {
			got = append(got, d)
			// Raising writes the outbox, whose key refers to the case
			// locked for the raise, from another connection.
			ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			for _, a := range d.Alarms {
				if _, err := db.EnqueueEmail(ctx, postgres.Email{CaseID: d.Case.ID, AlarmKey: a.Key, Recipient: "olu.officer@pvi.example.org",
					RecipientID: "officer-1", Kind: string(a.Kind), Template: "alert", Data: map[string]string{}}); err != nil {
					t.Errorf("writing the outbox while raising: %v", err)
				}
			}
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
	same := func(a, b resettlement.Alarm) bool { a.At, b.At = a.At.UTC(), b.At.UTC(); return a == b }
	if d := got[0]; d.Case.ID != c.ID || !d.At.Equal(at) || !slices.EqualFunc(d.Alarms, want, same) || len(d.Case.Steps) != len(c.Steps) {
		t.Errorf("raised %+v at %s with %d steps, want %+v at %s", d.Alarms, d.At, len(d.Case.Steps), want, at)
	}
	if n := raise(at.Add(time.Hour)); n != 0 {
		t.Fatalf("raised again: %d", n)
	}

	// A save of an older version does not bring them back; a newer does.
	old := c.Clone()
	save(old)
	if n := raise(at); n != 0 {
		t.Fatal("an older save set the alarms again")
	}
	c.Version++
	save(c)

	// A command on its way holds them.
	if err := db.HoldAlarms(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if n := raise(at); n != 0 {
		t.Fatal("held alarms were raised")
	}

	// While a dispatcher raises them, a second finds nothing and a hold
	// waits until the first is done.
	c.Version++
	save(c)
	var mu sync.Mutex
	var order []string
	note := func(s string) { mu.Lock(); order = append(order, s); mu.Unlock() }
	raising, held := make(chan struct{}), make(chan error)
	go func() {
		_, err := db.RaiseDueAlarms(ctx, at, 10, func(postgres.DueAlarms) {
			close(raising)
			time.Sleep(300 * time.Millisecond)
			note("raised")
		})
		if err != nil {
			t.Error(err)
		}
	}()
	<-raising
	if n := raise(at); n != 0 {
		t.Error("two dispatchers took one case")
	}
	go func() { err := db.HoldAlarms(ctx, c.ID); note("held"); held <- err }()
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(order, []string{"raised", "held"}) {
		t.Errorf("order %v: the hold did not wait for the raise", order)
	}
}
