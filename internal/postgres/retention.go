package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/throughgate/throughgate/resettlement"
)

// What a person's details and notes become when their case is anonymised.
const (
	// Removed stands for a name, prison number, booking, local authority
	// or note text that retention removed.
	Removed = "[removed]"
	// RetentionActor is who the audit log names for an anonymisation.
	RetentionActor = "system:retention"
	// pausedText is a pause event's text with its reason removed.
	pausedText = "Case paused"
)

// RemovedDateOfBirth stands for a date of birth that retention removed.
var RemovedDateOfBirth = resettlement.D(1900, 1, 1)

// RetentionCutoff is the instant a case must have closed before for its
// personal data to be anonymised at now, keeping it years.
func RetentionCutoff(now time.Time, years int) time.Time { return now.AddDate(-years, 0, 0) }

// AnonymiseClosedCases anonymises up to limit cases that closed before
// closedBefore and are not anonymised yet, oldest closure first, and
// returns their ids. Each keeps its id, establishment, team, dates, stage,
// steps, timeline and outbox record (what statistics need, and none of it
// names the person); its person's names, prison number, booking, date of
// birth and local authority, and its notes' text, become placeholders
// (Removed, RemovedDateOfBirth), as does the free text a case paused under
// the first plan carried. Each is audited as case.anonymise by
// RetentionActor, in the same transaction, with at as anonymised_at.
// Cases another sweep is working on are skipped, so sweeps may overlap.
func (db *DB) AnonymiseClosedCases(ctx context.Context, closedBefore, at time.Time, limit int) ([]string, error) {
	if limit <= 0 {
		limit = 100
	}
	var ids []string
	err := db.InTx(ctx, func(tx *DB) error {
		ids = nil
		rows, err := tx.q.Query(ctx, `select id, closed_at, state from cases
			where closed_at < $1 and anonymised_at is null
			order by closed_at, id limit $2 for update skip locked`, closedBefore, limit)
		if err != nil {
			return err
		}
		type found struct {
			id     string
			closed time.Time
			state  []byte
		}
		list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (found, error) {
			var f found
			err := r.Scan(&f.id, &f.closed, &f.state)
			return f, err
		})
		if err != nil {
			return err
		}
		for _, f := range list {
			state, err := scrubState(f.state)
			if err != nil {
				return fmt.Errorf("case %s: %w", f.id, err)
			}
			if _, err := tx.q.Exec(ctx, `update cases set given_name = $2, family_name = $2, prison_number = $2, booking = $2,
				local_authority = $2, date_of_birth = $3, state = $4, anonymised_at = $5 where id = $1`,
				f.id, Removed, date(RemovedDateOfBirth), state, at); err != nil {
				return err
			}
			if err := tx.Audit(ctx, AuditEntry{Actor: RetentionActor, Action: "case.anonymise", CaseID: f.id,
				Detail: "closed_at=" + f.closed.UTC().Format(time.RFC3339) + " closed_before=" + closedBefore.UTC().Format(time.RFC3339)}); err != nil {
				return err
			}
			ids = append(ids, f.id)
		}
		if len(ids) == 0 {
			return nil
		}
		if _, err := tx.q.Exec(ctx, `update notes set body = $2 where case_id = any($1)`, ids, Removed); err != nil {
			return err
		}
		_, err = tx.q.Exec(ctx, `update case_events set text = $2 where case_id = any($1) and kind = 'paused' and not (text = any($3))`,
			ids, pausedText, pauseTexts())
		return err
	})
	return ids, err
}

// pauseTexts are the pause events' texts that name a reason from the list
// (under either plan) rather than carry free text.
func pauseTexts() []string {
	out := []string{pausedText}
	for _, r := range resettlement.PauseReasons {
		out = append(out, pausedText+": "+string(r), pausedText+": "+r.Title())
	}
	return out
}

// scrubState removes free text from a saved case: a pause reason not on
// the list, and the text of its pause events, as in case_events.
func scrubState(raw []byte) ([]byte, error) {
	if raw == nil {
		return nil, nil
	}
	var c resettlement.Case
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, err
	}
	if c.PauseReason != "" && !resettlement.PauseReason(c.PauseReason).Valid() {
		c.PauseReason = ""
	}
	kept := pauseTexts()
	for i, e := range c.Events {
		if e.Kind != "paused" {
			continue
		}
		keep := false
		for _, k := range kept {
			keep = keep || e.Text == k
		}
		if !keep {
			c.Events[i].Text = pausedText
		}
	}
	return json.Marshal(c)
}
