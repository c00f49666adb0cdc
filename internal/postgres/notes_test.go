package postgres_test

import (
	"context"
	"testing"

	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/internal/postgres/pgtest"
	"github.com/throughgate/throughgate/resettlement"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// twoCases records two cases, as opening them does before their workflows
// start.
func twoCases(t *testing.T, db *postgres.DB) (string, string) {
	t.Helper()
	ctx := context.Background()
	for _, c := range []struct{ id, pn string }{{"case-a0001", "A1111AA"}, {"case-b0002", "B2222BB"}} {
		if _, _, err := db.CreateCase(ctx, postgres.NewCase{ID: c.id, Person: postgres.Person{PrisonNumber: c.pn, Booking: "1",
			GivenName: "Sam", FamilyName: "Example", DateOfBirth: resettlement.D(1990, 5, 17)}, OpenedBy: "officer-1",
			Establishment: "PVI", Team: "pvi-resettlement", ReceivedOn: resettlement.D(2026, 2, 1)}); err != nil {
			t.Fatal(err)
		}
	}
	return "case-a0001", "case-b0002"
}

// A note's request id is unique within its case, not across cases: the
// same id on another case is another note.
func TestNoteOncePerCase(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	a, b := twoCases(t, db)
	na, err := db.AddNoteOnce(ctx, a, "officer-1", "About A.", "officer-1:ActOnStep:k1")
	if err != nil {
		t.Fatal(err)
	}
	again, err := db.AddNoteOnce(ctx, a, "officer-1", "About A.", "officer-1:ActOnStep:k1")
	if err != nil || again != na {
		t.Fatalf("a retry stored another note: %d, %v (want %d)", again, err, na)
	}
	nb, err := db.AddNoteOnce(ctx, b, "officer-1", "About B.", "officer-1:ActOnStep:k1")
	if err != nil {
		t.Fatal(err)
	}
	if nb == na {
		t.Fatalf("case %s was given case %s's note %d", b, a, na)
	}
	if n := pgtest.Int(t, db, `select count(*) from notes where id = $1 and case_id = $2 and body = 'About B.'`, nb, b); n != 1 {
		t.Fatalf("note %d is not case %s's", nb, b)
	}
}
