package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/internal/postgres/pgtest"
	"github.com/throughgate/throughgate/resettlement"
)

// The outcomes report counts the people released, by prison and month of
// release, with the outcomes their cases recorded at closure: a case
// released but still open counts as released with nothing recorded; a
// case not released, or out of scope or period, not at all.
func TestOutcomes(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	yes, no := true, false
	policy := resettlement.DefaultPolicy()
	save := func(id, pn, est, team string, crd resettlement.Date, outcome *resettlement.Outcome) {
		t.Helper()
		if _, _, err := db.CreateCase(ctx, postgres.NewCase{ID: id, Person: postgres.Person{PrisonNumber: pn, Booking: "1",
			GivenName: "Sam", FamilyName: "Example", DateOfBirth: resettlement.D(1990, 5, 17)}, OpenedBy: "officer-1",
			Establishment: est, Team: team, ReceivedOn: resettlement.D(2025, 1, 6)}); err != nil {
			t.Fatal(err)
		}
		now := time.Date(2026, 3, 10, 10, 0, 0, 0, resettlement.London)
		// Opened after the release day: the release step is done on it.
		c, err := resettlement.Open(resettlement.OpenCase{CaseID: id, Establishment: est, Team: team, ReceivedOn: resettlement.D(2025, 1, 6),
			Dates: resettlement.ReleaseDates{CRD: crd}, Adult: true, Policy: &policy}, now)
		if err != nil {
			t.Fatal(err)
		}
		if outcome != nil {
			if err := c.Close(resettlement.Close{Meta: resettlement.Meta{RequestID: "close-" + id, By: "officer-1"},
				Reason: resettlement.CloseCompleted, Outcome: *outcome}, now); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.SaveCase(ctx, resettlement.Projection{Case: c, Stage: c.Stage(now)}, now); err != nil {
			t.Fatal(err)
		}
	}
	// Released in January 2026 (Wednesdays: the release day is the CRD).
	save("case-a0001", "A1111AA", "PVI", "pvi-resettlement", resettlement.D(2026, 1, 14),
		&resettlement.Outcome{AccommodationNightOne: &yes, GPRegistered: &no, IDObtained: &yes})
	save("case-b0002", "B2222BB", "PVI", "pvi-resettlement", resettlement.D(2026, 1, 21),
		&resettlement.Outcome{AccommodationNightOne: &no, IDObtained: &yes})
	save("case-c0003", "C3333CC", "PVI", "pvi-resettlement", resettlement.D(2026, 2, 4), nil) // released, not closed
	save("case-d0004", "D4444DD", "BXI", "bxi-resettlement", resettlement.D(2026, 1, 14),
		&resettlement.Outcome{AccommodationNightOne: &yes})
	save("case-e0005", "E5555EE", "PVI", "pvi-resettlement", resettlement.D(2026, 6, 3), nil) // not yet released

	rows, err := db.Outcomes(ctx, postgres.OutcomeFilter{Scope: postgres.Scope{Teams: []string{"pvi-resettlement"}},
		From: time.Date(2025, 12, 1, 12, 0, 0, 0, time.UTC), To: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 {
		t.Fatalf("%d rows, want January and February at PVI: %+v", len(rows), rows)
	}
	jan, feb := rows[0], rows[1]
	if jan.Establishment != "PVI" || jan.Month.Month() != time.January || jan.Released != 2 {
		t.Errorf("January: %+v", jan)
	}
	// accommodation on night one: one yes, one no; GP: one no; ID: two yes.
	if c := jan.Counts[0]; c.Yes != 1 || c.No != 1 {
		t.Errorf("night one %+v", c)
	}
	if c := jan.Counts[2]; c.Yes != 0 || c.No != 1 {
		t.Errorf("GP %+v", c)
	}
	if c := jan.Counts[3]; c.Yes != 2 || c.No != 0 {
		t.Errorf("ID %+v", c)
	}
	if feb.Month.Month() != time.February || feb.Released != 1 || feb.Counts[0] != (postgres.OutcomeCount{}) {
		t.Errorf("February: %+v", feb)
	}
	// The team filter and the period.
	rows, err = db.Outcomes(ctx, postgres.OutcomeFilter{Scope: postgres.Scope{All: true}, Team: "bxi-resettlement",
		From: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC), To: time.Date(2026, 2, 1, 12, 0, 0, 0, time.UTC)})
	if err != nil || len(rows) != 1 || rows[0].Establishment != "BXI" || rows[0].Released != 1 || rows[0].Counts[0].Yes != 1 {
		t.Errorf("Brixton in January: %+v %v", rows, err)
	}
}
