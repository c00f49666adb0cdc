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
		if _, err = tx.q.Exec(ctx, `update case_events set text = $2 where case_id = any($1) and kind = 'paused' and not (text = any($3))`,
			ids, pausedText, pauseTexts()); err != nil {
			return err
		}
		return tx.scrubCaseRecords(ctx, ids, at)
	})
	return ids, err
}

// scrubCaseRecords removes the personal data the cases' other records
// hold, as their anonymisation does the case's own:
//   - prison movement events: the body (the event as sent, with the
//     person's prison number and often name and date of birth) becomes
//     the JSON string Removed and the prison number Removed; an event
//     still waiting to be acted on is dismissed by RetentionActor, as its
//     body can no longer be acted on. Source, event id, type, reason,
//     dates and outcome (no personal data) stay, so a redelivery is still
//     answered as the first delivery was;
//   - consents are deleted: a choice of a person nobody can name any more
//     is nothing to act on (the audit log keeps who recorded it);
//   - partner links keep their ids, dates and answer; the partner's name
//     and address and a revocation's reason (free text an officer typed)
//     become Removed;
//   - import rows lose the CSV row (the request) and the prison number.
func (db *DB) scrubCaseRecords(ctx context.Context, ids []string, at time.Time) error {
	if _, err := db.q.Exec(ctx, `update events set body = to_jsonb($2::text), prison_number = $2,
		decided_by = case when status in ('received', 'held', 'parked') then $3 else decided_by end,
		processed_at = case when status in ('received', 'held', 'parked') then $4 else processed_at end,
		status = case when status in ('received', 'held', 'parked') then 'dismissed' else status end
		where case_id = any($1)`, ids, Removed, RetentionActor, at); err != nil {
		return err
	}
	if _, err := db.q.Exec(ctx, `delete from consents where case_id = any($1)`, ids); err != nil {
		return err
	}
	if _, err := db.q.Exec(ctx, `update partner_links set partner_name = $2, partner_email = $2,
		revoke_reason = case when revoke_reason is null then null else $2 end where case_id = any($1)`, ids, Removed); err != nil {
		return err
	}
	_, err := db.q.Exec(ctx, `update import_rows set prison_number = $2, request = null where case_id = any($1)`, ids, Removed)
	return err
}

// PurgeCaselessRecords deletes the prison movement events received before
// the instant that belong to no case (parked, ignored or dismissed ones:
// an unknown prison or person, a temporary absence), and the rows of
// imports created before it that opened no case and name none (invalid
// or refused rows, or a person whose open case the importer could not
// see). They hold a person's prison number, and an event's body or a CSV
// row their name and date of birth, with nothing else to anonymise them
// with; retention keeps them as long as a closed case's. The counts are
// audited by RetentionActor, in the same transaction.
func (db *DB) PurgeCaselessRecords(ctx context.Context, before time.Time) (events, rows int, err error) {
	err = db.InTx(ctx, func(tx *DB) error {
		tag, err := tx.q.Exec(ctx, `delete from events where case_id is null and received_at < $1`, before)
		if err != nil {
			return err
		}
		events = int(tag.RowsAffected())
		tag, err = tx.q.Exec(ctx, `delete from import_rows r using imports i
			where i.id = r.import_id and r.case_id is null and i.created_at < $1`, before)
		if err != nil {
			return err
		}
		rows = int(tag.RowsAffected())
		if events == 0 && rows == 0 {
			return nil
		}
		return tx.Audit(ctx, AuditEntry{Actor: RetentionActor, Action: "retention.purge",
			Detail: fmt.Sprintf("events=%d import_rows=%d before=%s", events, rows, before.UTC().Format(time.RFC3339))})
	})
	return events, rows, err
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
