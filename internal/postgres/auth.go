package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrExists means a row with that id (or email) is already there.
var ErrExists = errors.New("already exists")

// Login finds an active member of staff by email (any case) or staff id,
// with their password hash ("" when they have none).
func (db *DB) Login(ctx context.Context, login string) (Staff, string, error) {
	var id string
	var hash *string
	err := db.q.QueryRow(ctx, `select id, password_hash from staff
		where active and (lower(email) = lower($1) or id = $1) order by id = $1 desc limit 1`, login).Scan(&id, &hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return Staff{}, "", ErrNotFound
	}
	if err != nil {
		return Staff{}, "", err
	}
	s, err := db.StaffMember(ctx, id)
	if hash == nil {
		return s, "", err
	}
	return s, *hash, err
}

// StaffByEmail finds an active member of staff by email, ignoring case.
func (db *DB) StaffByEmail(ctx context.Context, email string) (Staff, error) {
	var id string
	err := db.q.QueryRow(ctx, `select id from staff where active and lower(email) = lower($1)`, email).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return Staff{}, ErrNotFound
	}
	if err != nil {
		return Staff{}, err
	}
	return db.StaffMember(ctx, id)
}

// SetPassword stores a password hash and ends the person's sessions, so a
// changed password locks out whoever knew the old one.
func (db *DB) SetPassword(ctx context.Context, staffID, hash string) error {
	return db.InTx(ctx, func(tx *DB) error {
		tag, err := tx.q.Exec(ctx, `update staff set password_hash = $2, password_changed_at = now() where id = $1`, staffID, hash)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return ErrNotFound
		}
		_, err = tx.q.Exec(ctx, `delete from sessions where staff_id = $1`, staffID)
		return err
	})
}

// HasPassword reports whether the member of staff has a local password.
func (db *DB) HasPassword(ctx context.Context, staffID string) (bool, error) {
	var has bool
	err := db.q.QueryRow(ctx, `select password_hash is not null from staff where id = $1`, staffID).Scan(&has)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, ErrNotFound
	}
	return has, err
}

// Reach is what a member of staff's role reaches: the establishments of
// their own team (officers) and the teams they manage or head.
type Reach struct {
	TeamEstablishment string   // the establishment of the person's own team
	Managed           []string // teams where they are the manager
	Headed            []string // teams where they are the head of service
}

// StaffReach reads a member of staff's reach.
func (db *DB) StaffReach(ctx context.Context, staffID string) (Reach, error) {
	var r Reach
	err := db.q.QueryRow(ctx, `select coalesce((select t.establishment from staff s join teams t on t.id = s.team_id
			where s.id = $1 and t.active), ''),
		coalesce((select array_agg(id order by id) from teams where manager_id = $1 and active), '{}'),
		coalesce((select array_agg(id order by id) from teams where head_id = $1 and active), '{}')`, staffID).
		Scan(&r.TeamEstablishment, &r.Managed, &r.Headed)
	return r, err
}

// Session is a signed-in browser.
type Session struct {
	IDHash    []byte
	StaffID   string
	CreatedAt time.Time
	LastSeen  time.Time
	ExpiresAt time.Time
	Method    string
	Remote    string
}

// CreateSession stores a new session.
func (db *DB) CreateSession(ctx context.Context, s Session) error {
	_, err := db.q.Exec(ctx, `insert into sessions (id_hash, staff_id, expires_at, method, remote) values ($1, $2, $3, $4, $5)`,
		s.IDHash, s.StaffID, s.ExpiresAt, s.Method, s.Remote)
	return err
}

// SessionByHash finds a session that has neither passed its absolute expiry
// nor been idle longer than idle, and marks it used (at most once a minute,
// to spare the database a write per request).
func (db *DB) SessionByHash(ctx context.Context, hash []byte, idle time.Duration) (Session, error) {
	var s Session
	err := db.q.QueryRow(ctx, `select s.id_hash, s.staff_id, s.created_at, s.last_seen, s.expires_at, s.method, s.remote
		from sessions s join staff st on st.id = s.staff_id
		where s.id_hash = $1 and st.active and s.expires_at > now() and s.last_seen > now() - make_interval(secs => $2)`, hash, idle.Seconds()).
		Scan(&s.IDHash, &s.StaffID, &s.CreatedAt, &s.LastSeen, &s.ExpiresAt, &s.Method, &s.Remote)
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
