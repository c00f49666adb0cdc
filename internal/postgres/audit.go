package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// AuditEntry is one line of the audit log: who did what to which case, when,
// and from where.
type AuditEntry struct {
	ID     int64     `json:"id"`
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	CaseID string    `json:"case_id,omitempty"`
	Detail string    `json:"detail,omitempty"`
	Remote string    `json:"remote,omitempty"`
}

// Audit appends to the audit log. The table refuses updates and deletes.
func (db *DB) Audit(ctx context.Context, e AuditEntry) error {
	_, err := db.q.Exec(ctx, `insert into audit (actor, action, case_id, detail, remote) values ($1, $2, nullif($3, ''), $4, $5)`,
		e.Actor, e.Action, e.CaseID, e.Detail, e.Remote)
	return err
}

// AuditFilter narrows the audit log. Zero fields do not filter.
type AuditFilter struct {
	Actor  string
	Action string // a prefix: "case." matches every case action
	CaseID string
	From   time.Time
	To     time.Time
	Before int64 // page: entries with a smaller id
	Limit  int
}

// AuditLog reads the audit log, newest first.
func (db *DB) AuditLog(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	var from, to *time.Time
	if !f.From.IsZero() {
		from = &f.From
	}
	if !f.To.IsZero() {
		to = &f.To
	}
	rows, err := db.q.Query(ctx, `select id, at, actor, action, coalesce(case_id, ''), detail, remote from audit
		where ($1 = '' or actor = $1) and ($2 = '' or starts_with(action, $2)) and ($3 = '' or case_id = $3)
		and ($4::timestamptz is null or at >= $4) and ($5::timestamptz is null or at < $5) and ($6 = 0 or id < $6)
		order by id desc limit $7`, f.Actor, f.Action, f.CaseID, from, to, f.Before, f.Limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (AuditEntry, error) {
		var e AuditEntry
		err := row.Scan(&e.ID, &e.At, &e.Actor, &e.Action, &e.CaseID, &e.Detail, &e.Remote)
		return e, err
	})
}
