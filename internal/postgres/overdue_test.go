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

// overdueOracle counts, from the cases as loaded (no status change was
// ever recorded, so each step had its opening status until it was last
// updated), the steps f's filters select that were overdue at t.
func overdueOracle(cases []postgres.SyntheticCase, f postgres.OverdueFilter, t time.Time) int {
	n := 0
	for _, sc := range cases {
		c := sc.Case
		if !f.Scope.All && !slices.Contains(f.Scope.Teams, c.Team) && !slices.Contains(f.Scope.Establishments, c.Establishment) {
			continue
		}
		if f.Establishment != "" && c.Establishment != f.Establishment || f.Team != "" && c.Team != f.Team || c.OpenedAt.After(t) {
			continue
		}
		for _, s := range c.Steps {
			if s.Due.IsZero() || !s.Due.Before(t) || s.Kind == resettlement.KindIdentify {
				continue
			}
			if !s.Status.Open() && !s.Updated.After(t) { // closed before t
				continue
			}
			if f.Owner != "" && s.Owner.Staff != f.Owner || f.Pathway != "" && string(s.Pathway) != f.Pathway {
				continue
			}
			n++
		}
	}
	return n
}

// TestOverdueChartCountsEachPastInstantOnce: the board's weekly chart
// counts a past instant once, for every case, and then reads the kept
// counts for any scope and filter; the present is counted from the steps
// as they stand.
func TestOverdueChartCountsEachPastInstantOnce(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	now := time.Now()
	cases := syntheticCases(t, 300, now)
	if err := db.LoadSynthetic(ctx, cases); err != nil {
		t.Fatal(err)
	}
	today := resettlement.DateOf(now)
	ends := []time.Time{today.AddDays(-28).At(0), today.AddDays(-14).At(0), today.AddDays(-7).At(0), today.At(0), now}
	filters := []postgres.OverdueFilter{
		{Scope: postgres.Scope{All: true}},
		{Scope: postgres.Scope{Teams: []string{"pvi-health"}}},
		{Scope: postgres.Scope{Establishments: []string{"PVI"}}, Owner: "officer-2"},
		{Scope: postgres.Scope{All: true}, Pathway: "accommodation"},
		{Scope: postgres.Scope{All: true}, Establishment: "BXI", Team: "bxi-resettlement"},
	}
	before := map[int][]int{}
	for i, f := range filters {
		got, err := db.OverdueAt(ctx, f, ends, now)
		if err != nil {
			t.Fatal(err)
		}
		for j, at := range ends {
			if want := overdueOracle(cases, f, at); got[j] != want {
				t.Errorf("filter %+v at %s: %d overdue, want %d", f, at.Format(time.DateTime), got[j], want)
			}
		}
		before[i] = got
	}
	if got := before[0]; got[len(got)-1] == 0 || got[0] == 0 {
		t.Fatalf("counts %v: the cases give nothing to count", got)
	}

	// Every past instant up to today's midnight was counted once; the
	// present was not.
	if counted := pgtest.Int(t, db, `select count(*) from overdue_counted`); counted != len(ends)-1 {
		t.Errorf("%d instants counted, want %d (every one but now)", counted, len(ends)-1)
	}

	// Work done since leaves the past as it was counted and empties the present.
	if _, err := pgtest.AsApp(t, db).Exec(ctx, `update steps set status = 'done', updated = now()`); err != nil {
		t.Fatal(err)
	}
	for i, f := range filters {
		got, err := db.OverdueAt(ctx, f, ends, now.Add(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for j := range ends[:len(ends)-1] {
			if got[j] != before[i][j] {
				t.Errorf("filter %+v: instant %d now counts %d, was counted %d", f, j, got[j], before[i][j])
			}
		}
		if last := got[len(got)-1]; last != 0 {
			t.Errorf("filter %+v: %d overdue now that every step is done", f, last)
		}
	}

	// Two processes counting one new instant at once leave one count.
	at := today.AddDays(-21).At(0)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() { errs[i] = db.CountOverdueAt(ctx, at) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, err := db.OverdueAt(ctx, filters[0], []time.Time{at}, now)
	if err != nil {
		t.Fatal(err)
	}
	if want := overdueOracle(cases, filters[0], at); got[0] != want {
		t.Errorf("counted at once by four: %d, want %d", got[0], want)
	}
}
