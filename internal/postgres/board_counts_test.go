package postgres_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/internal/postgres/pgtest"
	"github.com/throughgate/throughgate/resettlement"
)

// countQueries are the scopes and filters the counts are checked under.
var countQueries = []postgres.BoardQuery{
	{Scope: postgres.Scope{All: true}},
	{Scope: postgres.Scope{Teams: []string{"pvi-health"}}},
	{Scope: postgres.Scope{Establishments: []string{"BXI"}}},
	{Scope: postgres.Scope{Establishments: []string{"BXI"}, Teams: []string{"pvi-health"}}},
	{Scope: postgres.Scope{Establishments: []string{"PVI"}}, Owner: "officer-2"},
	{Scope: postgres.Scope{All: true}, Pathway: "accommodation"},
	{Scope: postgres.Scope{All: true}, Establishment: "PVI", Team: "pvi-resettlement"},
	{Scope: postgres.Scope{All: true}, Owner: "officer-9"},
	{Scope: postgres.Scope{}},
}

// countOf keys a BoardCount: by team (teams true) or by pathway.
type countOf struct {
	teams    bool
	key      string
	stalled  bool
	severity resettlement.Severity
}

// storedLine is a row of board_lines as the oracle reads it.
type storedLine struct {
	est, team, ownerTeam, staff, pathway, step string
	sev                                        int16
}

// directCounts is the oracle: the lines of board_lines counted here, with
// the board's rules written out again — on the board means severity above
// 0; in scope means all, or the line's case's establishment or team is one
// of the scope's.
func directCounts(lines []storedLine, q postgres.BoardQuery) map[countOf]int {
	out := map[countOf]int{}
	for _, l := range lines {
		s := q.Scope
		switch {
		case l.sev <= 0:
		case !s.All && !slices.Contains(s.Establishments, l.est) && !slices.Contains(s.Teams, l.team):
		case q.Establishment != "" && l.est != q.Establishment, q.Team != "" && l.team != q.Team,
			q.Owner != "" && l.staff != q.Owner, q.Pathway != "" && l.pathway != q.Pathway:
		default:
			out[countOf{true, l.ownerTeam, l.step == "", resettlement.Severity(l.sev)}]++
			out[countOf{false, l.pathway, l.step == "", resettlement.Severity(l.sev)}]++
		}
	}
	return out
}

