package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// Emails held for a daily digest whose content the digest itself carries
// (issue 13): an assignment email to someone who chose a digest is held
// (state 'digest') and listed in their next summary, then folded into it.
// Reminders held the same way are not listed — the digest works out the
// steps due afresh — so they are folded whatever.

// HeldEmails lists the emails of a kind held for a recipient's digest,
// oldest first.
func (db *DB) HeldEmails(ctx context.Context, recipient, kind string) ([]OutboxRow, error) {
	rows, err := db.q.Query(ctx, `select id, coalesce(case_id, ''), alarm_key, recipient, kind, template, data, state, attempts
		from outbox where recipient = $1 and state = 'digest' and kind = $2 order by id`, recipient, kind)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (OutboxRow, error) {
		var o OutboxRow
		err := r.Scan(&o.ID, &o.CaseID, &o.AlarmKey, &o.Recipient, &o.Kind, &o.Template, &o.Data, &o.State, &o.Attempts)
		return o, err
	})
}

// EnqueueDigestOnce writes a reader's digest for a day unless it is there
// already, returning its row's id and whether this call wrote it.
func (db *DB) EnqueueDigestOnce(ctx context.Context, key, recipient, recipientID string, data any) (int64, bool, error) {
	written, err := db.EnqueueEmail(ctx, Email{AlarmKey: key, Recipient: recipient, RecipientID: recipientID, Kind: "digest",
		Template: "digest", Data: data})
	if err != nil {
		return 0, false, err
	}
	var id int64
	err = db.q.QueryRow(ctx, `select id from outbox where case_id is null and alarm_key = $1 and recipient = $2`, key, recipient).Scan(&id)
	return id, written, err
}

// FoldHeldIntoDigest is FoldIntoDigest that folds, of the held emails of
// kind listed, only those with the ids given (those the digest lists): one
// held after the digest was written waits for the next.
func (db *DB) FoldHeldIntoDigest(ctx context.Context, recipient string, digestID int64, listed string, ids []int64) error {
	if ids == nil {
		ids = []int64{}
	}
	_, err := db.q.Exec(ctx, `update outbox set state = 'digested', digest_id = nullif($2, 0)
		where recipient = $1 and state = 'digest' and (kind <> $3 or id = any($4))`, recipient, digestID, listed, ids)
	return err
}
