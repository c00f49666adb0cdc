package postgres_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/internal/postgres/pgtest"
)

func newEvent(id, prisonNumber, establishment string, at time.Time) postgres.NewEvent {
	return postgres.NewEvent{Source: "nomis", EventID: id, Type: "prison-offender-events.prisoner.received", Reason: "TRANSFERRED",
		PrisonNumber: prisonNumber, Establishment: establishment, OccurredAt: at, ReceivedAt: at.Add(time.Minute),
		Body: []byte(`{"eventType": "prison-offender-events.prisoner.received", "id": "` + id + `"}`)}
}

// An event is recorded once per source and id: the same again finds it,
// another body under the id is refused, and another source may use the id.
func TestRecordEventOncePerSourceAndID(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	at := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	first, created, err := db.RecordEvent(ctx, newEvent("ev-1", "A1234BC", "PVI", at))
	if err != nil || !created || first.Status != postgres.EventReceived || first.ID == 0 {
		t.Fatalf("first: %+v %t %v", first, created, err)
	}
	again, created, err := db.RecordEvent(ctx, newEvent("ev-1", "A1234BC", "PVI", at))
	if err != nil || created || again.ID != first.ID {
		t.Fatalf("again: %+v %t %v", again, created, err)
	}
	other := newEvent("ev-1", "A1234BC", "PVI", at)
	other.Body = []byte(`{"eventType": "something else"}`)
	if _, _, err := db.RecordEvent(ctx, other); !errors.Is(err, postgres.ErrEventIDReused) {
		t.Errorf("another body under the id: %v", err)
	}
	other.Source = "delius"
	if _, created, err := db.RecordEvent(ctx, other); err != nil || !created {
		t.Errorf("another source's id: %t %v", created, err)
	}

	o := postgres.EventOutcome{Status: postgres.EventApplied, Outcome: "moved case", CaseID: "k3m9x2p7qa", Establishment: "BXI"}
	if err := db.SetEventOutcome(ctx, first.ID, o, at.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, err := db.Event(ctx, first.ID)
	if err != nil || got.Status != postgres.EventApplied || got.CaseID != "k3m9x2p7qa" || got.Establishment != "BXI" ||
		got.ProcessedAt == nil || got.Outcome != "moved case" {
		t.Errorf("after the outcome: %+v %v", got, err)
	}
	if n, err := db.CountEventFailure(ctx, first.ID); err != nil || n != 1 {
		t.Errorf("failures: %d %v", n, err)
	}
	if err := db.SetEventOutcome(ctx, 999999, o, at); !errors.Is(err, postgres.ErrNotFound) {
		t.Errorf("outcome of no event: %v", err)
	}
}

// A person's events: in the order they happened, the latest applied of
// some types, and the review queue by establishment, with the heads'
// view of prisons no active team works at.
func TestPersonEventsAndReview(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	if err := db.PutTeam(ctx, postgres.Team{ID: "pvi-resettlement", Name: "Pentonville", Establishment: "PVI", Active: true}); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	var ids []int64
	for i, e := range []postgres.NewEvent{
		newEvent("ev-late", "A1234BC", "PVI", at.Add(2*time.Hour)),
		newEvent("ev-early", "A1234BC", "PVI", at),
		newEvent("ev-lei", "B2345CD", "LEI", at),
		newEvent("ev-bxi", "C3456DE", "BXI", at),
	} {
		rec, _, err := db.RecordEvent(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, rec.ID)
		status := []string{postgres.EventHeld, postgres.EventApplied, postgres.EventParked, postgres.EventParked}[i]
		if err := db.SetEventOutcome(ctx, rec.ID, postgres.EventOutcome{Status: status, Outcome: "x"}, at); err != nil {
			t.Fatal(err)
		}
	}
	held, err := db.PersonEvents(ctx, "A1234BC", postgres.EventHeld, postgres.EventApplied)
	if err != nil || len(held) != 2 || held[0].EventID != "ev-early" || held[1].EventID != "ev-late" {
		t.Errorf("person's events: %+v %v", held, err)
	}
	latest, ok, err := db.LatestApplied(ctx, "A1234BC", []string{"prison-offender-events.prisoner.received"}, 0)
	if err != nil || !ok || !latest.Equal(at) {
		t.Errorf("latest applied: %s %t %v", latest, ok, err)
	}
	if _, ok, err := db.LatestApplied(ctx, "A1234BC", []string{"prison-offender-events.prisoner.received"}, ids[1]); ok || err != nil {
		t.Errorf("latest applied but itself: %t %v", ok, err)
	}
	review := func(f postgres.EventReviewFilter) []string {
		t.Helper()
		f.Statuses = []string{postgres.EventHeld, postgres.EventParked}
		recs, err := db.EventReview(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range recs {
			out = append(out, r.EventID)
		}
		return out
	}
	if got := review(postgres.EventReviewFilter{Establishments: []string{"PVI"}}); len(got) != 1 || got[0] != "ev-late" {
		t.Errorf("PVI's queue: %v", got)
	}
	// BXI has no active team either: a head sees both unclaimed prisons.
	if got := review(postgres.EventReviewFilter{Establishments: []string{"PVI"}, Unclaimed: true}); len(got) != 3 {
		t.Errorf("a head's queue: %v", got)
	}
	if claimed, err := db.EstablishmentClaimed(ctx, "LEI"); err != nil || claimed {
		t.Errorf("LEI claimed: %t %v", claimed, err)
	}
	stuck, err := db.EventsToSweep(ctx, postgres.EventParked, at.Add(2*time.Minute), 10)
	if err != nil || len(stuck) != 2 {
		t.Errorf("to sweep: %+v %v", stuck, err)
	}
}

// LockPerson lets one holder at a time process a person's events, and
// others' events go on meanwhile.
func TestLockPersonSerialises(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	unlock, err := db.LockPerson(ctx, "A1234BC")
	if err != nil {
		t.Fatal(err)
	}
	other, err := db.LockPerson(ctx, "B2345CD")
	if err != nil {
		t.Fatal(err)
	}
	other()
	var mu sync.Mutex
	order := []string{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		u, err := db.LockPerson(ctx, "A1234BC")
		if err != nil {
			t.Error(err)
			return
		}
		mu.Lock()
		order = append(order, "second")
		mu.Unlock()
		u()
	}()
	time.Sleep(200 * time.Millisecond)
	mu.Lock()
	order = append(order, "first")
	mu.Unlock()
	unlock()
	<-done
	if len(order) != 2 || order[0] != "first" {
		t.Errorf("order %v", order)
	}
	cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	u, err := db.LockPerson(cctx, "A1234BC")
	if err != nil {
		t.Fatalf("the lock was left behind: %v", err)
	}
	u()
}
