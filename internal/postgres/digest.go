package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// DigestReader is a member of staff who takes a daily digest.
type DigestReader struct {
	ID, Name, Email string
}

// DigestReaders lists the active staff who chose a daily digest.
func (db *DB) DigestReaders(ctx context.Context) ([]DigestReader, error) {
	rows, err := db.q.Query(ctx, `select id, name, email from staff where active and notify = 'digest' and email <> '' order by id`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[DigestReader])
}

// DueStep is an open step for a digest.
type DueStep struct {
	CaseID     string
	StepID     string
	Title      string
	Due        time.Time
	Blocking   bool
	Pathway    string
	ReleaseDay *time.Time
}

// DueSteps lists the open steps a member of staff owns that are due by
// until, overdue first.
func (db *DB) DueSteps(ctx context.Context, staffID string, until time.Time) ([]DueStep, error) {
	rows, err := db.q.Query(ctx, `select s.case_id, s.id, s.title, s.due, s.blocking, s.pathway, c.release_day
		from steps s join cases c on c.id = s.case_id
		where s.owner_staff = $1 and s.status in ('not-started', 'in-progress', 'waiting') and s.due <= $2
		and c.closed_at is null and not c.paused
		order by s.due, s.case_id, s.id`, staffID, until)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[DueStep])
}

// FoldIntoDigest marks the alarms held for a digest reader as carried by
// the digest row with the given id.
func (db *DB) FoldIntoDigest(ctx context.Context, recipient string, digestID int64) error {
	_, err := db.q.Exec(ctx, `update outbox set state = 'digested', digest_id = nullif($2, 0) where recipient = $1 and state = 'digest'`, recipient, digestID)
	return err
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
