package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
)

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

// PutTeam creates or updates a team.
func (db *DB) PutTeam(ctx context.Context, t Team) error {
	_, err := db.q.Exec(ctx, `insert into teams (id, name, establishment, email, manager_id, head_id, active)
		values ($1, $2, $3, $4, nullif($5, ''), nullif($6, ''), $7)
		on conflict (id) do update set name = excluded.name, establishment = excluded.establishment, email = excluded.email,
		manager_id = excluded.manager_id, head_id = excluded.head_id, active = excluded.active`,
		t.ID, t.Name, t.Establishment, t.Email, t.Manager, t.Head, t.Active)
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

// TeamIDsAt lists the ids of every team at an establishment, active or not
// (a deactivated team may still hold steps), in id order.
func (db *DB) TeamIDsAt(ctx context.Context, establishment string) ([]string, error) {
	rows, err := db.q.Query(ctx, `select id from teams where establishment = $1 order by id`, establishment)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}
