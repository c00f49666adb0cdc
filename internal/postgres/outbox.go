package postgres

import (
	"context"
	"encoding/json"
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
	data, err := json.Marshal(e.Data)
	if err != nil {
		return false, err
	}
	state := "pending"
	if e.Digest {
		state = "digest"
	}
	tag, err := db.q.Exec(ctx, `insert into outbox (case_id, alarm_key, recipient, recipient_id, kind, template, data, state)
		values (nullif($1, ''), $2, $3, nullif($4, ''), $5, $6, $7, $8) on conflict do nothing`,
		e.CaseID, e.AlarmKey, e.Recipient, e.RecipientID, e.Kind, e.Template, data, state)
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() == 1, nil
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
