package postgres_test

import (
	"context"
	"testing"

	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/internal/postgres/pgtest"
	"github.com/throughgate/throughgate/resettlement"
)

// A batch's openings in one transaction come out as ClaimKey then
// CreateCase would have left each: recorded; found by its request id (an
// attempt that died before recording its key's result); opened already
// under its key; the key claimed for another request; the person's open
// case for the booking, with the key released.
func TestOpenImportCases(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	opening := func(id, pn, key string) postgres.ImportOpening {
		return postgres.ImportOpening{Key: postgres.IdempotencyKey{Staff: "officer-1", Route: "open", Key: key}, Hash: []byte(key),
			Case: postgres.NewCase{ID: id, Person: postgres.Person{PrisonNumber: pn, Booking: "1", GivenName: "Sam", FamilyName: "Example",
				DateOfBirth: resettlement.D(1990, 5, 17)}, OpenedBy: "officer-1", RequestID: "officer-1:open:" + key,
				Establishment: "PVI", Team: "pvi-resettlement", Owner: "officer-1", ReceivedOn: resettlement.D(2026, 2, 1)}}
	}
	// What earlier attempts left: a case recorded under its key with no
	// result, a case opened and its key's result recorded, a key claimed
	// for another request, and someone else's open case for a person.
	retried, done, reused := opening("case-r", "R1111RR", "k-retried"), opening("case-d", "D1111DD", "k-done"), opening("case-u", "U1111UU", "k-reused")
	if _, err := db.OpenImportCases(ctx, []postgres.ImportOpening{retried, done}); err != nil {
		t.Fatal(err)
	}
	if err := db.SetImportKeyResults(ctx, []postgres.IdempotencyKey{done.Key}, []string{"case-d"}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ClaimKey(ctx, reused.Key, []byte("another request")); err != nil {
		t.Fatal(err)
	}
	other := opening("case-o", "O1111OO", "k-other")
	other.Key.Staff, other.Case.RequestID = "officer-2", "officer-2:open:k-other"
	if _, err := db.OpenImportCases(ctx, []postgres.ImportOpening{other}); err != nil {
		t.Fatal(err)
	}

	// The batch: each again with a new case id, as a retry makes, and a
	// new person.
	retried.Case.ID, done.Case.ID = "case-r2", "case-d2"
	taken := opening("case-t", "O1111OO", "k-taken")
	fresh := opening("case-f", "F1111FF", "k-fresh")
	got, err := db.OpenImportCases(ctx, []postgres.ImportOpening{retried, done, reused, taken, fresh})
	if err != nil {
		t.Fatal(err)
	}
	want := []postgres.ImportOpened{{CaseID: "case-r"}, {KeyResult: "case-d"}, {KeyReused: true}, {OpenCase: "case-o"},
		{CaseID: "case-f", Created: true}}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("opening %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	if n := pgtest.Int(t, db, `select count(*) from cases`); n != 4 { // r, d, o, f
		t.Errorf("%d cases, want 4", n)
	}
	if n := pgtest.Int(t, db, `select count(*) from idempotency_keys where key = 'k-taken'`); n != 0 {
		t.Error("the key of an opening refused for an open case is kept")
	}
	if n := pgtest.Int(t, db, `select count(*) from idempotency_keys where key = 'k-fresh' and result_case is null`); n != 1 {
		t.Error("the new opening's key is not claimed")
	}
	if err := db.SetImportKeyResults(ctx, []postgres.IdempotencyKey{fresh.Key}, []string{"case-f"}); err != nil {
		t.Fatal(err)
	}
	if first, err := db.ClaimKey(ctx, fresh.Key, fresh.Hash); err != nil || first != "case-f" {
		t.Errorf("the key's result: %q %v", first, err)
	}
	if unsaved, err := db.CasesUnsaved(ctx, []string{"case-f", "case-r", "case-none"}); err != nil || len(unsaved) != 2 {
		t.Errorf("unsaved: %v %v", unsaved, err)
	}
}
