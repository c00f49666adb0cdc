package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/throughgate/throughgate/resettlement"
)

// Subject is everything held about a person, for a subject access request
// (UK GDPR Article 15): each of their cases, and the prison movement
// events and caseload import rows with their prison number that belong to
// none of those cases (an event parked for an unknown prison, a row that
// was invalid or refused).
type Subject struct {
	Cases      []SubjectCase      `json:"cases"`
	Events     []SubjectEvent     `json:"events"`
	ImportRows []SubjectImportRow `json:"import_rows"`
}

// SubjectCase is everything held about a person under one case: the
// person, the case, its steps, its timeline, its notes, the emails raised
// about it, the prison movement events that opened or changed it, the
// person's consents, the partner links sent from it (never their token or
// reference, which are kept only as hashes) and the import rows that
// opened it or found it open.
type SubjectCase struct {
	Case         SubjectCaseRecord  `json:"case"`
	Person       Person             `json:"person"`
	Steps        []SubjectStep      `json:"steps"`
	Timeline     []TimelineEntry    `json:"timeline"`
	Notes        []SubjectNote      `json:"notes"`
	Emails       []SubjectEmail     `json:"emails"`
	Events       []SubjectEvent     `json:"events"`
	Consents     []Consent          `json:"consents"`
	PartnerLinks []PartnerLink      `json:"partner_links"`
	ImportRows   []SubjectImportRow `json:"import_rows"`
}

// SubjectEvent is a prison movement event as recorded, with its body as
// the source sent it.
type SubjectEvent struct {
	EventRecord
	Body json.RawMessage `json:"body"`
}

// SubjectImportRow is one row of a caseload import's file: which import
// (its file, who uploaded it, when), the line, what became of it, and the
// row itself while it waits to be dealt with (after that the case holds
// the person).
type SubjectImportRow struct {
	ImportID     string          `json:"import_id"`
	FileName     string          `json:"file_name"`
	ImportedBy   string          `json:"imported_by"`
	ImportedAt   time.Time       `json:"imported_at"`
	Line         int             `json:"line"`
	Status       string          `json:"status"`
	PrisonNumber string          `json:"prison_number"`
	Request      json.RawMessage `json:"request,omitempty"`
	Problems     json.RawMessage `json:"problems"`
	CaseID       string          `json:"case_id,omitempty"`
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
// included, oldest first, and every event and import row with it that
// belongs to none of them — except that an anonymised case no longer
// names anyone, so it stands alone. ErrNotFound when nothing is held.
func (db *DB) SubjectAccess(ctx context.Context, caseID, prisonNumber string) (Subject, error) {
	var out Subject
	err := db.snapshot(ctx, func(tx pgx.Tx) error {
		out = Subject{Cases: []SubjectCase{}}
		sub := &DB{pool: db.pool, q: tx}
		ids, person, err := sub.subjectCaseIDs(ctx, caseID, prisonNumber)
		if err != nil {
			return err
		}
		for _, id := range ids {
			c, err := sub.subjectCase(ctx, id)
			if err != nil {
				return err
			}
			out.Cases = append(out.Cases, c)
		}
		if person == "" {
			out.Events, out.ImportRows = []SubjectEvent{}, []SubjectImportRow{}
			return nil
		}
		if out.Events, err = sub.subjectEvents(ctx, `e.prison_number = $1 and (e.case_id is null or not (e.case_id = any($2)))`, person, ids); err != nil {
			return err
		}
		if out.ImportRows, err = sub.subjectImportRows(ctx, `r.prison_number = $1 and (r.case_id is null or not (r.case_id = any($2)))`, person, ids); err != nil {
			return err
		}
		if len(out.Cases) == 0 && len(out.Events) == 0 && len(out.ImportRows) == 0 {
			return ErrNotFound
		}
		return nil
	})
	return out, err
}

// subjectCaseIDs finds the cases of the person named by caseID or
// prisonNumber, and the prison number to find what else is held about
// them by ("" when caseID is anonymised: it names nobody).
func (db *DB) subjectCaseIDs(ctx context.Context, caseID, prisonNumber string) ([]string, string, error) {
	if caseID != "" {
		var anonymised *time.Time
		err := db.q.QueryRow(ctx, `select prison_number, anonymised_at from cases where id = $1`, caseID).Scan(&prisonNumber, &anonymised)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, "", ErrNotFound
		}
		if err != nil {
			return nil, "", err
		}
		if anonymised != nil {
			return []string{caseID}, "", nil
		}
	}
	rows, err := db.q.Query(ctx, `select id from cases where prison_number = $1 and anonymised_at is null order by opened_at, id`, prisonNumber)
	if err != nil {
		return nil, "", err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if ids == nil {
		ids = []string{}
	}
	return ids, prisonNumber, err
}

// subjectEvents lists the events matching where (on events e, with its
// arguments), in the order they happened.
func (db *DB) subjectEvents(ctx context.Context, where string, args ...any) ([]SubjectEvent, error) {
	rows, err := db.q.Query(ctx, `select `+eventColumns+` from events e where `+where+` order by occurred_at, id`, args...)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (SubjectEvent, error) {
		e, err := scanEvent(r)
		return SubjectEvent{EventRecord: e, Body: e.Body}, err
	})
	if out == nil {
		out = []SubjectEvent{}
	}
	return out, err
}

// subjectImportRows lists the import rows matching where (on import_rows
// r, with its arguments), oldest import first.
func (db *DB) subjectImportRows(ctx context.Context, where string, args ...any) ([]SubjectImportRow, error) {
	rows, err := db.q.Query(ctx, `select r.import_id, i.file_name, i.created_by, i.created_at, r.line, r.status, r.prison_number,
		r.request, r.problems, coalesce(r.case_id, '') from import_rows r join imports i on i.id = r.import_id
		where `+where+` order by i.created_at, r.import_id, r.line`, args...)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (SubjectImportRow, error) {
		var r SubjectImportRow
		var req, problems []byte
		err := row.Scan(&r.ImportID, &r.FileName, &r.ImportedBy, &r.ImportedAt, &r.Line, &r.Status, &r.PrisonNumber, &req, &problems, &r.CaseID)
		if req != nil {
			r.Request = req
		}
		r.Problems = problems
		return r, err
	})
	if out == nil {
		out = []SubjectImportRow{}
	}
	return out, err
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
	if c.Emails, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (SubjectEmail, error) {
		var e SubjectEmail
		err := row.Scan(&e.ID, &e.Kind, &e.Template, &e.Recipient, &e.State, &e.Attempts, &e.CreatedAt, &e.SentAt, &e.Data)
		return e, err
	}); err != nil {
		return c, err
	}

	if c.Events, err = db.subjectEvents(ctx, `e.case_id = $1`, id); err != nil {
		return c, err
	}
	if c.Consents, err = db.Consents(ctx, id); err != nil {
		return c, err
	}
	if c.PartnerLinks, err = db.PartnerLinks(ctx, id, ""); err != nil {
		return c, err
	}
	if c.ImportRows, err = db.subjectImportRows(ctx, `r.case_id = $1`, id); err != nil {
		return c, err
	}
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
	if c.Consents == nil {
		c.Consents = []Consent{}
	}
	if c.PartnerLinks == nil {
		c.PartnerLinks = []PartnerLink{}
	}
	return c, nil
}
