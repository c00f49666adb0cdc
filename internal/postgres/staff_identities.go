package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
)

// StaffByIdentity finds the active member of staff linked to an OpenID
// Connect provider's (issuer, subject), and notes the link used.
func (db *DB) StaffByIdentity(ctx context.Context, issuer, subject string) (Staff, error) {
	var id string
	err := db.q.QueryRow(ctx, `update staff_identities i set last_used = now() from staff s
		where i.issuer = $1 and i.subject = $2 and s.id = i.staff_id and s.active returning s.id`, issuer, subject).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return Staff{}, ErrNotFound
	}
	if err != nil {
		return Staff{}, err
	}
	return db.StaffMember(ctx, id)
}

// HasIdentity reports whether a member of staff is linked to a subject of
// the issuer.
func (db *DB) HasIdentity(ctx context.Context, staffID, issuer string) (bool, error) {
	var ok bool
	err := db.q.QueryRow(ctx, `select exists (select 1 from staff_identities where staff_id = $1 and issuer = $2)`, staffID, issuer).Scan(&ok)
	return ok, err
}

// LinkIdentity links a member of staff to the issuer's subject. ErrExists:
// the subject, or the member of staff, is linked already for the issuer.
func (db *DB) LinkIdentity(ctx context.Context, issuer, subject, staffID, email string) error {
	_, err := db.q.Exec(ctx, `insert into staff_identities (issuer, subject, staff_id, email, last_used) values ($1, $2, $3, $4, now())`,
		issuer, subject, staffID, email)
	if isUniqueViolation(err, "") {
		return ErrExists
	}
	return err
}

// UnlinkIdentities removes a member of staff's links to every provider,
// so their next single sign-on links again (an administrator's repair
// when the provider's account was replaced).
func (db *DB) UnlinkIdentities(ctx context.Context, staffID string) (int64, error) {
	tag, err := db.q.Exec(ctx, `delete from staff_identities where staff_id = $1`, staffID)
	return tag.RowsAffected(), err
}