// checkCounts fails unless BoardCounts agrees with the oracle under every
// query; it returns how many lines the whole board has.
func checkCounts(t *testing.T, db *postgres.DB, owner *pgx.Conn, when string) int {
	t.Helper()
	ctx := context.Background()
	rows, err := owner.Query(ctx, `select establishment, team_id, owner_team, coalesce(owner_staff, ''),
		pathway, step_id, severity from board_lines`)
	if err != nil {
		t.Fatal(err)
	}
	lines, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (storedLine, error) {
		var l storedLine
		return l, r.Scan(&l.est, &l.team, &l.ownerTeam, &l.staff, &l.pathway, &l.step, &l.sev)
	})
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for i, q := range countQueries {
		teams, pathways, err := db.BoardCounts(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		got := map[countOf]int{}
		for _, c := range teams {
			got[countOf{true, c.Key, c.Stalled, c.Severity}] += c.Lines
		}
		for _, c := range pathways {
			got[countOf{false, c.Key, c.Stalled, c.Severity}] += c.Lines
		}
		want := directCounts(lines, q)
		for k, n := range want {
			if got[k] != n {
				t.Errorf("%s, %+v: %+v counted %d, board_lines has %d", when, q, k, got[k], n)
			}
		}
		for k, n := range got {
			if _, ok := want[k]; !ok {
				t.Errorf("%s, %+v: %+v counted %d, board_lines has none", when, q, k, n)
			}
		}
		if i == 0 { // the whole board
			for k, n := range want {
				if k.teams {
					total += n
				}
			}
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	return total
}

// countRows is how many delta rows board_line_counts holds.
func countRows(t *testing.T, db *postgres.DB) int {
	t.Helper()
	return pgtest.Int(t, db, `select count(*) from board_line_counts`)
}

// change alters a case the way work on it would, in one of several ways
// that move its board lines: a step done or reassigned, the case paused or
// resumed, reassigned, moved to another team, closed, or progress made.
func change(r *rand.Rand, c *resettlement.Case, now time.Time) string {
	var open []int
	for i, s := range c.Steps {
		if s.Status.Open() {
			open = append(open, i)
		}
	}
	switch k := r.IntN(7); {
	case k == 0 && len(open) > 0:
		i := open[r.IntN(len(open))]
		c.Steps[i].Status = resettlement.StepDone
		return "step done"
	case k == 1 && len(open) > 0:
		i := open[r.IntN(len(open))]
		c.Steps[i].Owner = resettlement.Owner{Staff: fmt.Sprintf("officer-%d", r.IntN(10)), Team: []string{"", "pvi-health", "bxi-resettlement"}[r.IntN(3)]}
		if r.IntN(4) == 0 {
			c.Steps[i].Owner.Staff = ""
		}
		return "step reassigned"
	case k == 2:
		c.Paused = !c.Paused
		return "paused or resumed"
	case k == 3:
		c.Owner = fmt.Sprintf("officer-%d", r.IntN(10))
		return "case reassigned"
	case k == 4:
		c.Team, c.Establishment = []string{"pvi-resettlement", "pvi-health", "bxi-resettlement"}[r.IntN(3)], "PVI"
		if c.Team == "bxi-resettlement" {
			c.Establishment = "BXI"
		}
		return "case moved"
	case k == 5 && r.IntN(3) == 0:
		c.Closed = true
		return "closed"
	default:
		c.LastProgress = now
		return "progress"
	}
}

// save writes a case's next version as its workflow would.
func save(ctx context.Context, db *postgres.DB, c *resettlement.Case, now time.Time) error {
	c.Version++
	return db.SaveCase(ctx, resettlement.Projection{Case: c, Stage: c.Stage(now), Stalled: false}, now)
}

// TestBoardCountsFollowTheLines: through saves that change gradings,
// saves that change nothing, re-gradings as the clock moves, deletions and
// compactions, in a shuffled order, the kept counts equal a count of the
// lines themselves under every scope and filter.
func TestBoardCountsFollowTheLines(t *testing.T) {
	db := pgtest.New(t)
	owner := pgtest.AsOwner(t, db)
	ctx := context.Background()
	now := time.Now()
	if err := db.LoadSynthetic(ctx, syntheticCases(t, 45, now)); err != nil {
		t.Fatal(err)
	}
	if checkCounts(t, db, owner, "loaded") == 0 {
		t.Fatal("the loaded board is empty: nothing to test")
	}
	// LoadSynthetic compacts: one row per key.
	if keys := pgtest.Int(t, db, `select count(*) from (select distinct establishment, team_id, owner_team, owner_staff,
			pathway, stalled, severity from board_line_counts) k`); keys != countRows(t, db) {
		t.Errorf("after loading: %d rows for %d keys", countRows(t, db), keys)
	}

	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 11))
	ids := make([]string, 45)
	for i := range ids {
		ids[i] = fmt.Sprintf("syn-%04d", i)
	}
	deleted := map[string]bool{}
	ops := map[string]int{}
	for step := range 150 {
		id := ids[r.IntN(len(ids))]
		if deleted[id] {
			continue
		}
		var op string
		switch k := r.IntN(10); {
		case k < 5:
			rec, err := db.Case(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			op = change(r, rec.State, now)
			if err := save(ctx, db, rec.State, now); err != nil {
				t.Fatal(err)
			}
		case k == 5:
			// A save that changes no grading adds no delta row. The
			// clock may have moved since this case was last graded (a
			// regrade takes only so many lines), so the first save brings
			// its lines up to now and the second must change nothing.
			rec, err := db.Case(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if err := save(ctx, db, rec.State, now); err != nil {
				t.Fatal(err)
			}
			before := countRows(t, db)
			if err := save(ctx, db, rec.State, now); err != nil {
				t.Fatal(err)
			}
			if after := countRows(t, db); after != before {
				t.Errorf("a save that changed nothing took the counts from %d rows to %d", before, after)
			}
			op = "unchanged save"
		case k < 8:
			// The clock moves on; some cases are due a re-grading.
			now = now.Add(time.Duration(r.IntN(72)) * time.Hour)
			pgtest.Int(t, db, `with u as (update board_lines set regrade_at = '-infinity'
				where case_id in (select id from cases order by random() limit 8) returning 1) select count(*) from u`)
			if _, err := db.Regrade(ctx, now, 5+r.IntN(10)); err != nil {
				t.Fatal(err)
			}
			op = "regrade"
		case k == 8:
			// As though its workflow had never started (no version, no
			// steps), but with the board lines it was loaded with.
			pgtest.Int(t, db, `with s as (delete from steps where case_id = $1),
				u as (update cases set version = 0 where id = $1 returning 1) select count(*) from u`, id)
			linesBefore := pgtest.Int(t, db, `select count(*) from board_lines where case_id = $1 and severity > 0`, id)
			if err := db.DeleteUnstartedCase(ctx, id); err != nil {
				t.Fatal(err)
			}
			if n := pgtest.Int(t, db, `select count(*) from cases where id = $1`, id); n != 0 {
				t.Fatalf("%s not deleted", id)
			}
			deleted[id] = true
			op = fmt.Sprintf("delete (%d lines)", linesBefore)
		default:
			if _, err := db.CompactBoardCounts(ctx); err != nil {
				t.Fatal(err)
			}
			op = "compact"
		}
		ops[op]++
		checkCounts(t, db, owner, fmt.Sprintf("step %d (%s %s)", step, op, id))
	}
	t.Logf("operations: %v", ops)

	rowsBefore := countRows(t, db)
	removed, err := db.CompactBoardCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	total := checkCounts(t, db, owner, "compacted")
	keys := pgtest.Int(t, db, `select count(*) from (select distinct establishment, team_id, owner_team, owner_staff,
			pathway, stalled, severity from board_line_counts) k`)
	if rows := countRows(t, db); rows != keys || rows > rowsBefore || int(removed) < rowsBefore-rows {
		t.Errorf("compaction removed %d of %d rows, leaving %d rows for %d keys", removed, rowsBefore, rows, keys)
	}
	if n := pgtest.Int(t, db, `select count(*) from board_line_counts where lines = 0`); n != 0 {
		t.Errorf("%d zero rows kept after compaction", n)
	}
	t.Logf("%d lines on the board in %d count rows", total, keys)
}

// TestBoardCountsUnderConcurrentSaves: cases of one team saved at once
// from several connections, with the re-grader and compaction running
// alongside, keep the counts right, and nothing deadlocks.
func TestBoardCountsUnderConcurrentSaves(t *testing.T) {
	db := pgtest.New(t)
	owner := pgtest.AsOwner(t, db)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	now := time.Now()
	all := syntheticCases(t, 72, now)
	var team []postgres.SyntheticCase
	for _, sc := range all {
		if sc.Case.Team == "pvi-resettlement" {
			team = append(team, sc)
		}
	}
	if err := db.LoadSynthetic(ctx, team); err != nil {
		t.Fatal(err)
	}
	checkCounts(t, db, owner, "loaded")

	const workers, saves = 6, 15
	var wg sync.WaitGroup
	errs := make(chan error, workers+2)
	for w := range workers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 1))
			for i := range saves {
				// Each worker saves its own cases: versions only rise.
				id := team[(w+workers*(i%(len(team)/workers)))%len(team)].Case.ID
				rec, err := db.Case(ctx, id)
				if err != nil {
					errs <- err
					return
				}
				c := rec.State
				// Within the team, so that every save hits the same keys.
				c.Paused = !c.Paused
				if r.IntN(2) == 0 {
					c.Owner = fmt.Sprintf("officer-%d", r.IntN(3))
				}
				if err := save(ctx, db, c, now); err != nil {
					errs <- fmt.Errorf("saving %s: %w", id, err)
					return
				}
			}
		})
	}
	stop := make(chan struct{})
	var bg sync.WaitGroup
	bg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := db.CompactBoardCounts(ctx); err != nil {
				errs <- fmt.Errorf("compacting: %w", err)
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
	bg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := db.Regrade(ctx, now.Add(time.Hour), 5); err != nil {
				errs <- fmt.Errorf("re-grading: %w", err)
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
	wg.Wait()
	close(stop)
	bg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		t.FailNow()
	}
	checkCounts(t, db, owner, "after concurrent saves")
	if _, err := db.CompactBoardCounts(ctx); err != nil {
		t.Fatal(err)
	}
	checkCounts(t, db, owner, "compacted after concurrent saves")
}

