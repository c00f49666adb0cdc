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

// Team is a team with its queue address and its line of escalation.
type Team struct {
	ID            string `json:"id"`
	Name          string `json:"name"`
	Establishment string `json:"establishment"`
	Email         string `json:"email"`
	Manager       string `json:"manager,omitempty"`
	Head          string `json:"head,omitempty"`
	Active        bool   `json:"active"`
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

// Team reads one team.
func (db *DB) Team(ctx context.Context, id string) (Team, error) {
	var t Team
	var manager, head *string
	err := db.q.QueryRow(ctx, `select id, name, establishment, email, manager_id, head_id, active from teams where id = $1`, id).
		Scan(&t.ID, &t.Name, &t.Establishment, &t.Email, &manager, &head, &t.Active)
	if errors.Is(err, pgx.ErrNoRows) {
		return t, ErrNotFound
	}
	if manager != nil {
		t.Manager = *manager
	}
	if head != nil {
		t.Head = *head
	}
	return t, err
}

// PutTeam creates or updates a team.
func (db *DB) PutTeam(ctx context.Context, t Team) error {
	_, err := db.q.Exec(ctx, `insert into teams (id, name, establishment, email, manager_id, head_id, active)
		values ($1, $2, $3, $4, nullif($5, ''), nullif($6, ''), $7)
		on conflict (id) do update set name = excluded.name, establishment = excluded.establishment, email = excluded.email,
		manager_id = excluded.manager_id, head_id = excluded.head_id, active = excluded.active`,
		t.ID, t.Name, t.Establishment, t.Email, t.Manager, t.Head, t.Active)
	return err
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

// MutableKinds are the kinds of email a person may turn off.
var MutableKinds = []string{"reminder", "due", "unassigned", "transfer"}

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
