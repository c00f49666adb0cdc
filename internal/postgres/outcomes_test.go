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

// What SaveCase keeps in the case's row for the report (migration 018):
// the day of release once the release step is done, and the outcomes the
// closure recorded, each null when not recorded.
func TestSaveCaseKeepsTheReportsColumns(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	conn := pgtest.AsOwner(t, db)
	yes, no := true, false
	policy := resettlement.DefaultPolicy()
	now := time.Date(2026, 3, 10, 10, 0, 0, 0, resettlement.London)
	type want struct {
		released *time.Time
		outcomes [6]*bool // in the order of postgres.OutcomeMeasures
	}
	jan14 := time.Date(2026, 1, 14, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name  string
		crd   resettlement.Date
		close *resettlement.Close
		want  want
	}{
		{"not yet released", resettlement.D(2026, 6, 3), nil, want{}},
		{"released, still open", resettlement.D(2026, 1, 14), nil, want{released: &jan14}},
		{"released and closed with outcomes", resettlement.D(2026, 1, 14),
			&resettlement.Close{Reason: resettlement.CloseCompleted, Outcome: resettlement.Outcome{AccommodationNightOne: &yes,
				Accommodation12Weeks: &no, GPRegistered: &yes, BenefitsInPayment: &no, EmploymentOrTraining: &yes}},
			want{released: &jan14, outcomes: [6]*bool{&yes, &no, &yes, nil, nil, &no}}},
		{"released and closed with nothing recorded", resettlement.D(2026, 1, 14),
			&resettlement.Close{Reason: resettlement.CloseSupportDeclined}, want{released: &jan14}},
		{"closed before release: outcomes not counted", resettlement.D(2026, 6, 3),
			&resettlement.Close{Reason: resettlement.CloseDeported, Outcome: resettlement.Outcome{IDObtained: &yes}}, want{}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id := fmt.Sprintf("case-t%04d", i)
			if _, _, err := db.CreateCase(ctx, postgres.NewCase{ID: id, Person: postgres.Person{PrisonNumber: fmt.Sprintf("A%04dAA", i), Booking: "1",
				GivenName: "Sam", FamilyName: "Example", DateOfBirth: resettlement.D(1990, 5, 17)}, OpenedBy: "officer-1",
				Establishment: "PVI", Team: "pvi-resettlement", ReceivedOn: resettlement.D(2025, 1, 6)}); err != nil {
				t.Fatal(err)
			}
			c, err := resettlement.Open(resettlement.OpenCase{CaseID: id, Establishment: "PVI", Team: "pvi-resettlement",
				ReceivedOn: resettlement.D(2025, 1, 6), Dates: resettlement.ReleaseDates{CRD: tc.crd}, Adult: true, Policy: &policy}, now)
			if err != nil {
				t.Fatal(err)
			}
			if tc.close != nil {
				cl := *tc.close
				cl.Meta = resettlement.Meta{RequestID: "close-" + id, By: "officer-1"}
				if err := c.Close(cl, now); err != nil {
					t.Fatal(err)
				}
			}
			if err := db.SaveCase(ctx, resettlement.Projection{Case: c, Stage: c.Stage(now)}, now); err != nil {
				t.Fatal(err)
			}
			var got want
			dst := []any{&got.released}
			for j := range got.outcomes {
				dst = append(dst, &got.outcomes[j])
			}
			if err := conn.QueryRow(ctx, `select released_on, outcome_accommodation_night_one, outcome_accommodation_12_weeks,
				outcome_gp_registered, outcome_id_obtained, outcome_bank_account, outcome_benefits_in_payment from cases where id = $1`, id).Scan(dst...); err != nil {
				t.Fatal(err)
			}
			if show(got.released) != show(tc.want.released) {
				t.Errorf("released_on %s, want %s", show(got.released), show(tc.want.released))
			}
			for j, m := range postgres.OutcomeMeasures {
				if show(got.outcomes[j]) != show(tc.want.outcomes[j]) {
					t.Errorf("%s: %s, want %s", m, show(got.outcomes[j]), show(tc.want.outcomes[j]))
				}
			}
		})
	}
}

// show prints a nullable column for a comparison.
func show[T any](v *T) string {
	if v == nil {
		return "null"
	}
	return fmt.Sprint(*v)
}