// BenchmarkBoardCounts300k compares the board's summary counts at national
// size, 300,000 cases, counted from every line in scope (the aggregate
// BoardCounts ran before board_line_counts, kept here only as the
// baseline) and summed from the kept counts (BoardCounts). The cases are
// spread over 120 establishments, one team and ten officers each, so the
// kept counts have as many keys as a national service would: more keys
// cost the kept counts, not the baseline. Seeding takes minutes.
func BenchmarkBoardCounts300k(b *testing.B) {
	const n, batch, prisons = 300_000, 5000, 120
	db := pgtest.New(b)
	ctx := context.Background()
	now := time.Now()
	start := time.Now()
	for from := 0; from < n; from += batch {
		cases := syntheticRange(b, from, min(from+batch, n), now)
		for j, sc := range cases {
			i := from + j
			c := sc.Case
			c.Establishment, c.Team = fmt.Sprintf("E%03d", i%prisons), fmt.Sprintf("team-%03d", i%prisons)
			c.Owner = fmt.Sprintf("officer-%03d-%d", i%prisons, i/prisons%10)
			for k := range c.Steps {
				o := &c.Steps[k].Owner
				if o.Team != "" {
					o.Team = c.Team
				}
				if o.Staff != "" {
					o.Staff = c.Owner
				}
			}
		}
		if err := db.LoadSynthetic(ctx, cases); err != nil {
			b.Fatal(err)
		}
	}
	owner := pgtest.AsOwner(b, db)
	if _, err := owner.Exec(ctx, `vacuum analyze board_lines`); err != nil {
		b.Fatal(err)
	}
	if _, err := owner.Exec(ctx, `vacuum analyze board_line_counts`); err != nil {
		b.Fatal(err)
	}
	var lines, keys int
	if err := owner.QueryRow(ctx, `select (select count(*) from board_lines where severity > 0), (select count(*) from board_line_counts)`).Scan(&lines, &keys); err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %d cases in %s: %d lines on the board, %d count rows", n, time.Since(start).Round(time.Second), lines, keys)

	// The aggregate BoardCounts ran before, word for word, on a connection
	// of the application's role.
	app := pgtest.AsApp(b, db)
	baseline := func(q postgres.BoardQuery) (int, error) {
		rows, err := app.Query(ctx, `select grouping(b.owner_team), coalesce(b.owner_team, b.pathway), b.step_id = '', b.severity, count(*)
			from board_lines b where b.severity > 0 and ($1::boolean or b.establishment = any($2::text[]) or b.team_id = any($3::text[]))
			group by grouping sets ((b.owner_team, b.step_id = '', b.severity), (b.pathway, b.step_id = '', b.severity))`,
			q.Scope.All, append([]string{}, q.Scope.Establishments...), append([]string{}, q.Scope.Teams...))
		if err != nil {
			return 0, err
		}
		total := 0
		for rows.Next() {
			var g int32
			var key string
			var stalled bool
			var sev int16
			var count int
			if err := rows.Scan(&g, &key, &stalled, &sev, &count); err != nil {
				return 0, err
			}
			if g == 0 {
				total += count
			}
		}
		return total, rows.Err()
	}
	kept := func(q postgres.BoardQuery) (int, error) {
		teams, _, err := db.BoardCounts(ctx, q)
		total := 0
		for _, c := range teams {
			total += c.Lines
		}
		return total, err
	}
	for _, s := range []struct {
		name string
		q    postgres.BoardQuery
	}{
		{"head-of-service", postgres.BoardQuery{Scope: postgres.Scope{All: true}}},
		{"one-team", postgres.BoardQuery{Scope: postgres.Scope{Teams: []string{"team-007"}}}},
	} {
		old, err := baseline(s.q)
		if err != nil {
			b.Fatal(err)
		}
		got, err := kept(s.q)
		if err != nil {
			b.Fatal(err)
		}
		if got != old {
			b.Fatalf("%s: kept counts total %d lines, the lines %d", s.name, got, old)
		}
		for _, m := range []struct {
			name  string
			count func(postgres.BoardQuery) (int, error)
		}{{"counted-from-lines", baseline}, {"kept-counts", kept}} {
			b.Run(s.name+"/"+m.name, func(b *testing.B) {
				for b.Loop() {
					if _, err := m.count(s.q); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(old), "lines")
				b.ReportMetric(float64(keys), "count-rows")
			})
		}
	}
	// Between compactions (a minute) saves add delta rows: 30,000 of them,
	// in pairs that cancel out, is a minute of onboarding at 100 cases/s
	// with every case changing five keys.
	if _, err := owner.Exec(ctx, `insert into board_line_counts
		select establishment, team_id, owner_team, owner_staff, pathway, stalled, severity, d
		from (select k.* from board_line_counts k, generate_series(1, 15000 / $1 + 1) limit 15000) k, (values (1), (-1)) v(d)`, keys); err != nil {
		b.Fatal(err)
	}
	var pending int
	if err := owner.QueryRow(ctx, `select count(*) from board_line_counts`).Scan(&pending); err != nil {
		b.Fatal(err)
	}
	if _, err := owner.Exec(ctx, `analyze board_line_counts`); err != nil {
		b.Fatal(err)
	}
	q := postgres.BoardQuery{Scope: postgres.Scope{All: true}}
	b.Run("head-of-service/kept-counts-with-30k-deltas", func(b *testing.B) {
		for b.Loop() {
			if _, err := kept(q); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(pending), "count-rows")
	})
	began := time.Now()
	removed, err := db.CompactBoardCounts(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("compacting took %s, removing %d rows", time.Since(began).Round(time.Microsecond), removed)
	// What the re-grader's tick costs when no save came since the last.
	b.Run("compaction-with-nothing-to-do", func(b *testing.B) {
		for b.Loop() {
			if _, err := db.CompactBoardCounts(ctx); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(keys), "count-rows")
	})
	if got, _ := kept(q); got != lines {
		b.Fatalf("after compaction the kept counts total %d lines, the board has %d", got, lines)
	}
}
