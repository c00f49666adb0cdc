package postgres

import (
	"cmp"
	"context"
	"slices"

	"github.com/jackc/pgx/v5"
)

// The board's summary counts live in board_line_counts as deltas (migration
// 019): every writer of board_lines goes through replaceBoardLines, which
// adds the net change per key in the same transaction, so the sum of a
// key's rows is always the number of its lines on the board.

// countKey is what board_line_counts counts lines by: the columns the
// board filters on (boardWhere) and BoardCounts groups on.
type countKey struct {
	establishment, team, ownerTeam, ownerStaff, pathway string
	stalled                                             bool
	severity                                            int16
}

// countDeltas is the net change of lines per key.
type countDeltas map[countKey]int64

// addLineRows counts rows laid out as boardLineColumns, sign +1 or -1;
// lines off the board (severity 0) are not counted.
func (d countDeltas) addLineRows(rows [][]any, sign int64) {
	for _, r := range rows {
		sev := r[7].(int16)
		if sev <= 0 {
			continue
		}
		staff := ""
		if s := r[4].(*string); s != nil {
			staff = *s
		}
		d[countKey{establishment: r[2].(string), team: r[3].(string), ownerTeam: r[5].(string), ownerStaff: staff,
			pathway: r[6].(string), stalled: r[1].(string) == "", severity: sev}] += sign
	}
}

// write inserts one row per key whose count changed: a save that changes
// no grading inserts nothing.
func (d countDeltas) write(ctx context.Context, tx pgx.Tx) error {
	var rows [][]any
	for k, n := range d {
		if n != 0 {
			rows = append(rows, []any{k.establishment, k.team, k.ownerTeam, k.ownerStaff, k.pathway, k.stalled, k.severity, n})
		}
	}
	if len(rows) == 0 {
		return nil
	}
	// In key order, so that what one save writes reads the same every time.
	slices.SortFunc(rows, func(a, b []any) int {
		for i := range 5 {
			if c := cmp.Compare(a[i].(string), b[i].(string)); c != 0 {
				return c
			}
		}
		if a[5] != b[5] {
			if a[5].(bool) {
				return 1
			}
			return -1
		}
		return cmp.Compare(a[6].(int16), b[6].(int16))
	})
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"board_line_counts"},
		[]string{"establishment", "team_id", "owner_team", "owner_staff", "pathway", "stalled", "severity", "lines"}, pgx.CopyFromRows(rows))
	return err
}

// replaceBoardLines deletes the board lines of the cases ids, writes rows
// (boardLineColumns) in their place, and adds the net change to the
// counts. The caller holds the cases' rows locked (a save's update, the
// re-grader's for update), so no other writer changes these lines meanwhile.
func replaceBoardLines(ctx context.Context, tx pgx.Tx, ids []string, rows [][]any) error {
	old, err := tx.Query(ctx, `delete from board_lines where case_id = any($1)
		returning establishment, team_id, owner_team, coalesce(owner_staff, ''), pathway, step_id = '', severity`, ids)
	if err != nil {
		return err
	}
	d := countDeltas{}
	for old.Next() {
		var k countKey
		if err := old.Scan(&k.establishment, &k.team, &k.ownerTeam, &k.ownerStaff, &k.pathway, &k.stalled, &k.severity); err != nil {
			old.Close()
			return err
		}
		if k.severity > 0 { // lines off the board are not counted
			d[k]--
		}
	}
	if err := old.Err(); err != nil {
		return err
	}
	if len(rows) > 0 {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"board_lines"}, boardLineColumns, pgx.CopyFromRows(rows)); err != nil {
			return err
		}
	}
	d.addLineRows(rows, 1)
	return d.write(ctx, tx)
}

// compactLockKey lets one process at a time compact the counts.
const compactLockKey = 0x7467_636f_756e_74 // "tgcount"

// CompactBoardCounts folds the delta rows of every key with more than one
// row (or a zero sum) into one row holding their sum, dropping zero sums,
// so that BoardCounts sums about one row per key. It deletes only the rows
// it saw and inserts exactly their sum, in one statement, so deltas added
// meanwhile stay and no count moves. Only one process compacts at a time;
// the others return at once. It returns how many rows it removed.
func (db *DB) CompactBoardCounts(ctx context.Context) (int64, error) {
	var removed int64
	err := pgx.BeginFunc(ctx, db.q, func(tx pgx.Tx) error {
		var locked bool
		if err := tx.QueryRow(ctx, `select pg_try_advisory_xact_lock($1)`, int64(compactLockKey)).Scan(&locked); err != nil || !locked {
			return err
		}
		return tx.QueryRow(ctx, `with loose as (
				select establishment, team_id, owner_team, owner_staff, pathway, stalled, severity
				from board_line_counts
				group by establishment, team_id, owner_team, owner_staff, pathway, stalled, severity
				having count(*) > 1 or sum(lines) = 0),
			gone as (
				delete from board_line_counts b using loose l
				where (b.establishment, b.team_id, b.owner_team, b.owner_staff, b.pathway, b.stalled, b.severity)
					= (l.establishment, l.team_id, l.owner_team, l.owner_staff, l.pathway, l.stalled, l.severity)
				returning b.*),
			summed as (
				insert into board_line_counts (establishment, team_id, owner_team, owner_staff, pathway, stalled, severity, lines)
				select establishment, team_id, owner_team, owner_staff, pathway, stalled, severity, sum(lines)
				from gone
				group by establishment, team_id, owner_team, owner_staff, pathway, stalled, severity
				having sum(lines) <> 0)
			select count(*) from gone`).Scan(&removed)
	})
	return removed, err
}
