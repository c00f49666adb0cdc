package postgres_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/internal/postgres/pgtest"
)

// Slots of the shared send rate, taken at once by four senders, come out
// one interval apart on the database's clock, in one sequence.
func TestSendSlotsSharedAndSpaced(t *testing.T) {
	db := pgtest.New(t)
	const interval = 200 * time.Millisecond // taken, never waited for
	var (
		mu    sync.Mutex
		slots []time.Time
		waits []time.Duration
		wg    sync.WaitGroup
	)
	for range 4 {
		wg.Go(func() {
			for range 5 {
				slot, wait, err := db.TakeSendSlot(context.Background(), "smtp", interval)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				slots, waits = append(slots, slot), append(waits, wait)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	slices.SortFunc(slots, func(a, b time.Time) int { return a.Compare(b) })
	for i := 1; i < len(slots); i++ {
		if d := slots[i].Sub(slots[i-1]); d < interval {
			t.Errorf("slots %d and %d are %s apart, want at least %s", i-1, i, d, interval)
		}
	}
	// Taken in a burst, the last is some 19 intervals away.
	if last := slices.Max(waits); last < 10*interval || last > 20*interval {
		t.Errorf("longest wait %s, want about %s", last, 19*interval)
	}
	// Another relay has a rate of its own.
	if _, wait, err := db.TakeSendSlot(context.Background(), "other", interval); err != nil || wait != 0 {
		t.Errorf("another key waited %s (%v)", wait, err)
	}
}

// A claim fixes the row's Message-ID, is renewed only by its holder, and
// is taken over when its lease runs out; the superseded holder's record
// then changes nothing.
func TestClaimLeaseAndFence(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	for i := range 2 {
		if _, err := db.EnqueueEmail(ctx, postgres.Email{AlarmKey: fmt.Sprintf("digest/%d", i), Recipient: "a@pvi.example.org",
			Kind: "digest", Template: "digest", Data: map[string]any{}}); err != nil {
			t.Fatal(err)
		}
	}
	a, err := db.ClaimEmails(ctx, postgres.Claim{By: "a#1", N: 10, Lease: 300 * time.Millisecond, MessageIDDomain: "a.example"})
	if err != nil || len(a) != 2 {
		t.Fatalf("claim: %d rows, %v", len(a), err)
	}
	ids := []int64{a[0].ID, a[1].ID}
	if want := fmt.Sprintf("<outbox-%d@a.example>", a[0].ID); a[0].MessageID != want || a[0].Attempts != 1 {
		t.Errorf("claimed %+v, want Message-ID %s and attempt 1", a[0], want)
	}
	if got, _ := db.ClaimEmails(ctx, postgres.Claim{By: "b#2", N: 10, Lease: time.Second, MessageIDDomain: "b.example"}); len(got) != 0 {
		t.Errorf("took %d leased rows", len(got))
	}
	if got, err := db.RenewClaims(ctx, "b#2", ids, time.Second); err != nil || len(got) != 0 {
		t.Errorf("a stranger renewed %v (%v)", got, err)
	}
	if got, err := db.RenewClaims(ctx, "a#1", ids, 100*time.Millisecond); err != nil || len(got) != 2 {
		t.Errorf("the holder renewed %v (%v)", got, err)
	}
	time.Sleep(150 * time.Millisecond)
	b, err := db.ClaimEmails(ctx, postgres.Claim{By: "b#2", N: 10, Lease: time.Second, MessageIDDomain: "b.example"})
	if err != nil || len(b) != 2 {
		t.Fatalf("takeover: %d rows, %v", len(b), err)
	}
	if b[0].MessageID != a[0].MessageID || b[0].Attempts != 2 {
		t.Errorf("taken over as %+v, want the same Message-ID at attempt 2", b[0])
	}
	if got, _ := db.RenewClaims(ctx, "a#1", ids, time.Second); len(got) != 0 {
		t.Errorf("the old holder still renews %v", got)
	}
	// The old holder's late record is kept as an attempt but moves nothing.
	if err := db.RecordOutcome(ctx, postgres.Outcome{ID: a[0].ID, Attempt: 1, Sender: "a#1", MessageID: a[0].MessageID}); err != nil {
		t.Fatal(err)
	}
	if n := pgtest.Int(t, db, `select count(*) from outbox where id = $1 and state = 'sending' and claimed_by = 'b#2'`, a[0].ID); n != 1 {
		t.Error("a superseded claim's record changed the row")
	}
	if err := db.RecordOutcome(ctx, postgres.Outcome{ID: b[0].ID, Attempt: 2, Sender: "b#2", MessageID: b[0].MessageID}); err != nil {
		t.Fatal(err)
	}
	if n := pgtest.Int(t, db, `select count(*) from outbox where id = $1 and state = 'sent' and claimed_by is null`, a[0].ID); n != 1 {
		t.Error("the holder's record did not mark the row sent")
	}
	if n := pgtest.Int(t, db, `select count(*) from outbox_attempts where outbox_id = $1`, a[0].ID); n != 2 {
		t.Errorf("%d attempts recorded, want 2", n)
	}
}
