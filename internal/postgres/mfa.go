package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
)

// TOTPEnrolment is a member of staff's TOTP secret and its state.
type TOTPEnrolment struct {
	Secret    []byte
	Confirmed bool  // the first code proved the app has the secret
	LastStep  int64 // the newest step a code was accepted for
}

// StartTOTP stores a new secret awaiting its first code, replacing one
// that never got it. A confirmed enrolment is not replaced (ErrExists):
// it must be turned off first.
func (db *DB) StartTOTP(ctx context.Context, staffID string, secret []byte) error {
	tag, err := db.q.Exec(ctx, `insert into staff_totp (staff_id, secret) values ($1, $2)
		on conflict (staff_id) do update set secret = excluded.secret, last_step = 0, created_at = now()
		where staff_totp.confirmed_at is null`, staffID, secret)
	if err == nil && tag.RowsAffected() == 0 {
		return ErrExists
	}
	return err
}

// TOTP reads a member of staff's enrolment (ErrNotFound: none).
func (db *DB) TOTP(ctx context.Context, staffID string) (TOTPEnrolment, error) {
	var m TOTPEnrolment
	err := db.q.QueryRow(ctx, `select secret, confirmed_at is not null, last_step from staff_totp where staff_id = $1`, staffID).
		Scan(&m.Secret, &m.Confirmed, &m.LastStep)
	if errors.Is(err, pgx.ErrNoRows) {
		return m, ErrNotFound
	}
	return m, err
}

// TOTPEnrolled reports whether a member of staff has confirmed TOTP.
func (db *DB) TOTPEnrolled(ctx context.Context, staffID string) (bool, error) {
	var ok bool
	err := db.q.QueryRow(ctx, `select exists (select 1 from staff_totp where staff_id = $1 and confirmed_at is not null)`, staffID).Scan(&ok)
	return ok, err
}

// ConfirmTOTP marks an enrolment confirmed by a code of step, which is
// then used up, and stores the hashes of new recovery codes in place of
// any old ones. ErrNotFound: no enrolment awaits confirming.
func (db *DB) ConfirmTOTP(ctx context.Context, staffID string, step int64, recoveryHashes [][]byte) error {
	return db.InTx(ctx, func(tx *DB) error {
		tag, err := tx.q.Exec(ctx, `update staff_totp set confirmed_at = now(), last_step = $2
			where staff_id = $1 and confirmed_at is null and last_step < $2`, staffID, step)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return ErrNotFound
		}
		return tx.ReplaceRecoveryCodes(ctx, staffID, recoveryHashes)
	})
}

// UseTOTPStep accepts a code of step for a confirmed enrolment if it is
// newer than every step accepted before, in one statement: of two requests
// with the same code, one wins.
func (db *DB) UseTOTPStep(ctx context.Context, staffID string, step int64) (bool, error) {
	tag, err := db.q.Exec(ctx, `update staff_totp set last_step = $2
		where staff_id = $1 and confirmed_at is not null and last_step < $2`, staffID, step)
	return tag.RowsAffected() == 1, err
}

// ReplaceRecoveryCodes stores the hashes of new recovery codes; the old
// ones stop working.
func (db *DB) ReplaceRecoveryCodes(ctx context.Context, staffID string, hashes [][]byte) error {
	return db.InTx(ctx, func(tx *DB) error {
		if _, err := tx.q.Exec(ctx, `delete from staff_recovery_codes where staff_id = $1`, staffID); err != nil {
			return err
		}
		_, err := tx.q.Exec(ctx, `insert into staff_recovery_codes (staff_id, code_hash) select $1, unnest($2::bytea[])`, staffID, hashes)
		return err
	})
}

// UseRecoveryCode uses up the recovery code with the hash, if it is one
// of the person's and unused.
func (db *DB) UseRecoveryCode(ctx context.Context, staffID string, hash []byte) (bool, error) {
	tag, err := db.q.Exec(ctx, `update staff_recovery_codes set used_at = now()
		where staff_id = $1 and code_hash = $2 and used_at is null`, staffID, hash)
	return tag.RowsAffected() == 1, err
}

// RecoveryCodesLeft counts a member of staff's unused recovery codes.
func (db *DB) RecoveryCodesLeft(ctx context.Context, staffID string) (int, error) {
	var n int
	err := db.q.QueryRow(ctx, `select count(*) from staff_recovery_codes where staff_id = $1 and used_at is null`, staffID).Scan(&n)
	return n, err
}

// DeleteTOTP removes a member of staff's TOTP enrolment and recovery
// codes, and reports whether there was one.
func (db *DB) DeleteTOTP(ctx context.Context, staffID string) (bool, error) {
	var removed bool
	err := db.InTx(ctx, func(tx *DB) error {
		if _, err := tx.q.Exec(ctx, `delete from staff_recovery_codes where staff_id = $1`, staffID); err != nil {
			return err
		}
		tag, err := tx.q.Exec(ctx, `delete from staff_totp where staff_id = $1`, staffID)
		removed = tag.RowsAffected() == 1
		return err
	})
	return removed, err
}
