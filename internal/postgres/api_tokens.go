package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
)

// Token is a personal access token as listed (never its secret).
type Token struct {
	ID        int64      `json:"id"`
	StaffID   string     `json:"staff_id"`
	Name      string     `json:"name"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	LastUsed  *time.Time `json:"last_used,omitempty"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// CreateToken stores a token's hash and returns its id.
func (db *DB) CreateToken(ctx context.Context, staffID, name string, hash []byte, expires *time.Time) (Token, error) {
	t := Token{StaffID: staffID, Name: name, ExpiresAt: expires}
	err := db.q.QueryRow(ctx, `insert into api_tokens (staff_id, name, token_hash, expires_at) values ($1, $2, $3, $4)
		returning id, created_at`, staffID, name, hash, expires).Scan(&t.ID, &t.CreatedAt)
	return t, err
}

// TokenByHash finds a live token of an active member of staff and marks it used.
func (db *DB) TokenByHash(ctx context.Context, hash []byte) (Token, error) {
	var t Token
	err := db.q.QueryRow(ctx, `update api_tokens k set last_used = now() from staff s
		where k.token_hash = $1 and s.id = k.staff_id and s.active and k.revoked_at is null
		and (k.expires_at is null or k.expires_at > now())
		returning k.id, k.staff_id, k.name, k.created_at, k.expires_at, k.last_used`, hash).
		Scan(&t.ID, &t.StaffID, &t.Name, &t.CreatedAt, &t.ExpiresAt, &t.LastUsed)
	if errors.Is(err, pgx.ErrNoRows) {
		return t, ErrNotFound
	}
	return t, err
}

// Tokens lists a member of staff's tokens, newest first.
func (db *DB) Tokens(ctx context.Context, staffID string) ([]Token, error) {
	rows, err := db.q.Query(ctx, `select id, staff_id, name, created_at, expires_at, last_used, revoked_at
		from api_tokens where staff_id = $1 order by id desc`, staffID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Token, error) {
		var t Token
		err := row.Scan(&t.ID, &t.StaffID, &t.Name, &t.CreatedAt, &t.ExpiresAt, &t.LastUsed, &t.RevokedAt)
		return t, err
	})
}

// RevokeToken revokes one of a member of staff's tokens.
func (db *DB) RevokeToken(ctx context.Context, staffID string, id int64) error {
	tag, err := db.q.Exec(ctx, `update api_tokens set revoked_at = coalesce(revoked_at, now()) where id = $1 and staff_id = $2`, id, staffID)
	if err == nil && tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return err
}
