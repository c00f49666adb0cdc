package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/throughgate/throughgate/resettlement"
)

// boardLineColumns and boardLineRows are how a case's graded board lines
// (resettlement.Case.BoardLines) are written, by the projection, the
// re-grader and the benchmarks' bulk loader alike.
var boardLineColumns = []string{"case_id", "step_id", "establishment", "team_id", "owner_staff", "owner_team", "pathway",
	"severity", "release_group", "release_day", "due_date", "blocking", "days_overdue", "regrade_at", "graded_at"}

func boardLineRows(c *resettlement.Case, now time.Time) [][]any {
	lines := c.BoardLines(now)
	rows := make([][]any, 0, len(lines))
	for _, l := range lines {
		var staff *string
		if l.Owner.Staff != "" {
			staff = &l.Owner.Staff
		}
		team := l.Owner.Team
		if team == "" {
			team = c.Team
		}
		var regrade *time.Time
		if !l.Until.IsZero() {
			regrade = &l.Until
		}
		o := l.Order
		rows = append(rows, []any{c.ID, l.StepID, c.Establishment, c.Team, staff, team, string(l.Pathway),
			int16(o.Severity), int16(o.ReleaseGroup), date(o.ReleaseDay), date(o.DueDate), o.Blocking,
			l.Urgency.DaysOverdue, regrade, now})
	}
	return rows
}

// Regrade grades again, at now, up to limit cases with a board line whose
// grading the clock may have changed (regrade_at passed), from the state
// each case's workflow last saved. It returns how many it graded; the
// caller repeats until none is left. Cases being saved at the same moment
// are skipped, to be graded by their own save.
func (db *DB) Regrade(ctx context.Context, now time.Time, limit int) (int, error) {
	n := 0
	err := pgx.BeginFunc(ctx, db.q, func(tx pgx.Tx) error {
		// Only cases a workflow has saved (state): a case just recorded has
		// its opening's lines (openings) until then.
		rows, err := tx.Query(ctx, `select c.id, c.state from cases c
			where c.id in (select distinct b.case_id from board_lines b
				where b.regrade_at <= $1 and exists (select 1 from cases s where s.id = b.case_id and s.state is not null) limit $2)
			for update of c skip locked`, now, limit)
		if err != nil {
			return err
		}
		var cases []*resettlement.Case
		for rows.Next() {
			var id string
			var state []byte
			if err := rows.Scan(&id, &state); err != nil {
				rows.Close()
				return err
			}
			c := &resettlement.Case{}
			if err := json.Unmarshal(state, c); err != nil {
				rows.Close()
				return fmt.Errorf("case %s: reading its state: %w", id, err)
			}
			cases = append(cases, c)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		ids := make([]string, len(cases))
		digests := make([][]byte, len(cases))
		var lines [][]any
		for i, c := range cases {
			rows := boardLineRows(c, now)
			ids[i], digests[i] = c.ID, rowsDigest(rows, boardLineDigested)
			lines = append(lines, rows...)
		}
		if err := replaceBoardLines(ctx, tx, ids, lines); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `update cases c set lines_digest = u.d from unnest($1::text[], $2::bytea[]) as u (id, d)
			where c.id = u.id`, ids, digests); err != nil {
			return err
		}
		n = len(cases)
		return nil
	})
	return n, err
}

// BoardLine is a line of the board as stored, with the person it is about.
type BoardLine struct {
	CaseID        string
	StepID        string
	PrisonNumber  string
	GivenName     string
	FamilyName    string
	Establishment string
	Team          string
	Owner         resettlement.Owner
	StepTitle     string
	Pathway       resettlement.Pathway
	Due           *time.Time
	LastProgress  time.Time
	ReleaseDay    *time.Time // the case's release day, if known
	Order         resettlement.BoardOrder
	DaysOverdue   int
}

// BoardKey is a line's place on the board, for keyset pages.
type BoardKey struct {
	Order  resettlement.BoardOrder
	CaseID string
	StepID string
}

// BoardQuery selects board lines: the scope, the filters, and the page
// (After, exclusive; zero for the first) of up to Limit lines (0: all).
type BoardQuery struct {
	Scope         Scope
	Establishment string
	Team          string
	Owner         string
	Pathway       string
	After         *BoardKey
	Limit         int
}

