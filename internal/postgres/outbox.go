package postgres

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jackc/pgx/v5"
)

// Email is one outbox row to write.
type Email struct {
	CaseID      string // "" for an email about no one case (a digest)
	AlarmKey    string // with CaseID and Recipient, what makes the email unique
	Recipient   string // address
	RecipientID string // staff or team id
	Kind        string
	Template    string
	Data        any  // what the template needs, as JSON
	Digest      bool // the recipient takes a daily digest: held for it, not sent alone
}

// EnqueueEmail writes an outbox row unless the same (case, alarm, recipient)
// is already there, and reports whether it wrote one.
func (db *DB) EnqueueEmail(ctx context.Context, e Email) (bool, error) {
	n, err := db.EnqueueEmails(ctx, []Email{e})
	return n == 1, err
}

// EnqueueEmails writes an outbox row for each email, less those whose
// (case, alarm, recipient) is already there, and reports how many it wrote.
// It is one statement, so the rows are written all together or not at all
// (AlarmRaised relies on it) without a transaction's two more round trips.
func (db *DB) EnqueueEmails(ctx context.Context, es []Email) (int, error) {
	cols := make([][]string, 8)
	for i := range cols {
		cols[i] = make([]string, len(es))
	}
	for i, e := range es {
		data, err := json.Marshal(e.Data)
		if err != nil {
			return 0, err
		}
		state := "pending"
		if e.Digest {
			state = "digest"
		}
		for j, v := range []string{e.CaseID, e.AlarmKey, e.Recipient, e.RecipientID, e.Kind, e.Template, string(data), state} {
			cols[j][i] = v
		}
	}
	tag, err := db.q.Exec(ctx, `insert into outbox (case_id, alarm_key, recipient, recipient_id, kind, template, data, state)
		select nullif(c, ''), k, r, nullif(rid, ''), kind, tmpl, d::jsonb, st
		from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
			with ordinality as u(c, k, r, rid, kind, tmpl, d, st, n)
		order by n
		on conflict do nothing`,
		cols[0], cols[1], cols[2], cols[3], cols[4], cols[5], cols[6], cols[7])
	if err != nil {
		return 0, err
	}
	return int(tag.RowsAffected()), nil
}

// AlarmRaised reports whether the outbox holds any email of a case's alarm:
// RaiseAlarm writes an alarm's emails in one transaction, so one row means
// the alarm was raised, whoever it went to.
func (db *DB) AlarmRaised(ctx context.Context, caseID, key string) (bool, error) {
	var raised bool
	err := db.q.QueryRow(ctx, `select exists (select 1 from outbox where case_id = $1 and alarm_key = $2)`, caseID, key).Scan(&raised)
	return raised, err
}

// OutboxRow is an outbox row as read back.
type OutboxRow struct {
	ID        int64           `json:"id"`
	CaseID    string          `json:"case_id"`
	AlarmKey  string          `json:"alarm_key"`
	Recipient string          `json:"recipient"`
	Kind      string          `json:"kind"`
	Template  string          `json:"template"`
	Data      json.RawMessage `json:"data"`
	State     string          `json:"state"`
	Attempts  int             `json:"attempts"`
}

// CaseEmails lists a case's outbox rows, oldest first: the record of every
// email raised for the case.
func (db *DB) CaseEmails(ctx context.Context, caseID string) ([]OutboxRow, error) {
	rows, err := db.q.Query(ctx, `select id, case_id, alarm_key, recipient, kind, template, data, state, attempts
		from outbox where case_id = $1 order by id`, caseID)
	if err != nil {
		return nil, err
	}
	var out []OutboxRow
	for rows.Next() {
		var r OutboxRow
		if err := rows.Scan(&r.ID, &r.CaseID, &r.AlarmKey, &r.Recipient, &r.Kind, &r.Template, &r.Data, &r.State, &r.Attempts); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Claimed is an outbox row a sender has taken to send.
type Claimed struct {
	ID        int64
	CaseID    string // "" for a digest
	AlarmKey  string
	Recipient string
	Kind      string
	Template  string
	Data      json.RawMessage
	Attempts  int // including this one; with ID it identifies this claim
	CreatedAt time.Time
	// MessageID is the row's one Message-ID, fixed at its first claim:
	// every later attempt, by any sender, carries the same one.
	MessageID string
}

// Claim is what a sender asks ClaimEmails for.
type Claim struct {
	By    string        // the claiming sender, unique to its run
	N     int           // at most this many rows
	Lease time.Duration // the rows are the sender's this long unless it renews them
	// MessageIDDomain is the right-hand side of the Message-ID a row is
	// given at its first claim: <outbox-ID@MessageIDDomain>.
	MessageIDDomain string
}

// ClaimEmails takes up to c.N rows that are due to send: pending rows whose
// next attempt has come, and rows another sender claimed whose lease ran out
// (it died, or lost touch with the database). FOR UPDATE SKIP LOCKED lets
// several senders claim at once without taking the same row; the lease
// marks the row as taken after the claiming transaction commits. Each claim
// counts an attempt, so (ID, Attempts) names it: RecordOutcome refuses a
// claim that has been superseded.
func (db *DB) ClaimEmails(ctx context.Context, c Claim) ([]Claimed, error) {
	rows, err := db.q.Query(ctx, `update outbox set state = 'sending', claimed_by = $3, claimed_until = now() + $2::interval,
			attempts = attempts + 1, message_id = coalesce(message_id, '<outbox-' || id || '@' || $4 || '>')
		where id in (
			select id from outbox
			where (state = 'pending' and next_attempt_at <= now()) or (state = 'sending' and claimed_until < now())
			order by next_attempt_at, id
			limit $1
			for update skip locked)
		returning id, coalesce(case_id, ''), alarm_key, recipient, kind, template, data, attempts, created_at, message_id`,
		c.N, c.Lease, c.By, c.MessageIDDomain)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Claimed, error) {
		var c Claimed
		err := r.Scan(&c.ID, &c.CaseID, &c.AlarmKey, &c.Recipient, &c.Kind, &c.Template, &c.Data, &c.Attempts, &c.CreatedAt, &c.MessageID)
		return c, err
	})
}

