package postgres

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"hash/fnv"
	"time"

	"github.com/jackc/pgx/v5"
)

// Prison movement events (migration 013): each recorded once per source
// and event id before anything is done about it, then marked with what
// was done. The body holds personal data and stays in this table.

// Event statuses.
const (
	EventReceived  = "received"  // recorded, not yet acted on (or processing failed on our side)
	EventApplied   = "applied"   // acted on
	EventHeld      = "held"      // waiting for an earlier event (a transfer before its reception)
	EventParked    = "parked"    // in the review queue: an unknown prison or person, or refused
	EventIgnored   = "ignored"   // nothing to do
	EventDismissed = "dismissed" // taken off the review queue by a manager
)

// NewEvent is an event about to be recorded.
type NewEvent struct {
	Source, EventID, Type, Reason string
	PrisonNumber, Establishment   string
	OccurredAt, ReceivedAt        time.Time
	Body                          []byte
}

// EventRecord is a recorded event.
type EventRecord struct {
	ID            int64      `json:"id"`
	Source        string     `json:"source"`
	EventID       string     `json:"event_id"`
	Type          string     `json:"type"`
	Reason        string     `json:"reason,omitempty"`
	PrisonNumber  string     `json:"prison_number,omitempty"`
	Establishment string     `json:"establishment,omitempty"`
	OccurredAt    time.Time  `json:"occurred_at"`
	ReceivedAt    time.Time  `json:"received_at"`
	Status        string     `json:"status"`
	Outcome       string     `json:"outcome,omitempty"`
	CaseID        string     `json:"case_id,omitempty"`
	Attempts      int        `json:"attempts"`
	ProcessedAt   *time.Time `json:"processed_at,omitempty"`
	DecidedBy     string     `json:"decided_by,omitempty"`
	Body          []byte     `json:"-"`
}

// ErrEventIDReused means a source sent an event id again with another body.
var ErrEventIDReused = errors.New("event id already used for a different event")

const eventColumns = `id, source, event_id, type, reason, prison_number, establishment, occurred_at, received_at,
	status, outcome, coalesce(case_id, ''), attempts, processed_at, coalesce(decided_by, ''), body`

func scanEvent(row pgx.Row) (EventRecord, error) {
	var e EventRecord
	err := row.Scan(&e.ID, &e.Source, &e.EventID, &e.Type, &e.Reason, &e.PrisonNumber, &e.Establishment, &e.OccurredAt,
		&e.ReceivedAt, &e.Status, &e.Outcome, &e.CaseID, &e.Attempts, &e.ProcessedAt, &e.DecidedBy, &e.Body)
	if errors.Is(err, pgx.ErrNoRows) {
		return e, ErrNotFound
	}
	return e, err
}

// RecordEvent records an event, or finds it recorded (created false): the
// same source and event id with the same body. The same id with another
// body is ErrEventIDReused.
func (db *DB) RecordEvent(ctx context.Context, e NewEvent) (EventRecord, bool, error) {
	sum := sha256.Sum256(e.Body)
	var id int64
	err := db.q.QueryRow(ctx, `insert into events (source, event_id, type, reason, prison_number, establishment,
		occurred_at, received_at, body, body_hash) values ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10)
		on conflict (source, event_id) do nothing returning id`,
		e.Source, e.EventID, e.Type, e.Reason, e.PrisonNumber, e.Establishment, e.OccurredAt, e.ReceivedAt, string(e.Body), sum[:]).Scan(&id)
	created := err == nil
	if errors.Is(err, pgx.ErrNoRows) {
		var hash []byte
		if err = db.q.QueryRow(ctx, `select id, body_hash from events where source = $1 and event_id = $2`, e.Source, e.EventID).
			Scan(&id, &hash); err != nil {
			return EventRecord{}, false, err
		}
		if !bytes.Equal(hash, sum[:]) {
			return EventRecord{}, false, ErrEventIDReused
		}
	} else if err != nil {
		return EventRecord{}, false, err
	}
	rec, err := db.Event(ctx, id)
	return rec, created, err
}

// Event reads one recorded event.
func (db *DB) Event(ctx context.Context, id int64) (EventRecord, error) {
	return scanEvent(db.q.QueryRow(ctx, `select `+eventColumns+` from events where id = $1`, id))
}

// EventOutcome is what processing an event came to.
type EventOutcome struct {
	Status  string
	Outcome string
	CaseID  string
	// Establishment, when set, replaces the event's: the prison of the case
	// it concerns, for an update that names none.
	Establishment string
	// DecidedBy is the manager who applied or dismissed it, if any.
	DecidedBy string
}

// SetEventOutcome records what processing an event came to, at a time.
func (db *DB) SetEventOutcome(ctx context.Context, id int64, o EventOutcome, at time.Time) error {
	tag, err := db.q.Exec(ctx, `update events set status = $2, outcome = $3, case_id = coalesce(nullif($4, ''), case_id),
		establishment = coalesce(nullif($5, ''), establishment), decided_by = coalesce(nullif($6, ''), decided_by),
		processed_at = $7 where id = $1`, id, o.Status, o.Outcome, o.CaseID, o.Establishment, o.DecidedBy, at)
	if err == nil && tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return err
}

