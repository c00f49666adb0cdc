package postgres

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/throughgate/throughgate/resettlement"
)

// SyntheticCase is a case written straight into the read model, with no
// workflow behind it: for benchmarks of the list and the board, which read
// only PostgreSQL.
type SyntheticCase struct {
	Person  Person
	Case    *resettlement.Case
	Stage   resettlement.Stage
	Stalled bool
}

// LoadSynthetic bulk-inserts cases, their steps and their board lines (and
// the lines' counts) in one transaction.
func (db *DB) LoadSynthetic(ctx context.Context, cases []SyntheticCase) error {
	caseRows := make([][]any, 0, len(cases))
	var stepRows, lineRows [][]any
	now := time.Now()
	for _, sc := range cases {
		c := sc.Case
		state, err := json.Marshal(c)
		if err != nil {
			return err
		}
		var releaseDay *time.Time
		if d, ok := c.ReleaseDay(); ok {
			releaseDay = date(d)
		}
		var nextDue *time.Time
		if t, ok := c.NextDue(); ok {
			nextDue = &t
		}
		var owner *string
		if c.Owner != "" {
			owner = &c.Owner
		}
		p := sc.Person
		caseRows = append(caseRows, []any{c.ID, p.PrisonNumber, p.Booking, p.GivenName, p.FamilyName, date(p.DateOfBirth),
			p.LocalAuthority, "synthetic", c.Version, c.Establishment, c.Team, owner, string(sc.Stage), sc.Stalled,
			nextDue, releaseDay, date(c.ReceivedOn), c.LastProgress, c.OpenedAt, state})
		for _, st := range c.Steps {
			stepRows = append(stepRows, stepRow(c.ID, st))
		}
		lineRows = append(lineRows, boardLineRows(c, now)...)
	}
	err := pgx.BeginFunc(ctx, db.q, func(tx pgx.Tx) error {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"cases"}, []string{"id", "prison_number", "booking", "given_name",
			"family_name", "date_of_birth", "local_authority", "opened_by", "version", "establishment", "team_id", "owner_id",
			"stage", "stalled", "next_due", "release_day", "received_on", "last_progress", "opened_at", "state"}, pgx.CopyFromRows(caseRows)); err != nil {
			return err
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"steps"}, stepColumns, pgx.CopyFromRows(stepRows)); err != nil {
			return err
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"board_lines"}, boardLineColumns, pgx.CopyFromRows(lineRows)); err != nil {
			return err
		}
		// The cases are new: their lines' counts are all additions.
		counts := countDeltas{}
		counts.addLineRows(lineRows, 1)
		if err := counts.write(ctx, tx); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "analyze cases; analyze steps; analyze board_lines")
		return err
	})
	if err != nil {
		return err
	}
	// Loads come in batches: fold each batch's deltas in, as the re-grader would.
	_, err = db.CompactBoardCounts(ctx)
	return err
}
