package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/throughgate/throughgate/resettlement"
)

// SubjectCase is everything held about a person under one case, for a
// subject access request (UK GDPR Article 15): the person, the case, its
// steps, its timeline, its notes, and the emails raised about it.
type SubjectCase struct {
	Case     SubjectCaseRecord `json:"case"`
	Person   Person            `json:"person"`
	Steps    []SubjectStep     `json:"steps"`
	Timeline []TimelineEntry   `json:"timeline"`
	Notes    []SubjectNote     `json:"notes"`
	Emails   []SubjectEmail    `json:"emails"`
}

// SubjectCaseRecord is the case itself: where it is, who has it, its dates.
type SubjectCaseRecord struct {
	ID            string            `json:"id"`
	Establishment string            `json:"establishment"`
	Team          string            `json:"team"`
	Owner         string            `json:"owner,omitempty"`
	Stage         string            `json:"stage"`
	ReceivedOn    resettlement.Date `json:"received_on"`
	SentenceDate  resettlement.Date `json:"sentence_date,omitempty"`
	ReleaseDay    resettlement.Date `json:"release_day,omitempty"`
	OpenedBy      string            `json:"opened_by"`
	OpenedAt      time.Time         `json:"opened_at"`
	ClosedAt      *time.Time        `json:"closed_at,omitempty"`
	AnonymisedAt  *time.Time        `json:"anonymised_at,omitempty"`
}

// SubjectStep is one step of the case's plan as the read model holds it.
type SubjectStep struct {
	ID         string     `json:"id"`
	Kind       string     `json:"kind"`
	Title      string     `json:"title"`
	Pathway    string     `json:"pathway,omitempty"`
	Status     string     `json:"status"`
	OwnerStaff string     `json:"owner_staff,omitempty"`
	OwnerTeam  string     `json:"owner_team"`
	Due        *time.Time `json:"due,omitempty"`
	Updated    time.Time  `json:"updated"`
}

// SubjectNote is a note written on the case.
type SubjectNote struct {
	ID        int64     `json:"id"`
	Author    string    `json:"author"`
	Body      string    `json:"body"`
	CreatedAt time.Time `json:"created_at"`
}

// SubjectEmail is an email raised about the case (an outbox row): to
// whom, what kind, and whether it went.
type SubjectEmail struct {
	ID        int64           `json:"id"`
	Kind      string          `json:"kind"`
	Template  string          `json:"template"`
	Recipient string          `json:"recipient"`
	State     string          `json:"state"`
	Attempts  int             `json:"attempts"`
	CreatedAt time.Time       `json:"created_at"`
	SentAt    *time.Time      `json:"sent_at,omitempty"`
	Data      json.RawMessage `json:"data"`
}

// SubjectAccess reads, in one snapshot, everything held about a person:
// the person named by prisonNumber, or the person of the case caseID (one
// of the two is given). Every case with the person's prison number is
// included, oldest first — except that an anonymised case no longer names
// anyone, so it stands alone. ErrNotFound when nothing is held.
func (db *DB) SubjectAccess(ctx context.Context, caseID, prisonNumber string) ([]SubjectCase, error) {
	var out []SubjectCase
	err := db.snapshot(ctx, func(tx pgx.Tx) error {
		out = nil
		sub := &DB{pool: db.pool, q: tx}
		ids, err := sub.subjectCaseIDs(ctx, caseID, prisonNumber)
		if err != nil {
			return err
		}
		for _, id := range ids {
			c, err := sub.subjectCase(ctx, id)
			if err != nil {
				return err
			}
			out = append(out, c)
		}
		return nil
	})
	return out, err
}

func (db *DB) subjectCaseIDs(ctx context.Context, caseID, prisonNumber string) ([]string, error) {
	if caseID != "" {
		var anonymised *time.Time
		err := db.q.QueryRow(ctx, `select prison_number, anonymised_at from cases where id = $1`, caseID).Scan(&prisonNumber, &anonymised)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, ErrNotFound
		}
		if err != nil {
			return nil, err
		}
		if anonymised != nil {
			return []string{caseID}, nil
		}
	}
	rows, err := db.q.Query(ctx, `select id from cases where prison_number = $1 and anonymised_at is null order by opened_at, id`, prisonNumber)
	if err != nil {
		return nil, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err == nil && len(ids) == 0 {
		err = ErrNotFound
	}
	return ids, err
}

func (db *DB) subjectCase(ctx context.Context, id string) (SubjectCase, error) {
	var c SubjectCase
	r, p := &c.Case, &c.Person
	var owner *string
	var dob, received time.Time
	var sentence, release *time.Time
	err := db.q.QueryRow(ctx, `select id, prison_number, booking, given_name, family_name, date_of_birth, local_authority,
		establishment, team_id, owner_id, stage, received_on, sentence_date, release_day, opened_by, opened_at, closed_at, anonymised_at
		from cases where id = $1`, id).Scan(&r.ID, &p.PrisonNumber, &p.Booking, &p.GivenName, &p.FamilyName, &dob, &p.LocalAuthority,
		&r.Establishment, &r.Team, &owner, &r.Stage, &received, &sentence, &release, &r.OpenedBy, &r.OpenedAt, &r.ClosedAt, &r.AnonymisedAt)
	if err != nil {
		return c, err
	}
	p.DateOfBirth, r.ReceivedOn = dateOf(dob), dateOf(received)
	if owner != nil {
		r.Owner = *owner
	}
	if sentence != nil {
		r.SentenceDate = dateOf(*sentence)
	}
	if release != nil {
		r.ReleaseDay = dateOf(*release)
	}

	rows, err := db.q.Query(ctx, `select id, kind, title, pathway, status, coalesce(owner_staff, ''), owner_team, due, updated
		from steps where case_id = $1 order by due nulls last, id`, id)
	if err != nil {
		return c, err
	}
	if c.Steps, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (SubjectStep, error) {
		var s SubjectStep
		err := row.Scan(&s.ID, &s.Kind, &s.Title, &s.Pathway, &s.Status, &s.OwnerStaff, &s.OwnerTeam, &s.Due, &s.Updated)
		return s, err
	}); err != nil {
		return c, err
	}

	if c.Timeline, err = db.Timeline(ctx, id); err != nil {
		return c, err
	}

	rows, err = db.q.Query(ctx, `select id, author, body, created_at from notes where case_id = $1 order by id`, id)
	if err != nil {
		return c, err
	}
	if c.Notes, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (SubjectNote, error) {
		var n SubjectNote
		err := row.Scan(&n.ID, &n.Author, &n.Body, &n.CreatedAt)
		return n, err
	}); err != nil {
		return c, err
	}

	rows, err = db.q.Query(ctx, `select id, kind, template, recipient, state, attempts, created_at, sent_at, data
		from outbox where case_id = $1 order by id`, id)
	if err != nil {
		return c, err
	}
	c.Emails, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (SubjectEmail, error) {
		var e SubjectEmail
		err := row.Scan(&e.ID, &e.Kind, &e.Template, &e.Recipient, &e.State, &e.Attempts, &e.CreatedAt, &e.SentAt, &e.Data)
		return e, err
	})
	if c.Steps == nil {
		c.Steps = []SubjectStep{}
	}
	if c.Timeline == nil {
		c.Timeline = []TimelineEntry{}
	}
	if c.Notes == nil {
		c.Notes = []SubjectNote{}
	}
	if c.Emails == nil {
		c.Emails = []SubjectEmail{}
	}
	return c, err
}
