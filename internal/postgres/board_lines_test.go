package postgres_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/internal/postgres/pgtest"
	"github.com/throughgate/throughgate/resettlement"
)

// syntheticCases opens n cases on the morning of opened, with release
// dates spread over a year either side so the board holds every kind of
// line: overdue before release, graced, released, no release date.
func syntheticCases(t testing.TB, n int, opened time.Time) []postgres.SyntheticCase {
	t.Helper()
	return syntheticRange(t, 0, n, opened)
}

// syntheticRange is cases from to to-1 of syntheticCases, for loading many
// in batches.
func syntheticRange(t testing.TB, from, to int, opened time.Time) []postgres.SyntheticCase {
	t.Helper()
	var out []postgres.SyntheticCase
	for i := from; i < to; i++ {
		dates := resettlement.ReleaseDates{CRD: resettlement.DateOf(opened).AddDays(i*7%400 - 60)}
		if i%9 == 0 {
			dates = resettlement.ReleaseDates{}
		}
		team := []string{"pvi-resettlement", "pvi-health", "bxi-resettlement"}[i%3]
		est := map[bool]string{true: "BXI", false: "PVI"}[team == "bxi-resettlement"]
		c, err := resettlement.Open(resettlement.OpenCase{CaseID: fmt.Sprintf("syn-%04d", i), Establishment: est, Team: team,
			Owner: fmt.Sprintf("officer-%d", i%5), ReceivedOn: resettlement.DateOf(opened).AddDays(-100), Adult: true, Dates: dates}, opened.Add(-90*24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, postgres.SyntheticCase{Case: c, Stage: c.Stage(opened), Person: postgres.Person{
			PrisonNumber: fmt.Sprintf("A%04dAA", i), Booking: "1", GivenName: "Sam", FamilyName: "Example", DateOfBirth: resettlement.D(1990, 1, 1)}})
	}
	return out
}

// TestBoardPagesWalkTheWholeBoardInOrder: keyset pages, taken one after
// another, give every shown line once, in resettlement.BoardOrder, for every
// scope and filter.
func TestBoardPagesWalkTheWholeBoardInOrder(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	if err := db.LoadSynthetic(ctx, syntheticCases(t, 300, time.Now())); err != nil {
		t.Fatal(err)
	}
	for _, q := range []postgres.BoardQuery{
		{Scope: postgres.Scope{All: true}},
		{Scope: postgres.Scope{Teams: []string{"pvi-health"}}},
		{Scope: postgres.Scope{Establishments: []string{"PVI"}}, Owner: "officer-2"},
		{Scope: postgres.Scope{All: true}, Pathway: "accommodation"},
	} {
		all, err := db.Board(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(all) < 20 {
			t.Fatalf("%+v: %d lines, too few to test pages", q, len(all))
		}
		sorted := slices.IsSortedFunc(all, func(a, b postgres.BoardLine) int {
			switch {
			case a.Order.Before(b.Order):
				return -1
			case b.Order.Before(a.Order):
				return 1
			}
			return 0
		})
		if !sorted {
			t.Errorf("%+v: lines not in board order", q)
		}
		var walked []postgres.BoardLine
		page := q
		page.Limit = 7
		for {
			lines, err := db.Board(ctx, page)
			if err != nil {
				t.Fatal(err)
			}
			walked = append(walked, lines...)
			if len(lines) < page.Limit {
				break
			}
			last := lines[len(lines)-1]
			page.After = &postgres.BoardKey{Order: last.Order, CaseID: last.CaseID, StepID: last.StepID}
		}
		if len(walked) != len(all) {
			t.Fatalf("%+v: pages gave %d lines, the board has %d", q, len(walked), len(all))
		}
		for i := range all {
			if walked[i].CaseID != all[i].CaseID || walked[i].StepID != all[i].StepID {
				t.Fatalf("%+v: line %d is %s/%s in pages, %s/%s on the board", q, i, walked[i].CaseID, walked[i].StepID, all[i].CaseID, all[i].StepID)
			}
		}
		teams, _, err := db.BoardCounts(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		total := 0
		for _, c := range teams {
			total += c.Lines
		}
		if total != len(all) {
			t.Errorf("%+v: counts add up to %d, the board has %d lines", q, total, len(all))
		}
	}
}

// TestRegradeWhenTheClockSaysSo: a step not yet due is off the board; once
// its due instant has passed the re-grader puts it on, and nothing earlier.
func TestRegradeWhenTheClockSaysSo(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	opened := time.Date(2026, 11, 23, 10, 0, 0, 0, resettlement.London)
	c, err := resettlement.Open(resettlement.OpenCase{CaseID: "case-r0001", Establishment: "PVI", Team: "pvi-resettlement", Owner: "officer-1",
		ReceivedOn: resettlement.D(2026, 11, 20), Adult: true, Dates: resettlement.ReleaseDates{CRD: resettlement.D(2027, 3, 10)}}, opened)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.LoadSynthetic(ctx, []postgres.SyntheticCase{{Case: c, Stage: c.Stage(opened), Person: postgres.Person{
		PrisonNumber: "A0001AA", Booking: "1", GivenName: "Sam", FamilyName: "Example", DateOfBirth: resettlement.D(1990, 1, 1)}}}); err != nil {
		t.Fatal(err)
	}
	// Loaded, it was graded at the real time; grade it as of its opening.
	pgtest.Int(t, db, `with u as (update board_lines set regrade_at = '-infinity' returning 1) select count(*) from u`)
	board := func(now time.Time, wantGraded int) []postgres.BoardLine {
		t.Helper()
		if n, err := db.Regrade(ctx, now, 10); err != nil || n != wantGraded {
			t.Fatalf("at %s: re-graded %d cases (%v), want %d", now, n, err, wantGraded)
		}
		l, err := db.Board(ctx, postgres.BoardQuery{Scope: postgres.Scope{All: true}})
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	if got := board(opened, 1); len(got) != 0 {
		t.Errorf("at opening the board shows %d lines", len(got))
	}
	// Immediate needs are due Monday 23 November 17:00.
	if got := board(opened.Add(7*time.Hour), 0); len(got) != 0 {
		t.Errorf("at 17:00, not yet overdue, the board shows %d lines", len(got))
	}
	got := board(opened.Add(7*time.Hour+time.Second), 1)
	if len(got) != 1 || got[0].StepID != resettlement.StepImmediateNeeds || got[0].Order.Severity != resettlement.SeverityMedium {
		t.Fatalf("just after 17:00 the board shows %+v, want immediate needs, medium", got)
	}
	if got := board(opened.Add(8*time.Hour), 0); len(got) != 1 {
		t.Errorf("an hour later: %d lines", len(got))
	}
}
