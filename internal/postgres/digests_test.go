package postgres_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/internal/postgres/pgtest"
	"github.com/throughgate/throughgate/resettlement"
)

// A case recorded with its plan has its steps and board lines at once; a
// save writes a case's steps and lines again only when they changed (the
// rows' xmin, the transaction that wrote them, says whether it did), and
// whatever it skips, the stored rows are the case's as saved.
func TestSavesWriteOnlyWhatChanged(t *testing.T) {
	db := pgtest.New(t)
	owner := pgtest.AsOwner(t, db)
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, resettlement.London)
	policy := resettlement.DefaultPolicy()
	plan := func(id string) *resettlement.Case {
		t.Helper()
		c, err := resettlement.Open(resettlement.OpenCase{CaseID: id, Establishment: "PVI", Team: "pvi-resettlement",
			Owner: "officer-1", ReceivedOn: resettlement.D(2026, 11, 20), Dates: resettlement.ReleaseDates{CRD: resettlement.D(2027, 3, 10)},
			Adult: true, Policy: &policy}, now)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	record := func(c *resettlement.Case, pn string) {
		t.Helper()
		if _, _, err := db.CreateCase(ctx, postgres.NewCase{ID: c.ID, Person: postgres.Person{PrisonNumber: pn, Booking: "1",
			GivenName: "Sam", FamilyName: "Example", DateOfBirth: resettlement.D(1990, 5, 17)}, OpenedBy: "officer-1",
			Establishment: c.Establishment, Team: c.Team, ReceivedOn: c.ReceivedOn, Planned: c, PlannedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	// written is the transactions that wrote a table's rows of the case.
	written := func(table, id string) string {
		t.Helper()
		var s string
		if err := owner.QueryRow(ctx, `select coalesce(string_agg(xmin::text, ',' order by xmin::text), '') from `+
			pgx.Identifier{table}.Sanitize()+` where case_id = $1`, id).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	// stored fails unless the rows are the case's as graded at now.
	stored := func(c *resettlement.Case, at time.Time, when string) {
		t.Helper()
		var steps, lines []string
		for _, s := range c.Steps {
			steps = append(steps, s.ID+" "+string(s.Status)+" "+c.Team)
		}
		for _, l := range c.BoardLines(at) {
			lines = append(lines, fmt.Sprintf("%s %s %d", l.StepID, c.Team, l.Order.Severity))
		}
		rows, err := owner.Query(ctx, `select s.id || ' ' || s.status || ' ' || c.team_id from steps s join cases c on c.id = s.case_id
			where s.case_id = $1`, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		gotSteps, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		rows, err = owner.Query(ctx, `select step_id || ' ' || team_id || ' ' || severity from board_lines where case_id = $1`, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		gotLines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range [][]string{steps, lines, gotSteps, gotLines} {
			slices.Sort(l)
		}
		if !slices.Equal(gotSteps, steps) || !slices.Equal(gotLines, lines) {
			t.Errorf("%s: stored steps %q and lines %q, want %q and %q", when, gotSteps, gotLines, steps, lines)
		}
	}
	save := func(c *resettlement.Case, at time.Time) {
		t.Helper()
		c.Version++
		if err := db.SaveCase(ctx, resettlement.Projection{Case: c, Stage: c.Stage(at)}, at); err != nil {
			t.Fatal(err)
		}
	}

	c := plan("case-digests")
	record(c, "A1234AA")
	if v := pgtest.Int(t, db, `select version from cases where id = $1`, c.ID); v != 0 {
		t.Errorf("recorded with its plan: version %d, want 0 until the workflow saves", v)
	}
	if len(c.Steps) == 0 || len(c.BoardLines(now)) == 0 {
		t.Fatal("the planned case has no steps or no board lines: nothing to test")
	}
	stored(c, now, "recorded")
	steps, lines := written("steps", c.ID), written("board_lines", c.ID)

	// The workflow's first save: the same plan, its first alarms raised.
	if len(c.TakeDue(now)) == 0 {
		t.Fatal("the case raised nothing at its opening")
	}
	save(c, now.Add(time.Second))
	if written("steps", c.ID) != steps || written("board_lines", c.ID) != lines {
		t.Error("the workflow's first save wrote the opening's steps or lines again")
	}
	if v := pgtest.Int(t, db, `select version from cases where id = $1`, c.ID); v != c.Version {
		t.Errorf("after the first save: version %d, want %d", v, c.Version)
	}
	stored(c, now, "first save")

	// A step done: its steps and its lines change.
	var onBoard []string
	for _, l := range c.BoardLines(now) {
		onBoard = append(onBoard, l.StepID)
	}
	i := slices.IndexFunc(c.Steps, func(s resettlement.Step) bool { return slices.Contains(onBoard, s.ID) })
	c.Steps[i].Status, c.Steps[i].Updated = resettlement.StepDone, now.Add(time.Minute)
	save(c, now.Add(time.Minute))
	if written("steps", c.ID) == steps {
		t.Error("a step done: its steps were not written")
	}
	if written("board_lines", c.ID) == lines {
		t.Errorf("a step done (%s): its lines were not written", c.Steps[i].ID)
	}
	stored(c, now.Add(time.Minute), "a step done")
	steps, lines = written("steps", c.ID), written("board_lines", c.ID)

	// A save that changes neither (a note, say) writes neither.
	save(c, now.Add(2*time.Minute))
	if written("steps", c.ID) != steps || written("board_lines", c.ID) != lines {
		t.Error("a save that changed no step or line wrote them")
	}

	// A case saved before the digests (null) has its rows written again.
	if _, err := owner.Exec(ctx, `update cases set steps_digest = null, lines_digest = null where id = $1`, c.ID); err != nil {
		t.Fatal(err)
	}
	save(c, now.Add(3*time.Minute))
	if written("steps", c.ID) == steps || written("board_lines", c.ID) == lines {
		t.Error("a case with no digest: its steps or lines were not written")
	}
	stored(c, now.Add(3*time.Minute), "no digest")

	// The clock re-grades the case; a save then finds the grading written.
	var until time.Time
	for _, l := range c.BoardLines(now) {
		if !l.Until.IsZero() && (until.IsZero() || l.Until.Before(until)) {
			until = l.Until
		}
	}
	if until.IsZero() {
		t.Fatal("no line of the case is re-graded by the clock: nothing to test")
	}
	if n, err := db.Regrade(ctx, until, 10); err != nil || n != 1 {
		t.Fatalf("regrade at %s: %d cases, %v; want 1", until, n, err)
	}
	lines = written("board_lines", c.ID)
	save(c, until)
	if written("board_lines", c.ID) != lines {
		t.Error("a save after a re-grading wrote the same lines again")
	}
	stored(c, until, "re-graded")

	// A save out of order (an older version) changes nothing.
	old := c.Clone()
	old.Version -= 2
	old.Team = "bxi-resettlement"
	if err := db.SaveCase(ctx, resettlement.Projection{Case: old, Stage: old.Stage(until)}, until); err != nil {
		t.Fatal(err)
	}
	stored(c, until, "an older save")

	// A case recorded whose workflow never started goes with its rows.
	d := plan("case-unstarted")
	record(d, "B1234BB")
	if err := db.DeleteUnstartedCase(ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"cases", "steps", "board_lines"} {
		col := "case_id"
		if table == "cases" {
			col = "id"
		}
		if n := pgtest.Int(t, db, `select count(*) from `+table+` where `+col+` = $1`, d.ID); n != 0 {
			t.Errorf("the unstarted case left %d rows in %s", n, table)
		}
	}
}
