package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// PartnerLink is a one-time link a partner agency answers a waiting step
// through (migration 015). Its token and reference code are kept as
// SHA-256 hashes only; what the officer asks is a note (AskNoteID).
type PartnerLink struct {
	ID             string     `json:"id"`
	CaseID         string     `json:"case_id"`
	StepID         string     `json:"step_id"`
	Purpose        string     `json:"purpose"`
	PartnerName    string     `json:"partner_name"`
	PartnerEmail   string     `json:"partner_email"`
	AskNoteID      int64      `json:"-"`
	Ask            string     `json:"ask"`
	CreatedBy      string     `json:"created_by"`
	CreatedAt      time.Time  `json:"created_at"`
	ExpiresAt      time.Time  `json:"expires_at"`
	RevokedAt      *time.Time `json:"revoked_at,omitempty"`
	RevokedBy      string     `json:"revoked_by,omitempty"`
	RevokeReason   string     `json:"revoke_reason,omitempty"`
	FailedAttempts int        `json:"failed_attempts"`
	LockedAt       *time.Time `json:"locked_at,omitempty"`
	AnsweredAt     *time.Time `json:"answered_at,omitempty"`
	Answer         string     `json:"answer,omitempty"`

	codeHash []byte
}

// CodeHash is the SHA-256 the reference code is kept as.
func (l PartnerLink) CodeHash() []byte { return l.codeHash }

// NewPartnerLink is a link about to be sent.
type NewPartnerLink struct {
	ID, CaseID, StepID, Purpose string
	PartnerName, PartnerEmail   string
	Ask                         string // stored as a note of the case
	TokenHash, CodeHash         []byte
	CreatedBy                   string
	ExpiresAt                   time.Time
	RequestID                   string // the officer's idempotency key
}

// MaxReferenceAttempts is how many wrong references lock a link.
const MaxReferenceAttempts = 5

const linkColumns = `l.id, l.case_id, l.step_id, l.purpose, l.partner_name, l.partner_email, l.ask_note_id, n.body, l.created_by,
	l.created_at, l.expires_at, l.revoked_at, coalesce(l.revoked_by, ''), coalesce(l.revoke_reason, ''), l.failed_attempts,
	l.locked_at, l.answered_at, coalesce(l.answer, ''), l.code_hash`

const linkFrom = ` from partner_links l join notes n on n.id = l.ask_note_id `

func scanLink(row pgx.Row) (PartnerLink, error) {
	var l PartnerLink
	err := row.Scan(&l.ID, &l.CaseID, &l.StepID, &l.Purpose, &l.PartnerName, &l.PartnerEmail, &l.AskNoteID, &l.Ask, &l.CreatedBy,
		&l.CreatedAt, &l.ExpiresAt, &l.RevokedAt, &l.RevokedBy, &l.RevokeReason, &l.FailedAttempts, &l.LockedAt, &l.AnsweredAt,
		&l.Answer, &l.codeHash)
	if errors.Is(err, pgx.ErrNoRows) {
		return l, ErrNotFound
	}
	return l, err
}

