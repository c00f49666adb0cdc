package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/throughgate/throughgate/resettlement"
)

// Person is the personal data behind a case. It never leaves PostgreSQL
// except to the pages and API of people allowed to see the case.
type Person struct {
	PrisonNumber   string            `json:"prison_number"`
	Booking        string            `json:"booking"`
	GivenName      string            `json:"given_name"`
	FamilyName     string            `json:"family_name"`
	DateOfBirth    resettlement.Date `json:"date_of_birth"`
	LocalAuthority string            `json:"local_authority"`
}

// NewCase is a case about to be opened.
type NewCase struct {
	ID            string
	Person        Person
	OpenedBy      string
	RequestID     string // the client's idempotency key; "" for none
	Establishment string
	Team          string
	Owner         string
	ReceivedOn    resettlement.Date
}

// OpenCaseExistsError says the person already has an open case for the booking.
type OpenCaseExistsError struct{ CaseID string }

func (e *OpenCaseExistsError) Error() string {
	return "this person already has an open case for this booking (case " + e.CaseID + ")"
}

// CreateCase records a new case before its workflow starts, so the unique
// index refuses a second open case for the same person and booking before
// anything else happens. A retry with the same request id returns the case
// the first attempt created, with created false.
func (db *DB) CreateCase(ctx context.Context, nc NewCase) (id string, created bool, err error) {
	var req *string
	if nc.RequestID != "" {
		req = &nc.RequestID
	}
	var owner *string
	if nc.Owner != "" {
		owner = &nc.Owner
	}
	p := nc.Person
	_, err = db.q.Exec(ctx, `insert into cases (id, prison_number, booking, given_name, family_name, date_of_birth,
		local_authority, opened_by, open_request, establishment, team_id, owner_id, received_on)
		values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		nc.ID, p.PrisonNumber, p.Booking, p.GivenName, p.FamilyName, date(p.DateOfBirth), p.LocalAuthority,
		nc.OpenedBy, req, nc.Establishment, nc.Team, owner, date(nc.ReceivedOn))
	switch {
	case err == nil:
		return nc.ID, true, nil
	case isUniqueViolation(err, "") && nc.RequestID != "":
		// A retry collides with both unique indexes, and PostgreSQL may
		// name either: the request id decides whether this is a retry.
		if first, ferr := db.CaseOpenedBy(ctx, nc.RequestID); ferr == nil {
			return first, false, nil
		}
	}
	switch {
	case isUniqueViolation(err, "cases_one_open_per_booking"):
		if qerr := db.q.QueryRow(ctx, `select id from cases where prison_number = $1 and booking = $2 and closed_at is null`,
			p.PrisonNumber, p.Booking).Scan(&id); qerr != nil {
			return "", false, qerr
		}
		return "", false, &OpenCaseExistsError{CaseID: id}
	}
	return "", false, err
}

// DeleteUnstartedCase removes a case whose workflow never started, so a
// failed open leaves nothing behind to block a retry.
func (db *DB) DeleteUnstartedCase(ctx context.Context, id string) error {
	_, err := db.q.Exec(ctx, `delete from cases where id = $1 and version = 0
		and not exists (select 1 from notes where case_id = $1)`, id)
	return err
}

// Projection is what the workflow writes after each change: the case, what
// it derived at that moment, and the events the database has not yet seen.
type Projection struct {
	Case            *resettlement.Case   `json:"case"`
	Stage           resettlement.Stage   `json:"stage"`
	Stalled         bool                 `json:"stalled"`
	EscalationLevel int                  `json:"escalation_level"`
	NextDue         time.Time            `json:"next_due"`
	Events          []resettlement.Event `json:"events"`
}

// SaveCase writes a projection. Projections can arrive out of order (two
// updates' activities racing); the case row only moves forward in version,
// and events are keyed by sequence, so the newest state always wins.
func (db *DB) SaveCase(ctx context.Context, p Projection) error {
	c := p.Case
	state, err := json.Marshal(c)
	if err != nil {
		return err
	}
	var releaseDay *time.Time
	if d, ok := c.ReleaseDay(); ok {
		releaseDay = date(d)
	}
	var nextDue *time.Time
	if !p.NextDue.IsZero() {
		nextDue = &p.NextDue
	}
	var closedAt *time.Time
	if c.Closed {
		t := c.LastProgress
		closedAt = &t
	}
	return pgx.BeginFunc(ctx, db.q, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `update cases set version = $2, establishment = $3, team_id = $4, owner_id = nullif($5, ''),
			stage = $6, stalled = $7, escalation_level = $8, paused = $9, next_due = $10, release_day = $11,
			received_on = $12, last_progress = $13, closed_at = $14, state = $15, updated_at = now()
			where id = $1 and version < $2`,
			c.ID, c.Version, c.Establishment, c.Team, c.Owner, string(p.Stage), p.Stalled, p.EscalationLevel, c.Paused,
			nextDue, releaseDay, date(c.ReceivedOn), c.LastProgress, closedAt, state)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 1 {
			if _, err := tx.Exec(ctx, `delete from steps where case_id = $1`, c.ID); err != nil {
				return err
			}
			rows := make([][]any, len(c.Steps))
			for i, st := range c.Steps {
				rows[i] = stepRow(c.ID, st)
			}
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"steps"}, stepColumns,
				pgx.CopyFromRows(rows)); err != nil {
				return err
			}
		}
		for _, e := range p.Events {
			var note *int64
			if e.NoteID != 0 {
				note = &e.NoteID
			}
			if _, err := tx.Exec(ctx, `insert into case_events (case_id, seq, at, by_staff, kind, step_id, from_status, to_status, note_id, text)
				values ($1, $2, $3, nullif($4, ''), $5, nullif($6, ''), nullif($7, ''), nullif($8, ''), $9, $10)
				on conflict do nothing`,
				c.ID, e.Seq, e.At, e.By, e.Kind, e.StepID, string(e.From), string(e.To), note, e.Text); err != nil {
				return err
			}
		}
		return nil
	})
}

// stepColumns and stepRow are how a domain step is written to the steps
// table, by the projection and by the benchmarks' bulk loader alike.
var stepColumns = []string{"case_id", "id", "kind", "title", "pathway", "status", "owner_staff", "owner_team", "blocking", "due", "due_date", "updated"}

func stepRow(caseID string, s resettlement.Step) []any {
	var due *time.Time
	if !s.Due.IsZero() {
		due = &s.Due
	}
	var staff *string
	if s.Owner.Staff != "" {
		staff = &s.Owner.Staff
	}
	return []any{caseID, s.ID, string(s.Kind), s.Title, string(s.Pathway), string(s.Status), staff, s.Owner.Team, s.Blocking, due, date(s.DueDate), s.Updated}
}

// ErrNotFound means there is no such row.
var ErrNotFound = errors.New("not found")

// CaseRecord is a case as the read model holds it.
type CaseRecord struct {
	ID              string
	Person          Person
	Establishment   string
	Team            string
	Owner           string
	Stage           string
	Stalled         bool
	EscalationLevel int
	Paused          bool
	NextDue         *time.Time
	ReleaseDay      *time.Time
	OpenedAt        time.Time
	ClosedAt        *time.Time
	LastProgress    time.Time
	Version         int
	State           *resettlement.Case // nil until the workflow first saves
}

// Case reads one case.
func (db *DB) Case(ctx context.Context, id string) (CaseRecord, error) {
	var r CaseRecord
	var owner *string
	var dob time.Time
	var state []byte
	err := db.q.QueryRow(ctx, `select id, prison_number, booking, given_name, family_name, date_of_birth, local_authority,
		establishment, team_id, owner_id, stage, stalled, escalation_level, paused, next_due, release_day, opened_at, closed_at,
		last_progress, version, state from cases where id = $1`, id).Scan(
		&r.ID, &r.Person.PrisonNumber, &r.Person.Booking, &r.Person.GivenName, &r.Person.FamilyName, &dob, &r.Person.LocalAuthority,
		&r.Establishment, &r.Team, &owner, &r.Stage, &r.Stalled, &r.EscalationLevel, &r.Paused, &r.NextDue, &r.ReleaseDay,
		&r.OpenedAt, &r.ClosedAt, &r.LastProgress, &r.Version, &state)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, ErrNotFound
	}
	if err != nil {
		return r, err
	}
	r.Person.DateOfBirth = resettlement.DateOf(dob)
	if owner != nil {
		r.Owner = *owner
	}
	if state != nil {
		r.State = new(resettlement.Case)
		if err := json.Unmarshal(state, r.State); err != nil {
			return r, fmt.Errorf("case %s: reading its saved state: %w", id, err)
		}
	}
	return r, nil
}

// AddNote stores a note and returns its id for the workflow to carry.
func (db *DB) AddNote(ctx context.Context, caseID, author, body string) (int64, error) {
	var id int64
	err := db.q.QueryRow(ctx, `insert into notes (case_id, author, body) values ($1, $2, $3) returning id`, caseID, author, body).Scan(&id)
	return id, err
}

// TimelineEntry is an event with the note that explains it.
type TimelineEntry struct {
	resettlement.Event
	Note string `json:"note,omitempty"`
}

// Timeline returns the case's whole history, oldest first.
func (db *DB) Timeline(ctx context.Context, caseID string) ([]TimelineEntry, error) {
	rows, err := db.q.Query(ctx, `select e.seq, e.at, coalesce(e.by_staff, ''), e.kind, coalesce(e.step_id, ''),
		coalesce(e.from_status, ''), coalesce(e.to_status, ''), coalesce(e.note_id, 0), e.text, coalesce(n.body, '')
		from case_events e left join notes n on n.id = e.note_id where e.case_id = $1 order by e.seq`, caseID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (TimelineEntry, error) {
		var t TimelineEntry
		var from, to string
		err := row.Scan(&t.Seq, &t.At, &t.By, &t.Kind, &t.StepID, &from, &to, &t.NoteID, &t.Text, &t.Note)
		t.From, t.To = resettlement.StepStatus(from), resettlement.StepStatus(to)
		return t, err
	})
}

// date turns a domain date into a value pgx writes as a SQL date (nil when unknown).
func date(d resettlement.Date) *time.Time {
	if d.IsZero() {
		return nil
	}
	t := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
	return &t
}
