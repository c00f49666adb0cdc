package postgres

import (
	"bytes"
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
)

// IdempotencyKey is a key in its scope: who sent it, by which route, on
// which case ("" for a route without one).
type IdempotencyKey struct {
	Staff, Route, CaseID, Key string
}

// ErrKeyReused means the key was already used, in its scope, for a
// different request.
var ErrKeyReused = errors.New("idempotency key already used for a different request")

// ClaimKey records that k is used for the request whose hash is given, or
// finds that it already was. It returns the case the key's first request
// opened ("" when none yet), and ErrKeyReused when the key was first used
// for a different request.
func (db *DB) ClaimKey(ctx context.Context, k IdempotencyKey, hash []byte) (resultCase string, err error) {
	for range 3 {
		if _, err := db.q.Exec(ctx, `insert into idempotency_keys (staff_id, route, case_id, key, request_hash)
			values ($1, $2, $3, $4, $5) on conflict do nothing`, k.Staff, k.Route, k.CaseID, k.Key, hash); err != nil {
			return "", err
		}
		var first []byte
		err = db.q.QueryRow(ctx, `select request_hash, coalesce(result_case, '') from idempotency_keys
			where staff_id = $1 and route = $2 and case_id = $3 and key = $4`, k.Staff, k.Route, k.CaseID, k.Key).Scan(&first, &resultCase)
		if errors.Is(err, pgx.ErrNoRows) {
			continue // released by a refused request between the two statements: try again
		}
		if err != nil {
			return "", err
		}
		if !bytes.Equal(first, hash) {
			return "", ErrKeyReused
		}
		return resultCase, nil
	}
	return "", errors.New("idempotency key: claimed and released again and again")
}

// SetKeyResult records the case the key's request opened.
func (db *DB) SetKeyResult(ctx context.Context, k IdempotencyKey, caseID string) error {
	_, err := db.q.Exec(ctx, `update idempotency_keys set result_case = $5
		where staff_id = $1 and route = $2 and case_id = $3 and key = $4`, k.Staff, k.Route, k.CaseID, k.Key, caseID)
	return err
}

// ReleaseKey forgets a key whose request was refused and so changed
// nothing, so that the key may be sent again with a corrected request. A
// key that has a result is kept.
func (db *DB) ReleaseKey(ctx context.Context, k IdempotencyKey, hash []byte) error {
	_, err := db.q.Exec(ctx, `delete from idempotency_keys where staff_id = $1 and route = $2 and case_id = $3 and key = $4
		and request_hash = $5 and result_case is null`, k.Staff, k.Route, k.CaseID, k.Key, hash)
	return err
}
