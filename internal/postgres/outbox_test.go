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
	"github.com/throughgate/throughgate/resettlement"
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

// An alarm's emails are written together or not at all, less those
// already there, and a digest reader's is held for the digest.
func TestEnqueueEmailsAllOrNone(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	if _, _, err := db.CreateCase(ctx, postgres.NewCase{ID: "case-one", Person: postgres.Person{PrisonNumber: "A0001BC",
		Booking: "1", GivenName: "Sam", FamilyName: "Example", DateOfBirth: resettlement.D(1990, 5, 17)}, OpenedBy: "officer-1",
		Establishment: "PVI", Team: "pvi-resettlement", ReceivedOn: resettlement.D(2026, 2, 1)}); err != nil {
		t.Fatal(err)
	}
	email := func(caseID, to string, digest bool) postgres.Email {
		return postgres.Email{CaseID: caseID, AlarmKey: "c0/unassigned/1", Recipient: to, RecipientID: "x", Kind: "unassigned",
			Template: "alert", Data: map[string]string{"to": to}, Digest: digest}
	}
	// A row for a case that does not exist fails the statement: the
	// other row is not written either.
	if _, err := db.EnqueueEmails(ctx, []postgres.Email{email("case-one", "queue@pvi.example.org", false), email("case-none", "mo@pvi.example.org", false)}); err == nil {
		t.Fatal("an email for no case was written")
	}
	if n := pgtest.Int(t, db, `select count(*) from outbox`); n != 0 {
		t.Fatalf("%d rows after a failed statement, want 0", n)
	}
	n, err := db.EnqueueEmails(ctx, []postgres.Email{email("case-one", "queue@pvi.example.org", false), email("case-one", "mo@pvi.example.org", true)})
	if err != nil || n != 2 {
		t.Fatalf("wrote %d (%v), want 2", n, err)
	}
	n, err = db.EnqueueEmails(ctx, []postgres.Email{email("case-one", "mo@pvi.example.org", true), email("case-one", "head@pvi.example.org", false)})
	if err != nil || n != 1 {
		t.Fatalf("again with one new recipient: wrote %d (%v), want 1", n, err)
	}
	rows, err := db.CaseEmails(ctx, "case-one")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows {
		got = append(got, r.Recipient+" "+r.State+" "+string(r.Data))
	}
	want := []string{`queue@pvi.example.org pending {"to": "queue@pvi.example.org"}`, `mo@pvi.example.org digest {"to": "mo@pvi.example.org"}`,
		`head@pvi.example.org pending {"to": "head@pvi.example.org"}`}
	if !slices.Equal(got, want) {
		t.Errorf("outbox:\n%v\nwant\n%v", got, want)
	}
}
