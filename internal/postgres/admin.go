package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
)

// AllStaff lists staff, active first, by id.
func (db *DB) AllStaff(ctx context.Context) ([]Staff, error) {
	rows, err := db.q.Query(ctx, `select id, name, email, role, coalesce(team_id, ''), notify, away_until, active
		from staff order by active desc, id`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Staff, error) {
		var s Staff
		err := row.Scan(&s.ID, &s.Name, &s.Email, &s.Role, &s.Team, &s.Notify, &s.AwayUntil, &s.Active)
		return s, err
	})
}

// AllTeams lists teams by id.
func (db *DB) AllTeams(ctx context.Context) ([]Team, error) {
	rows, err := db.q.Query(ctx, `select id, name, establishment, email, coalesce(manager_id, ''), coalesce(head_id, ''), active
		from teams order by active desc, id`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Team, error) {
		var t Team
		err := row.Scan(&t.ID, &t.Name, &t.Establishment, &t.Email, &t.Manager, &t.Head, &t.Active)
		return t, err
	})
}

// CreateStaff adds a member of staff, refusing an id or email in use.
func (db *DB) CreateStaff(ctx context.Context, s Staff) error {
	if s.Notify == "" {
		s.Notify = "each"
	}
	_, err := db.q.Exec(ctx, `insert into staff (id, name, email, role, team_id, notify, away_until, active)
		values ($1, $2, $3, $4, nullif($5, ''), $6, $7, $8)`,
		s.ID, s.Name, s.Email, s.Role, s.Team, s.Notify, s.AwayUntil, s.Active)
	if isUniqueViolation(err, "") {
		return ErrExists
	}
	return err
}

// UpdateStaff rewrites a member of staff, refusing an email another has.
func (db *DB) UpdateStaff(ctx context.Context, s Staff) error {
	tag, err := db.q.Exec(ctx, `update staff set name = $2, email = $3, role = $4, team_id = nullif($5, ''), notify = $6,
		away_until = $7, active = $8 where id = $1`, s.ID, s.Name, s.Email, s.Role, s.Team, s.Notify, s.AwayUntil, s.Active)
	if isUniqueViolation(err, "") {
		return ErrExists
	}
	if err == nil && tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return err
}

// CreateTeam adds a team, refusing an id in use.
func (db *DB) CreateTeam(ctx context.Context, t Team) error {
	_, err := db.q.Exec(ctx, `insert into teams (id, name, establishment, email, manager_id, head_id, active)
		values ($1, $2, $3, $4, nullif($5, ''), nullif($6, ''), $7)`,
		t.ID, t.Name, t.Establishment, t.Email, t.Manager, t.Head, t.Active)
	if isUniqueViolation(err, "") {
		return ErrExists
	}
	return err
}

// UpdateTeam rewrites a team.
func (db *DB) UpdateTeam(ctx context.Context, t Team) error {
	tag, err := db.q.Exec(ctx, `update teams set name = $2, establishment = $3, email = $4, manager_id = nullif($5, ''),
		head_id = nullif($6, ''), active = $7 where id = $1`, t.ID, t.Name, t.Establishment, t.Email, t.Manager, t.Head, t.Active)
	if err == nil && tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return err
}

// ActiveStaffExists reports whether id names an active member of staff.
func (db *DB) ActiveStaffExists(ctx context.Context, id string) (bool, error) {
	var ok bool
	err := db.q.QueryRow(ctx, `select exists (select 1 from staff where id = $1 and active)`, id).Scan(&ok)
	return ok, err
}

// AddNoteOnce stores a note for an API request. A retry with the same
// request id gets the first note's id back and stores nothing more, so the
// retried workflow update carries the same note.
func (db *DB) AddNoteOnce(ctx context.Context, caseID, author, body, requestID string) (int64, error) {
	var id int64
	err := db.q.QueryRow(ctx, `insert into notes (case_id, author, body, request_id) values ($1, $2, $3, $4)
		on conflict (request_id) where request_id is not null do update set request_id = excluded.request_id
		returning id`, caseID, author, body, requestID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, ErrNotFound
	}
	return id, err
}

// CaseOpenedBy returns the case a request id opened, if any.
func (db *DB) CaseOpenedBy(ctx context.Context, requestID string) (string, error) {
	var id string
	err := db.q.QueryRow(ctx, `select id from cases where open_request = $1`, requestID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", ErrNotFound
	}
	return id, err
}
