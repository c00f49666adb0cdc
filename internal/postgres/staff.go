package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
)

// Staff is a member of staff as the directory holds them.
type Staff struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Email     string     `json:"email"`
	Role      string     `json:"role"`
	Team      string     `json:"team,omitempty"`
	Notify    string     `json:"notify"` // "each" or "digest"
	AwayUntil *time.Time `json:"away_until,omitempty"`
	Active    bool       `json:"active"`
	// Muted are the kinds of email the person turned off (never escalations).
	Muted []string `json:"muted"`
}

// StaffMember reads one member of staff.
func (db *DB) StaffMember(ctx context.Context, id string) (Staff, error) {
	var s Staff
	var team *string
	err := db.q.QueryRow(ctx, `select id, name, email, role, team_id, notify, away_until, active, muted from staff where id = $1`, id).
		Scan(&s.ID, &s.Name, &s.Email, &s.Role, &team, &s.Notify, &s.AwayUntil, &s.Active, &s.Muted)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, ErrNotFound
	}
	if team != nil {
		s.Team = *team
	}
	return s, err
}

// AllStaff lists staff, active first, by id.
func (db *DB) AllStaff(ctx context.Context) ([]Staff, error) {
	return db.staffRows(ctx, `from staff order by active desc, id`)
}

// staffRows reads the members of staff a query's from-clause (and what
// follows it) selects.
func (db *DB) staffRows(ctx context.Context, from string, args ...any) ([]Staff, error) {
	rows, err := db.q.Query(ctx, `select id, name, email, role, coalesce(team_id, ''), notify, away_until, active `+from, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Staff, error) {
		var s Staff
		err := row.Scan(&s.ID, &s.Name, &s.Email, &s.Role, &s.Team, &s.Notify, &s.AwayUntil, &s.Active)
		return s, err
	})
}

// StaffNames returns the names of the members of staff with the ids
// (active or not: a step may still name someone who has left).
func (db *DB) StaffNames(ctx context.Context, ids []string) (map[string]string, error) {
	names := map[string]string{}
	if len(ids) == 0 {
		return names, nil
	}
	rows, err := db.q.Query(ctx, `select id, name from staff where id = any($1::text[])`, ids)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id, name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, err
		}
		names[id] = name
	}
	return names, rows.Err()
}

// ActiveStaffIn lists the active members of the teams, by name.
func (db *DB) ActiveStaffIn(ctx context.Context, teams []string) ([]Staff, error) {
	return db.staffRows(ctx, `from staff where active and team_id = any($1::text[]) order by name, id`, nonNil(teams))
}

// StaffWhoSee lists, by name, the active members of staff whose role's
// scope takes in a case at the establishment belonging to the team: the
// officers of the establishment's active teams, the team's manager and its
// head of service (auth.Principal.CaseScope, in SQL). They are who may be
// given the case or a step of it.
func (db *DB) StaffWhoSee(ctx context.Context, establishment, team string) ([]Staff, error) {
	return db.staffRows(ctx, `from staff s where s.active and (
		(s.role = 'officer' and exists (select 1 from teams t where t.id = s.team_id and t.active and t.establishment = $1))
		or (s.role = 'manager' and exists (select 1 from teams t where t.id = $2 and t.active and t.manager_id = s.id))
		or (s.role = 'head' and exists (select 1 from teams t where t.id = $2 and t.active and t.head_id = s.id)))
		order by name, id`, establishment, team)
}

// ActiveStaffExists reports whether id names an active member of staff.
func (db *DB) ActiveStaffExists(ctx context.Context, id string) (bool, error) {
	var ok bool
	err := db.q.QueryRow(ctx, `select exists (select 1 from staff where id = $1 and active)`, id).Scan(&ok)
	return ok, err
}

// PutStaff creates or updates a member of staff.
func (db *DB) PutStaff(ctx context.Context, s Staff) error {
	if s.Notify == "" {
		s.Notify = "each"
	}
	_, err := db.q.Exec(ctx, `insert into staff (id, name, email, role, team_id, notify, away_until, active)
		values ($1, $2, $3, $4, nullif($5, ''), $6, $7, $8)
		on conflict (id) do update set name = excluded.name, email = excluded.email, role = excluded.role,
		team_id = excluded.team_id, notify = excluded.notify, away_until = excluded.away_until, active = excluded.active`,
		s.ID, s.Name, s.Email, s.Role, s.Team, s.Notify, s.AwayUntil, s.Active)
	return err
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

// MutableKinds are the kinds of email a person may turn off.
var MutableKinds = []string{"reminder", "due", "unassigned", "transfer", "assigned"}

// SetMuted records the kinds of email a person has turned off.
func (db *DB) SetMuted(ctx context.Context, staffID string, kinds []string) error {
	if kinds == nil {
		kinds = []string{}
	}
	tag, err := db.q.Exec(ctx, `update staff set muted = $2 where id = $1`, staffID, kinds)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// DigestReader is a member of staff who takes a daily digest.
type DigestReader struct {
	ID, Name, Email string
}

// DigestReaders lists the active staff who chose a daily digest.
func (db *DB) DigestReaders(ctx context.Context) ([]DigestReader, error) {
	rows, err := db.q.Query(ctx, `select id, name, email from staff where active and notify = 'digest' and email <> '' order by id`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[DigestReader])
}

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

// ChangePassword stores a new password hash for a member of staff, ends
// every session of theirs but keep (the one changing it; nil for none),
// and revokes every token of theirs, saying how many. ErrNotFound: no
// such member of staff.
func (db *DB) ChangePassword(ctx context.Context, staffID, hash string, keep []byte) (sessions, tokens int64, err error) {
	err = db.InTx(ctx, func(tx *DB) error {
		tag, err := tx.q.Exec(ctx, `update staff set password_hash = $2, password_changed_at = now() where id = $1`, staffID, hash)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return ErrNotFound
		}
		sessions, tokens, err = tx.EndSessionsAndTokens(ctx, staffID, keep)
		return err
	})
	if err != nil {
		return 0, 0, err
	}
	return sessions, tokens, nil
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
