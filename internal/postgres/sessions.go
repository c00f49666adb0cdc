package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
)

// Session is a signed-in browser.
type Session struct {
	IDHash    []byte
	StaffID   string
	CreatedAt time.Time
	LastSeen  time.Time
	ExpiresAt time.Time
	Method    string
	Remote    string
	// MFAAt is when the session passed its second factor (TOTP); nil: it
	// has not.
	MFAAt *time.Time
}

// CreateSession stores a new session.
func (db *DB) CreateSession(ctx context.Context, s Session) error {
	_, err := db.q.Exec(ctx, `insert into sessions (id_hash, staff_id, expires_at, method, remote, mfa_at) values ($1, $2, $3, $4, $5, $6)`,
		s.IDHash, s.StaffID, s.ExpiresAt, s.Method, s.Remote, s.MFAAt)
	return err
}

// SessionByHash finds a session that has neither passed its absolute expiry
// nor been idle longer than idle, and marks it used (at most once a minute,
// to spare the database a write per request).
func (db *DB) SessionByHash(ctx context.Context, hash []byte, idle time.Duration) (Session, error) {
	var s Session
	err := db.q.QueryRow(ctx, `select s.id_hash, s.staff_id, s.created_at, s.last_seen, s.expires_at, s.method, s.remote, s.mfa_at
		from sessions s join staff st on st.id = s.staff_id
		where s.id_hash = $1 and st.active and s.expires_at > now() and s.last_seen > now() - make_interval(secs => $2)`, hash, idle.Seconds()).
		Scan(&s.IDHash, &s.StaffID, &s.CreatedAt, &s.LastSeen, &s.ExpiresAt, &s.Method, &s.Remote, &s.MFAAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, ErrNotFound
	}
	if err != nil {
		return s, err
	}
	if time.Since(s.LastSeen) > time.Minute {
		_, err = db.q.Exec(ctx, `update sessions set last_seen = now() where id_hash = $1`, hash)
	}
	return s, err
}

// DeleteSession ends a session.
func (db *DB) DeleteSession(ctx context.Context, hash []byte) error {
	_, err := db.q.Exec(ctx, `delete from sessions where id_hash = $1`, hash)
	return err
}

// DeleteExpiredSessions removes sessions past their absolute expiry or idle
// longer than idle, and returns how many.
func (db *DB) DeleteExpiredSessions(ctx context.Context, idle time.Duration) (int64, error) {
	tag, err := db.q.Exec(ctx, `delete from sessions where expires_at <= now() or last_seen <= now() - make_interval(secs => $1)`, idle.Seconds())
	return tag.RowsAffected(), err
}

// SignOutEverywhere ends every session and revokes every token of a member
// of staff (on deactivation).
func (db *DB) SignOutEverywhere(ctx context.Context, staffID string) error {
	return db.InTx(ctx, func(tx *DB) error {
		if _, err := tx.q.Exec(ctx, `delete from sessions where staff_id = $1`, staffID); err != nil {
			return err
		}
		_, err := tx.q.Exec(ctx, `update api_tokens set revoked_at = now() where staff_id = $1 and revoked_at is null`, staffID)
		return err
	})
}

// EndSessionsAndTokens ends every session of a member of staff but keep
// (nil: every one) and revokes all their tokens, and says how many of
// each: after their password is changed or reset, or their second factor
// reset, whoever held the old credentials holds nothing.
func (db *DB) EndSessionsAndTokens(ctx context.Context, staffID string, keep []byte) (sessions, tokens int64, err error) {
	err = db.InTx(ctx, func(tx *DB) error {
		tag, err := tx.q.Exec(ctx, `delete from sessions where staff_id = $1 and ($2::bytea is null or id_hash <> $2)`, staffID, keep)
		if err != nil {
			return err
		}
		sessions = tag.RowsAffected()
		tag, err = tx.q.Exec(ctx, `update api_tokens set revoked_at = now() where staff_id = $1 and revoked_at is null`, staffID)
		tokens = tag.RowsAffected()
		return err
	})
	return sessions, tokens, err
}