// CountEventFailure counts a failed attempt at processing an event, and
// returns how many there have been.
func (db *DB) CountEventFailure(ctx context.Context, id int64) (int, error) {
	var n int
	err := db.q.QueryRow(ctx, `update events set attempts = attempts + 1 where id = $1 returning attempts`, id).Scan(&n)
	return n, err
}

// PersonEvents lists a person's events with one of the statuses, in the
// order they happened.
func (db *DB) PersonEvents(ctx context.Context, prisonNumber string, statuses ...string) ([]EventRecord, error) {
	rows, err := db.q.Query(ctx, `select `+eventColumns+` from events where prison_number = $1 and status = any($2::text[])
		order by occurred_at, id`, prisonNumber, nonNil(statuses))
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (EventRecord, error) { return scanEvent(row) })
}

// LatestApplied is the latest occurred_at of the person's applied events
// of the types, other than the event except; ok false when none.
func (db *DB) LatestApplied(ctx context.Context, prisonNumber string, types []string, except int64) (at time.Time, ok bool, err error) {
	var t *time.Time
	err = db.q.QueryRow(ctx, `select max(occurred_at) from events where prison_number = $1 and status = 'applied'
		and type = any($2::text[]) and id <> $3`, prisonNumber, nonNil(types), except).Scan(&t)
	if err != nil || t == nil {
		return time.Time{}, false, err
	}
	return *t, true, nil
}

// EventsToSweep lists events with a status received before a time, oldest
// first: stuck ones to try again, held ones to try again or park.
func (db *DB) EventsToSweep(ctx context.Context, status string, before time.Time, limit int) ([]EventRecord, error) {
	rows, err := db.q.Query(ctx, `select `+eventColumns+` from events where status = $1 and received_at < $2
		order by received_at, id limit $3`, status, before, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (EventRecord, error) { return scanEvent(row) })
}

// EventReviewFilter selects the review queue: events with one of the
// statuses at one of the establishments, and, with Unclaimed, at any
// establishment no active team works at.
type EventReviewFilter struct {
	Statuses       []string
	Establishments []string
	Unclaimed      bool
	Limit          int
}

// EventReview lists the review queue, oldest first.
func (db *DB) EventReview(ctx context.Context, f EventReviewFilter) ([]EventRecord, error) {
	if f.Limit <= 0 {
		f.Limit = 200
	}
	rows, err := db.q.Query(ctx, `select `+eventColumns+` from events e where status = any($1::text[])
		and (establishment = any($2::text[]) or $3::boolean and not exists
			(select 1 from teams t where t.establishment = e.establishment and t.active))
		order by received_at, id limit $4`, nonNil(f.Statuses), nonNil(f.Establishments), f.Unclaimed, f.Limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (EventRecord, error) { return scanEvent(row) })
}

// EstablishmentClaimed reports whether an active team works at the
// establishment.
func (db *DB) EstablishmentClaimed(ctx context.Context, establishment string) (bool, error) {
	var ok bool
	err := db.q.QueryRow(ctx, `select exists (select 1 from teams where establishment = $1 and active)`, establishment).Scan(&ok)
	return ok, err
}

// PersonCase is one of a person's cases, as the read model holds it.
type PersonCase struct {
	ID            string
	Booking       string
	Establishment string
	Team          string
	Stage         string
	Version       int
	OpenedAt      time.Time
	ClosedAt      *time.Time
}

// PersonCases lists a person's cases, the most recently opened first.
func (db *DB) PersonCases(ctx context.Context, prisonNumber string) ([]PersonCase, error) {
	rows, err := db.q.Query(ctx, `select id, booking, establishment, team_id, stage, version, opened_at, closed_at
		from cases where prison_number = $1 order by opened_at desc, id`, prisonNumber)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (PersonCase, error) {
		var c PersonCase
		err := row.Scan(&c.ID, &c.Booking, &c.Establishment, &c.Team, &c.Stage, &c.Version, &c.OpenedAt, &c.ClosedAt)
		return c, err
	})
}

// CaseVersion is the version of a case the read model holds.
func (db *DB) CaseVersion(ctx context.Context, caseID string) (int, error) {
	var v int
	err := db.q.QueryRow(ctx, `select version from cases where id = $1`, caseID).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, ErrNotFound
	}
	return v, err
}

// LockPerson takes a lock, across every process sharing the database, on
// one person's events: they are processed one at a time, in turn. unlock
// gives it up. The lock is a session-level advisory lock on a connection
// of its own, which is closed rather than returned to the pool if the
// unlock fails, so a lock is never left behind.
func (db *DB) LockPerson(ctx context.Context, prisonNumber string) (unlock func(), err error) {
	h := fnv.New64a()
	h.Write([]byte("throughgate events " + prisonNumber))
	key := int64(h.Sum64())
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, `select pg_advisory_lock($1)`, key); err != nil {
		conn.Release()
		return nil, err
	}
	return func() {
		uctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := conn.Exec(uctx, `select pg_advisory_unlock($1)`, key); err != nil {
			_ = conn.Conn().Close(uctx)
		}
		conn.Release()
	}, nil
}