// CreatePartnerLink stores a link and the note of what it asks, in one
// transaction. A retry of the same officer's request (the same request id
// on the same case) stores nothing and returns the first link, with
// created false.
func (db *DB) CreatePartnerLink(ctx context.Context, nl NewPartnerLink) (PartnerLink, bool, error) {
	if nl.RequestID != "" {
		l, err := scanLink(db.q.QueryRow(ctx, `select `+linkColumns+linkFrom+`where l.case_id = $1 and l.created_by = $2 and l.request_id = $3`,
			nl.CaseID, nl.CreatedBy, nl.RequestID))
		if err == nil || !errors.Is(err, ErrNotFound) {
			return l, false, err
		}
	}
	var req *string
	if nl.RequestID != "" {
		req = &nl.RequestID
	}
	err := db.InTx(ctx, func(tx *DB) error {
		note, err := tx.AddNote(ctx, nl.CaseID, nl.CreatedBy, nl.Ask)
		if err != nil {
			return err
		}
		_, err = tx.q.Exec(ctx, `insert into partner_links (id, case_id, step_id, purpose, partner_name, partner_email, ask_note_id,
			token_hash, code_hash, created_by, expires_at, request_id) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
			nl.ID, nl.CaseID, nl.StepID, nl.Purpose, nl.PartnerName, nl.PartnerEmail, note, nl.TokenHash, nl.CodeHash, nl.CreatedBy,
			nl.ExpiresAt, req)
		return err
	})
	if isUniqueViolation(err, "partner_links_request") { // a concurrent retry
		l, err := scanLink(db.q.QueryRow(ctx, `select `+linkColumns+linkFrom+`where l.case_id = $1 and l.created_by = $2 and l.request_id = $3`,
			nl.CaseID, nl.CreatedBy, nl.RequestID))
		return l, false, err
	}
	if err != nil {
		return PartnerLink{}, false, err
	}
	l, err := db.PartnerLink(ctx, nl.CaseID, nl.ID)
	return l, err == nil, err
}

// PartnerLink reads one link of a case.
func (db *DB) PartnerLink(ctx context.Context, caseID, id string) (PartnerLink, error) {
	return scanLink(db.q.QueryRow(ctx, `select `+linkColumns+linkFrom+`where l.case_id = $1 and l.id = $2`, caseID, id))
}

// PartnerLinkByToken finds a link by the SHA-256 of its token.
func (db *DB) PartnerLinkByToken(ctx context.Context, tokenHash []byte) (PartnerLink, error) {
	return scanLink(db.q.QueryRow(ctx, `select `+linkColumns+linkFrom+`where l.token_hash = $1`, tokenHash))
}

// PartnerLinks lists the links of a case's step (every step's when stepID
// is ""), newest first.
func (db *DB) PartnerLinks(ctx context.Context, caseID, stepID string) ([]PartnerLink, error) {
	rows, err := db.q.Query(ctx, `select `+linkColumns+linkFrom+`where l.case_id = $1 and ($2 = '' or l.step_id = $2)
		order by l.created_at desc, l.id`, caseID, stepID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (PartnerLink, error) { return scanLink(r) })
}

// revokeLinks revokes the open links matching where (on partner_links l,
// its arguments $1…), returning their ids.
func (db *DB) revokeLinks(ctx context.Context, where string, args []any, by, reason string, now time.Time) ([]string, error) {
	n := len(args)
	sql := fmt.Sprintf(`update partner_links l set revoked_at = $%d, revoked_by = $%d, revoke_reason = $%d
		where %s and l.revoked_at is null and l.answered_at is null and l.locked_at is null and l.expires_at > $%d
		returning l.id`, n+1, n+2, n+3, where, n+1)
	rows, err := db.q.Query(ctx, sql, append(args, now, by, reason)...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// RevokePartnerLink revokes one link that still works, reporting whether
// it did.
func (db *DB) RevokePartnerLink(ctx context.Context, caseID, id, by, reason string, now time.Time) (bool, error) {
	ids, err := db.revokeLinks(ctx, `l.case_id = $1 and l.id = $2`, []any{caseID, id}, by, reason, now)
	return len(ids) == 1, err
}

// FailReference counts a wrong reference against a link, locking it at
// the MaxReferenceAttempts-th, and returns the attempts made so far and
// whether it is now locked. A link that no longer works counts nothing.
func (db *DB) FailReference(ctx context.Context, id string, now time.Time) (attempts int, locked bool, err error) {
	err = db.q.QueryRow(ctx, `update partner_links l set failed_attempts = l.failed_attempts + 1,
			locked_at = case when l.failed_attempts + 1 >= $2 then $3::timestamptz end
		where l.id = $1 and l.revoked_at is null and l.answered_at is null and l.locked_at is null and l.expires_at > $3
		returning l.failed_attempts, l.locked_at is not null`, id, MaxReferenceAttempts, now).Scan(&attempts, &locked)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, ErrNotFound
	}
	return attempts, locked, err
}

// ClaimAnswer marks a link that still works answered, once: false when it
// was answered (or stopped working) first.
func (db *DB) ClaimAnswer(ctx context.Context, id, answer string, now time.Time) (bool, error) {
	tag, err := db.q.Exec(ctx, `update partner_links l set answered_at = $3, answer = $2
		where l.id = $1 and l.revoked_at is null and l.answered_at is null and l.locked_at is null and l.expires_at > $3`, id, answer, now)
	return tag.RowsAffected() == 1, err
}

// ReleaseAnswer undoes ClaimAnswer when the case refused the answer, so
// the partner may answer again.
func (db *DB) ReleaseAnswer(ctx context.Context, id string) error {
	_, err := db.q.Exec(ctx, `update partner_links set answered_at = null, answer = null where id = $1`, id)
	return err
}

// PartnerLinkName is the name of the partner a link was sent to, for
// showing who acted as partner:<link id>.
func (db *DB) PartnerLinkName(ctx context.Context, id string) (string, error) {
	var name string
	err := db.q.QueryRow(ctx, `select partner_name from partner_links where id = $1`, id).Scan(&name)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", ErrNotFound
	}
	return name, err
}