// Cases saved before migration 018 are counted by it as the report counted
// them from their state: the released ones, with their closure's outcomes.
func TestOutcomesMigrationBackfills(t *testing.T) {
	conn, ownerURL, appURL := migratedTo(t, 17)
	ctx := context.Background()
	for _, c := range []struct {
		id, releaseStatus, state string
		releaseDay               string
	}{
		// Released on the day recorded, closed with two outcomes.
		{"case-m0001", "done", `{"released_on": "2026-01-16", "closure": {"reason": "completed", "outcome": {"gp_registered": true, "bank_account": false}}}`, "2026-01-14"},
		// Opened after release: the release day, nothing recorded yet.
		{"case-m0002", "done", `{}`, "2026-02-04"},
		// Not released.
		{"case-m0003", "not-started", `{"closure": {"reason": "deported", "outcome": {"gp_registered": true}}}`, "2026-06-03"},
	} {
		if _, err := conn.Exec(ctx, `insert into cases (id, prison_number, booking, given_name, family_name, date_of_birth, opened_by,
			establishment, team_id, received_on, release_day, state) values ($1, $1, '1', 'Sam', 'Example', '1990-05-17', 'officer-1',
			'PVI', 'pvi-resettlement', '2025-01-06', $2, $3)`, c.id, c.releaseDay, c.state); err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(ctx, `insert into steps (case_id, id, kind, title, status, owner_team, due_date, updated)
			values ($1, 'release', 'release', 'Release day', $2, 'pvi-resettlement', $3, now())`, c.id, c.releaseStatus, c.releaseDay); err != nil {
			t.Fatal(err)
		}
	}
	db := migrateRest(t, ownerURL, appURL)
	rows, err := db.Outcomes(ctx, postgres.OutcomeFilter{Scope: postgres.Scope{All: true},
		From: time.Date(2025, 12, 1, 12, 0, 0, 0, time.UTC), To: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Month.Month() != time.January || rows[0].Released != 1 || rows[1].Month.Month() != time.February || rows[1].Released != 1 {
		t.Fatalf("%+v, want one release in January and one in February", rows)
	}
	if c := rows[0].Counts[2]; c != (postgres.OutcomeCount{Yes: 1}) {
		t.Errorf("GP in January %+v", c)
	}
	if c := rows[0].Counts[4]; c != (postgres.OutcomeCount{No: 1}) {
		t.Errorf("bank account in January %+v", c)
	}
	if rows[1].Counts[2] != (postgres.OutcomeCount{}) {
		t.Errorf("February %+v", rows[1])
	}
}

// The outcomes report over 300,000 cases: 120 prisons with a team each,
// four in five people released over five years, seven in ten of those
// closed with outcomes recorded, and a saved state of about a kilobyte and
// a half each, as a national caseload has. Seeded in one statement; run
// with go test -run '^$' -bench BenchmarkOutcomes ./internal/postgres/.
func BenchmarkOutcomes300k(b *testing.B) {
	const n = 300_000
	db := pgtest.New(b)
	ctx := context.Background()
	conn := pgtest.AsOwner(b, db)
	start := time.Now()
	if _, err := conn.Exec(ctx, `
		insert into cases (id, prison_number, booking, given_name, family_name, date_of_birth, opened_by, establishment,
			team_id, received_on, release_day, closed_at, state, released_on, outcome_accommodation_night_one,
			outcome_accommodation_12_weeks, outcome_gp_registered, outcome_id_obtained, outcome_bank_account, outcome_benefits_in_payment)
		select 'bench-' || i, 'A' || lpad(i::text, 6, '0'), '1', 'Sam', 'Example', date '1990-01-01' + i % 9000, 'officer-1',
			'E' || lpad((i % 120)::text, 3, '0'), 'team-' || lpad((i % 120)::text, 3, '0'), date '2020-06-01' + i % 1800,
			r.day, case when r.closed then r.day + 90 end,
			jsonb_build_object('id', 'bench-' || i, 'released_on', r.day, 'policy', repeat('p', 1200)),
			case when r.released then r.day end,
			case when r.closed then h % 3 > 0 end, case when r.closed then h % 5 > 1 end, case when r.closed and h % 7 > 0 then h % 2 = 0 end,
			case when r.closed then h % 4 > 0 end, case when r.closed and h % 11 > 0 then h % 3 = 0 end, case when r.closed then h % 6 > 1 end
		from generate_series(1, $1) i,
			lateral (select hashint4(i)::bigint & 2147483647 as h) hh,
			lateral (select date '2021-12-01' + (i::bigint * 7919 % 1826)::int as day, i % 5 > 0 as released, i % 5 > 0 and i % 10 < 7 as closed) r`, n); err != nil {
		b.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `vacuum analyze cases`); err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %d cases in %s", n, time.Since(start).Round(time.Millisecond))

	year := func(s postgres.Scope, team string, months int) postgres.OutcomeFilter {
		to := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
		return postgres.OutcomeFilter{Scope: s, Team: team, From: to.AddDate(0, -months, 0), To: to}
	}
	for _, bc := range []struct {
		name string
		f    postgres.OutcomeFilter
		want string // the same count, straight from the table
	}{
		{"one team 12 months", year(postgres.Scope{Teams: []string{"team-007"}}, "", 12),
			`team_id = 'team-007' and released_on >= '2025-12-01' and released_on < '2026-12-01'`},
		{"one prison 12 months", year(postgres.Scope{Establishments: []string{"E042"}}, "", 12),
			`establishment = 'E042' and released_on >= '2025-12-01' and released_on < '2026-12-01'`},
		{"a head of service's 10 teams 12 months", year(postgres.Scope{Teams: []string{"team-000", "team-001", "team-002", "team-003",
			"team-004", "team-005", "team-006", "team-007", "team-008", "team-009"}}, "", 12),
			`team_id between 'team-000' and 'team-009' and released_on >= '2025-12-01' and released_on < '2026-12-01'`},
		{"all prisons 12 months", year(postgres.Scope{All: true}, "", 12), `released_on >= '2025-12-01' and released_on < '2026-12-01'`},
		{"all prisons 60 months", year(postgres.Scope{All: true}, "", 60), `released_on >= '2021-12-01' and released_on < '2026-12-01'`},
	} {
		want := pgtest.Int(b, db, `select count(*) from cases where `+bc.want)
		if want == 0 {
			b.Fatalf("%s: the seed has no releases to count", bc.name)
		}
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				rows, err := db.Outcomes(ctx, bc.f)
				if err != nil {
					b.Fatal(err)
				}
				got := 0
				for _, r := range rows {
					got += r.Released
				}
				if got != want {
					b.Fatalf("%d released, want %d", got, want)
				}
			}
		})
	}
}