// boardWhere is the board's condition on board_lines b, with its
// arguments; board_line_counts has the same columns, so it serves the
// summary's counts too.
func boardWhere(q BoardQuery) (string, []any) {
	args := scopeArgs(q.Scope)
	where := []string{`b.severity > 0`, strings.ReplaceAll(scopeSQL, "c.", "b.")}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "?", fmt.Sprintf("$%d", len(args))))
	}
	if q.Establishment != "" {
		add("b.establishment = ?", q.Establishment)
	}
	if q.Team != "" {
		add("b.team_id = ?", q.Team)
	}
	if q.Owner != "" {
		add("b.owner_staff = ?", q.Owner)
	}
	if q.Pathway != "" {
		add("b.pathway = ?", q.Pathway)
	}
	return strings.Join(where, " and "), args
}

// Board reads a page of board lines in board order.
func (db *DB) Board(ctx context.Context, q BoardQuery) ([]BoardLine, error) {
	where, args := boardWhere(q)
	if k := q.After; k != nil {
		o := k.Order
		n := len(args)
		// One row comparison on the order index's columns (all ascending).
		where += fmt.Sprintf(` and (b.sev_rank, b.release_group, b.release_day, b.due_date, b.unblocking, b.case_id, b.step_id)
			> ($%d::smallint, $%d::smallint, $%d::date, $%d::date, $%d::boolean, $%d::text, $%d::text)`,
			n+1, n+2, n+3, n+4, n+5, n+6, n+7)
		args = append(args, 4-int16(o.Severity), int16(o.ReleaseGroup), date(o.ReleaseDay), date(o.DueDate), !o.Blocking, k.CaseID, k.StepID)
	}
	limit := ""
	if q.Limit > 0 {
		limit = fmt.Sprintf(" limit %d", q.Limit)
	}
	rows, err := db.q.Query(ctx, `select b.case_id, b.step_id, c.prison_number, c.given_name, c.family_name, b.establishment, b.team_id,
			coalesce(b.owner_staff, ''), b.owner_team, coalesce(s.title, ''), b.pathway, s.due, c.last_progress, c.release_day,
			b.severity, b.release_group, b.release_day, b.due_date, b.blocking, b.days_overdue
		from board_lines b
		join cases c on c.id = b.case_id
		left join steps s on s.case_id = b.case_id and s.id = b.step_id
		where `+where+`
		order by b.sev_rank, b.release_group, b.release_day, b.due_date, b.unblocking, b.case_id, b.step_id`+limit, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (BoardLine, error) {
		var l BoardLine
		var pathway string
		var due pgtype.Timestamptz
		var sev, group int16
		var releaseDay, dueDate time.Time
		err := r.Scan(&l.CaseID, &l.StepID, &l.PrisonNumber, &l.GivenName, &l.FamilyName, &l.Establishment, &l.Team,
			&l.Owner.Staff, &l.Owner.Team, &l.StepTitle, &pathway, &due, &l.LastProgress, &l.ReleaseDay,
			&sev, &group, &releaseDay, &dueDate, &l.Order.Blocking, &l.DaysOverdue)
		l.Pathway = resettlement.Pathway(pathway)
		if due.Valid {
			l.Due = &due.Time
		}
		l.Order.Severity, l.Order.ReleaseGroup = resettlement.Severity(sev), int(group)
		l.Order.ReleaseDay, l.Order.DueDate = dateOf(releaseDay), dateOf(dueDate)
		return l, err
	})
}

// BoardCount is the number of board lines of one kind (stalled case or
// overdue step) for one key (a team, a pathway) at one severity.
type BoardCount struct {
	Key      string
	Stalled  bool
	Severity resettlement.Severity
	Lines    int
}

// BoardCounts counts the board's lines by the owner's team and by pathway.
// It sums the counts kept as the lines change (board_line_counts, kept by
// replaceBoardLines), about a row per key once compacted (4,165 for a
// national-shaped 300,000 cases: BenchmarkBoardCounts300k), rather than
// counting every line in scope; the filters are the board's own.
func (db *DB) BoardCounts(ctx context.Context, q BoardQuery) (teams, pathways []BoardCount, err error) {
	where, args := boardWhere(q)
	rows, err := db.q.Query(ctx, `select grouping(b.owner_team), coalesce(b.owner_team, b.pathway), b.stalled, b.severity, sum(b.lines)::bigint
		from board_line_counts b where `+where+`
		group by grouping sets ((b.owner_team, b.stalled, b.severity), (b.pathway, b.stalled, b.severity))
		having sum(b.lines) <> 0`, args...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var g int32
		var c BoardCount
		var sev int16
		if err := rows.Scan(&g, &c.Key, &c.Stalled, &sev, &c.Lines); err != nil {
			return nil, nil, err
		}
		c.Severity = resettlement.Severity(sev)
		if g == 0 {
			teams = append(teams, c)
		} else {
			pathways = append(pathways, c)
		}
	}
	return teams, pathways, rows.Err()
}