// RenewClaims extends the lease on rows the sender named by still holds
// and returns the ids it renewed: a row missing from the answer has been
// taken over (its lease ran out first) and must not be sent.
func (db *DB) RenewClaims(ctx context.Context, by string, ids []int64, lease time.Duration) ([]int64, error) {
	rows, err := db.q.Query(ctx, `update outbox set claimed_until = now() + $3::interval
		where id = any($1) and claimed_by = $2 and state = 'sending' returning id`, ids, by, lease)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// Outcome of one attempt to send a row.
type Outcome struct {
	ID        int64
	Attempt   int // the claim's Attempts: the outcome applies to that claim only
	Sender    string
	MessageID string
	Err       error
	Permanent bool          // the server refused for good (5xx), or we gave up
	RetryIn   time.Duration // when Err is temporary
	Took      time.Duration
}

// RecordOutcome writes what happened to a claimed row and keeps a record of
// the attempt. It only moves a row still in 'sending' under the same claim
// (o.Attempt), so a late result from a sender whose lease ran out cannot
// undo the record of the sender that took the row over; the attempt is
// recorded either way.
func (db *DB) RecordOutcome(ctx context.Context, o Outcome) error {
	return db.InTx(ctx, func(tx *DB) error {
		outcome, errText := "sent", ""
		var err error
		switch {
		case o.Err == nil:
			_, err = tx.q.Exec(ctx, `update outbox set state = 'sent', sent_at = now(), message_id = $2, last_error = null,
				claimed_until = null, claimed_by = null where id = $1 and state = 'sending' and attempts = $3`, o.ID, o.MessageID, o.Attempt)
		case o.Permanent:
			outcome, errText = "undeliverable", o.Err.Error()
			_, err = tx.q.Exec(ctx, `update outbox set state = 'undeliverable', message_id = $2, last_error = $3,
				claimed_until = null, claimed_by = null where id = $1 and state = 'sending' and attempts = $4`, o.ID, o.MessageID, errText, o.Attempt)
		default:
			outcome, errText = "retry", o.Err.Error()
			_, err = tx.q.Exec(ctx, `update outbox set state = 'pending', message_id = $2, last_error = $3, claimed_until = null,
				claimed_by = null, next_attempt_at = now() + $4::interval where id = $1 and state = 'sending' and attempts = $5`,
				o.ID, o.MessageID, errText, o.RetryIn, o.Attempt)
		}
		if err != nil {
			return err
		}
		var e *string
		if errText != "" {
			e = &errText
		}
		_, err = tx.q.Exec(ctx, `insert into outbox_attempts (outbox_id, sender, outcome, error, ms) values ($1, $2, $3, $4, $5)`,
			o.ID, o.Sender, outcome, e, o.Took.Milliseconds())
		return err
	})
}

// EnqueueDigest writes a reader's digest for a day, once: a second call for
// the same day and address returns the first row's id.
func (db *DB) EnqueueDigest(ctx context.Context, key, recipient, recipientID string, data any) (int64, error) {
	e := Email{AlarmKey: key, Recipient: recipient, RecipientID: recipientID, Kind: "digest", Template: "digest", Data: data}
	if _, err := db.EnqueueEmail(ctx, e); err != nil {
		return 0, err
	}
	var id int64
	err := db.q.QueryRow(ctx, `select id from outbox where case_id is null and alarm_key = $1 and recipient = $2`, key, recipient).Scan(&id)
	return id, err
}

// FoldIntoDigest marks the alarms held for a digest reader as carried by
// the digest row with the given id.
func (db *DB) FoldIntoDigest(ctx context.Context, recipient string, digestID int64) error {
	_, err := db.q.Exec(ctx, `update outbox set state = 'digested', digest_id = nullif($2, 0) where recipient = $1 and state = 'digest'`, recipient, digestID)
	return err
}

// Undeliverable is an email that could not be delivered, for the managers' view.
type Undeliverable struct {
	ID        int64     `json:"id"`
	CaseID    string    `json:"case_id"`
	Team      string    `json:"team"`
	Recipient string    `json:"recipient"`
	Kind      string    `json:"kind"`
	Error     string    `json:"error"`
	CreatedAt time.Time `json:"created_at"`
}

// UndeliverableEmails lists undeliverable emails about the teams' open cases,
// newest first.
func (db *DB) UndeliverableEmails(ctx context.Context, teams []string) ([]Undeliverable, error) {
	rows, err := db.q.Query(ctx, `select o.id, o.case_id, c.team_id, o.recipient, o.kind, coalesce(o.last_error, ''), o.created_at
		from outbox o join cases c on c.id = o.case_id
		where o.state = 'undeliverable' and c.closed_at is null and c.team_id = any($1)
		order by o.id desc limit 500`, teams)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Undeliverable, error) {
		var u Undeliverable
		err := r.Scan(&u.ID, &u.CaseID, &u.Team, &u.Recipient, &u.Kind, &u.Error, &u.CreatedAt)
		return u, err
	})
}
