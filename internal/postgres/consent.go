package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/throughgate/throughgate/resettlement"
)

// Consent is the person's consent to one purpose (migration 015): the duty
// to refer to a housing authority, sharing with a GP practice, or sharing
// with a named partner. It is personal data about the person's choices, so
// it stays here; the application service checks it before a change that
// needs it.
type Consent struct {
	ID          int64             `json:"id"`
	CaseID      string            `json:"case_id"`
	Purpose     string            `json:"purpose"`
	GivenOn     resettlement.Date `json:"given_on"`
	RecordedBy  string            `json:"recorded_by"`
	RecordedAt  time.Time         `json:"recorded_at"`
	WithdrawnOn resettlement.Date `json:"withdrawn_on,omitempty"`
	WithdrawnBy string            `json:"withdrawn_by,omitempty"`
	WithdrawnAt *time.Time        `json:"withdrawn_at,omitempty"`
}

// Live reports whether the consent stands (is not withdrawn).
func (c Consent) Live() bool { return c.WithdrawnAt == nil }

// ErrConsentExists means the purpose already has a live consent.
var ErrConsentExists = errors.New("consent already recorded")

const consentColumns = `id, case_id, purpose, given_on, recorded_by, recorded_at, withdrawn_on, coalesce(withdrawn_by, ''), withdrawn_at`

func scanConsent(row pgx.Row) (Consent, error) {
	var c Consent
	var given time.Time
	var withdrawn *time.Time
	err := row.Scan(&c.ID, &c.CaseID, &c.Purpose, &given, &c.RecordedBy, &c.RecordedAt, &withdrawn, &c.WithdrawnBy, &c.WithdrawnAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, ErrNotFound
	}
	c.GivenOn = dateOf(given)
	if withdrawn != nil {
		c.WithdrawnOn = dateOf(*withdrawn)
	}
	return c, err
}

// RecordConsent records a live consent. A retry with the same request id
// on the same case returns the first one's row (created false); a purpose
// that already has a live consent is ErrConsentExists. Purposes compare
// without regard to case ("partner:Jobcentre" is "partner:jobcentre").
func (db *DB) RecordConsent(ctx context.Context, c Consent, requestID string) (Consent, bool, error) {
	if requestID != "" {
		prev, err := scanConsent(db.q.QueryRow(ctx, `select `+consentColumns+` from consents where case_id = $1 and request_id = $2`,
			c.CaseID, requestID))
		if err == nil {
			return prev, false, nil
		}
		if !errors.Is(err, ErrNotFound) {
			return prev, false, err
		}
	}
	var req *string
	if requestID != "" {
		req = &requestID
	}
	out, err := scanConsent(db.q.QueryRow(ctx, `insert into consents (case_id, purpose, given_on, recorded_by, request_id)
		values ($1, $2, $3, $4, $5) returning `+consentColumns, c.CaseID, c.Purpose, date(c.GivenOn), c.RecordedBy, req))
	switch {
	case isUniqueViolation(err, "consents_live"):
		return out, false, ErrConsentExists
	case isUniqueViolation(err, "consents_request"): // a concurrent retry
		out, err = scanConsent(db.q.QueryRow(ctx, `select `+consentColumns+` from consents where case_id = $1 and request_id = $2`,
			c.CaseID, requestID))
		return out, false, err
	}
	return out, err == nil, err
}

// Consents lists a case's consents, live and withdrawn, oldest first.
func (db *DB) Consents(ctx context.Context, caseID string) ([]Consent, error) {
	rows, err := db.q.Query(ctx, `select `+consentColumns+` from consents where case_id = $1 order by id`, caseID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Consent, error) { return scanConsent(r) })
}

// Consent reads one consent of a case.
func (db *DB) Consent(ctx context.Context, caseID string, id int64) (Consent, error) {
	return scanConsent(db.q.QueryRow(ctx, `select `+consentColumns+` from consents where case_id = $1 and id = $2`, caseID, id))
}

// HasConsent reports whether the case has a live consent for the purpose.
func (db *DB) HasConsent(ctx context.Context, caseID, purpose string) (bool, error) {
	var ok bool
	err := db.q.QueryRow(ctx, `select exists (select 1 from consents where case_id = $1 and lower(purpose) = lower($2)
		and withdrawn_at is null)`, caseID, purpose).Scan(&ok)
	return ok, err
}

// WithdrawConsent marks a live consent withdrawn on a day, by someone, and
// revokes the open partner links sent under it (the same purpose) in the
// same transaction, returning the consent and the ids of the links it
// revoked. Withdrawing a withdrawn consent changes nothing and revokes
// nothing. ErrNotFound: the case has no such consent.
func (db *DB) WithdrawConsent(ctx context.Context, caseID string, id int64, on resettlement.Date, by string, now time.Time) (Consent, []string, error) {
	var c Consent
	var revoked []string
	err := db.InTx(ctx, func(tx *DB) error {
		var err error
		c, err = scanConsent(tx.q.QueryRow(ctx, `update consents set withdrawn_on = $3, withdrawn_by = $4, withdrawn_at = $5
			where case_id = $1 and id = $2 and withdrawn_at is null returning `+consentColumns, caseID, id, date(on), by, now))
		if errors.Is(err, ErrNotFound) {
			c, err = tx.Consent(ctx, caseID, id)
			return err
		}
		if err != nil {
			return err
		}
		revoked, err = tx.revokeLinks(ctx, `case_id = $1 and lower(purpose) = lower($2)`, []any{caseID, c.Purpose}, by, "consent withdrawn", now)
		return err
	})
	return c, revoked, err
}
