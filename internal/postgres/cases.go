package postgres

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

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
	SentenceDate  resettlement.Date // zero when not known
	// Planned is the case as its workflow will plan it (resettlement.Open)
	// at PlannedAt. Its steps and board lines are recorded with the case
	// (openings), so they are in the read model at once and the workflow's
	// first save need not write them again. Nil records the person only.
	Planned   *resettlement.Case
	PlannedAt time.Time
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
	err = pgx.BeginFunc(ctx, db.q, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `insert into cases (id, prison_number, booking, given_name, family_name, date_of_birth,
			local_authority, opened_by, open_request, establishment, team_id, owner_id, received_on, sentence_date)
			values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
			nc.ID, p.PrisonNumber, p.Booking, p.GivenName, p.FamilyName, date(p.DateOfBirth), p.LocalAuthority,
			nc.OpenedBy, req, nc.Establishment, nc.Team, owner, date(nc.ReceivedOn), date(nc.SentenceDate)); err != nil {
			return err
		}
		var o openings
		o.add(nc)
		return o.write(ctx, tx)
	})
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

// CaseOpenedBy returns the case a request id opened, if any.
func (db *DB) CaseOpenedBy(ctx context.Context, requestID string) (string, error) {
	var id string
	err := db.q.QueryRow(ctx, `select id from cases where open_request = $1`, requestID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", ErrNotFound
	}
	return id, err
}

// DeleteUnstartedCase removes a case whose workflow never started, so a
// failed open leaves nothing behind to block a retry.
//
// Its board lines go first through replaceBoardLines, so that their counts
// go with them, rather than by the foreign key's cascade. The case's row
// stays locked from the check to the delete: a save (version) or a note
// (the foreign key's share lock) waits, so the check still holds.
func (db *DB) DeleteUnstartedCase(ctx context.Context, id string) error {
	return pgx.BeginFunc(ctx, db.q, func(tx pgx.Tx) error {
		var found bool
		err := tx.QueryRow(ctx, `select true from cases where id = $1 and version = 0
			and not exists (select 1 from notes where case_id = $1) for update`, id).Scan(&found)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := replaceBoardLines(ctx, tx, []string{id}, nil); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `delete from steps where case_id = $1`, id); err != nil {
			return err // its opening's (openings)
		}
		_, err = tx.Exec(ctx, `delete from cases where id = $1`, id)
		return err
	})
}

// SaveCase writes a projection. Projections can arrive out of order (two
// updates' activities racing); the case row only moves forward in version,
// and events are keyed by sequence, so the newest state always wins. The
// case's steps and board lines are written again only if they changed
// (their digests, migration 022): most saves change neither.
func (db *DB) SaveCase(ctx context.Context, p resettlement.Projection, now time.Time) error {
	c := p.Case
	state, err := json.Marshal(c)
	if err != nil {
		return err
	}
	var releaseDay *time.Time
	if d, ok := c.ReleaseDay(); ok {
		releaseDay = date(d)
	}
	var closedAt *time.Time
	if c.Closed {
		t := c.LastProgress
		closedAt = &t
	}
	releasedOn, outcomes, err := caseOutcome(c) // the outcomes report's copy (outcomes.go)
	if err != nil {
		return err
	}
	steps := stepRows(c)
	lines := boardLineRows(c, now)
	stepsDigest, linesDigest := rowsDigest(steps, len(stepColumns)), rowsDigest(lines, boardLineDigested)
	return pgx.BeginFunc(ctx, db.q, func(tx pgx.Tx) error {
		// The update and the events go in one round trip. The digests of
		// the rows last written come back from before the update (o), which
		// also locks the row as the update would.
		var oldSteps, oldLines []byte
		newer := false // a newer save is in: only the events
		b := &pgx.Batch{}
		b.Queue(`update cases c set version = $2, establishment = $3, team_id = $4, owner_id = nullif($5, ''),
			stage = $6, stalled = $7, escalation_level = $8, paused = $9, next_due = $10, release_day = $11,
			received_on = $12, last_progress = $13, closed_at = $14, state = $15, sentence_date = $16, updated_at = now(),
			released_on = $17, `+outcomeSet+`, `+alarmSet+`, `+digestSet+`
			from (select id, steps_digest, lines_digest from cases where id = $1 for no key update) o
			where c.id = o.id and c.version < $2
			returning o.steps_digest, o.lines_digest`,
			append(append([]any{c.ID, c.Version, c.Establishment, c.Team, c.Owner, string(p.Stage), p.Stalled, p.EscalationLevel, c.Paused,
				instant(p.NextDue), releaseDay, date(c.ReceivedOn), c.LastProgress, closedAt, state, date(c.SentenceDate), releasedOn}, outcomes...),
				instant(p.AlarmsAt), stepsDigest, linesDigest)...).QueryRow(func(row pgx.Row) error {
			err := row.Scan(&oldSteps, &oldLines)
			if errors.Is(err, pgx.ErrNoRows) {
				newer, err = true, nil
			}
			return err
		})
		for _, e := range p.Events {
			var note *int64
			if e.NoteID != 0 {
				note = &e.NoteID
			}
			b.Queue(`insert into case_events (case_id, seq, at, by_staff, kind, step_id, from_status, to_status, note_id, text)
				values ($1, $2, $3, nullif($4, ''), $5, nullif($6, ''), nullif($7, ''), nullif($8, ''), $9, $10)
				on conflict do nothing`,
				c.ID, e.Seq, e.At, e.By, e.Kind, e.StepID, string(e.From), string(e.To), note, e.Text)
		}
		if err := tx.SendBatch(ctx, b).Close(); err != nil || newer {
			return err
		}
		if !unchanged(oldSteps, stepsDigest) {
			if _, err := tx.Exec(ctx, `delete from steps where case_id = $1`, c.ID); err != nil {
				return err
			}
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"steps"}, stepColumns, pgx.CopyFromRows(steps)); err != nil {
				return err
			}
		}
		if !unchanged(oldLines, linesDigest) {
			return replaceBoardLines(ctx, tx, []string{c.ID}, lines)
		}
		return nil
	})
}

// digestSet records the digests of the rows SaveCase writes, its last two
// parameters.
var digestSet = fmt.Sprintf("steps_digest = $%d, lines_digest = $%d", 19+len(outcomeColumns), 20+len(outcomeColumns))

// boardLineDigested is how many of a board line's columns its digest
// covers: all but graded_at, the last, which changes with every grading.
var boardLineDigested = len(boardLineColumns) - 1

// rowsDigest fingerprints rows as written, the first cols columns of each:
// equal digests mean equal rows, so a save may leave them where they are.
func rowsDigest(rows [][]any, cols int) []byte {
	h := sha256.New()
	enc := json.NewEncoder(h)
	for _, r := range rows {
		if err := enc.Encode(r[:cols]); err != nil {
			// Every column is a string, number, bool, time or a pointer
			// to one: a failure is a new column type, and no digest
			// makes every save write the rows (unchanged).
			return nil
		}
	}
	return h.Sum(nil)
}

// unchanged says whether rows whose digest was old, as stored, are the
// rows whose digest is now: never when either is missing (null: written
// before migration 022, or by the benchmarks' loader).
func unchanged(old, now []byte) bool {
	return len(old) > 0 && len(now) > 0 && bytes.Equal(old, now)
}

// stepRows are case c's steps as written to the steps table.
func stepRows(c *resettlement.Case) [][]any {
	rows := make([][]any, len(c.Steps))
	for i, st := range c.Steps {
		rows[i] = stepRow(c.ID, st)
	}
	return rows
}

// openings are cases just recorded, with their steps and board lines as
// planned. Writing them with the case puts a new case on the board, its
// list and its workers' due steps at once, and its workflow's first save,
// which plans the very same case, then finds its rows written (their
// digests equal) and leaves them. The version stays 0 until that save.
type openings struct {
	ids                        []string
	stepsDigests, linesDigests [][]byte
	steps, lines               [][]any
}

// add adds nc's planned case, if it has one.
func (o *openings) add(nc NewCase) {
	if nc.Planned == nil {
		return
	}
	c := nc.Planned // planned under nc.ID
	steps, lines := stepRows(c), boardLineRows(c, nc.PlannedAt)
	o.ids = append(o.ids, nc.ID)
	o.stepsDigests = append(o.stepsDigests, rowsDigest(steps, len(stepColumns)))
	o.linesDigests = append(o.linesDigests, rowsDigest(lines, boardLineDigested))
	o.steps, o.lines = append(o.steps, steps...), append(o.lines, lines...)
}

// write writes the openings' rows and digests in tx.
func (o *openings) write(ctx context.Context, tx pgx.Tx) error {
	if len(o.ids) == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, `update cases c set steps_digest = u.s, lines_digest = u.l
		from unnest($1::text[], $2::bytea[], $3::bytea[]) as u (id, s, l) where c.id = u.id`,
		o.ids, o.stepsDigests, o.linesDigests); err != nil {
		return err
	}
	if len(o.steps) > 0 {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"steps"}, stepColumns, pgx.CopyFromRows(o.steps)); err != nil {
			return err
		}
	}
	return replaceBoardLines(ctx, tx, o.ids, o.lines)
}

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
	SentenceDate    resettlement.Date  // zero when not known
	State           *resettlement.Case // nil until the workflow first saves
}

// Case reads one case.
func (db *DB) Case(ctx context.Context, id string) (CaseRecord, error) {
	var r CaseRecord
	var owner *string
	var dob time.Time
	var sentence *time.Time
	var state []byte
	err := db.q.QueryRow(ctx, `select id, prison_number, booking, given_name, family_name, date_of_birth, local_authority,
		establishment, team_id, owner_id, stage, stalled, escalation_level, paused, next_due, release_day, opened_at, closed_at,
		last_progress, version, sentence_date, state from cases where id = $1`, id).Scan(
		&r.ID, &r.Person.PrisonNumber, &r.Person.Booking, &r.Person.GivenName, &r.Person.FamilyName, &dob, &r.Person.LocalAuthority,
		&r.Establishment, &r.Team, &owner, &r.Stage, &r.Stalled, &r.EscalationLevel, &r.Paused, &r.NextDue, &r.ReleaseDay,
		&r.OpenedAt, &r.ClosedAt, &r.LastProgress, &r.Version, &sentence, &state)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, ErrNotFound
	}
	if err != nil {
		return r, err
	}
	r.Person.DateOfBirth = resettlement.DateOf(dob)
	if sentence != nil {
		r.SentenceDate = dateOf(*sentence)
	}
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

// DateOfBirth reads the date of birth of a case's person: whether they are an
// adult at release is worked out again from it whenever the dates change.
func (db *DB) DateOfBirth(ctx context.Context, caseID string) (resettlement.Date, error) {
	var dob time.Time
	err := db.q.QueryRow(ctx, `select date_of_birth from cases where id = $1`, caseID).Scan(&dob)
	if errors.Is(err, pgx.ErrNoRows) {
		return resettlement.Date{}, ErrNotFound
	}
	if err != nil {
		return resettlement.Date{}, err
	}
	return dateOf(dob), nil
}

// Scope is the part of the caseload a request may see: cases at one of the
// establishments, or belonging to one of the teams. All sees every case
// (internal tools only; no role of person has it).
type Scope struct {
	All            bool
	Establishments []string
	Teams          []string
}

// scopeSQL is the condition on the cases row c for a scope in $1..$3.
const scopeSQL = `($1::boolean or c.establishment = any($2::text[]) or c.team_id = any($3::text[]))`

func scopeArgs(s Scope) []any {
	return []any{s.All, nonNil(s.Establishments), nonNil(s.Teams)}
}

// InScope reports whether the case exists and is within the scope: found
// false means the case does not exist at all.
func (db *DB) InScope(ctx context.Context, s Scope, caseID string) (found, in bool, err error) {
	err = db.q.QueryRow(ctx, `select true, `+scopeSQL+` from cases c where c.id = $4`, append(scopeArgs(s), caseID)...).Scan(&found, &in)
	if err == pgx.ErrNoRows {
		return false, false, nil
	}
	return found, in, err
}

// CaseFilter narrows the case list. Zero fields do not filter.
type CaseFilter struct {
	Scope         Scope
	Establishment string
	Team          string
	Owner         string
	Stage         string // "closed" lists closed cases; anything else open ones
	Stalled       *bool
	Overdue       *bool
	// ReleaseWithin lists cases whose release day is from today up to this
	// many days ahead.
	ReleaseWithin *int
	// Q searches prison numbers (exactly) and names (any part).
	Q     string
	After *ListCursor
	Limit int
	Now   time.Time
}

// ListCursor is where a page of the case list ends: the list is ordered by
// release day (unknown last), then id.
type ListCursor struct {
	ReleaseDay string `json:"r"` // YYYY-MM-DD
	ID         string `json:"i"`
}

// noRelease stands for "no release day known" in the list's order.
const noRelease = "9999-12-31"

// CaseSummary is a line of the case list.
type CaseSummary struct {
	ID              string
	PrisonNumber    string
	GivenName       string
	FamilyName      string
	Establishment   string
	Team            string
	Owner           string
	Stage           string
	Stalled         bool
	EscalationLevel int
	Paused          bool
	ReleaseDay      *time.Time
	NextDue         *time.Time
	LastProgress    time.Time
	OpenedAt        time.Time
	ClosedAt        *time.Time
}

// ClosedStayOnList is how long a closed case stays on the default case
// list before only the closed filter finds it.
const ClosedStayOnList = 90 * 24 * time.Hour

// ListCases returns a page of cases and the cursor of the next page (nil on
// the last page).
func (db *DB) ListCases(ctx context.Context, f CaseFilter) ([]CaseSummary, *ListCursor, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	if f.Now.IsZero() {
		f.Now = time.Now()
	}
	args := scopeArgs(f.Scope)
	where := []string{scopeSQL}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "?", fmt.Sprintf("$%d", len(args))))
	}
	switch {
	case f.Stage == string(resettlement.StageClosed):
		where = append(where, "c.closed_at is not null")
	case f.Stage != "":
		where = append(where, "c.closed_at is null")
		add("c.stage = ?", f.Stage)
	default:
		// The default list: open cases, and those closed in the last
		// ClosedStayOnList (their officers may still be finishing up).
		add("(c.closed_at is null or c.closed_at > ?)", f.Now.Add(-ClosedStayOnList))
	}
	if f.Establishment != "" {
		add("c.establishment = ?", f.Establishment)
	}
	if f.Team != "" {
		add("c.team_id = ?", f.Team)
	}
	if f.Owner != "" {
		add("c.owner_id = ?", f.Owner)
	}
	if f.Stalled != nil {
		add("c.stalled = ?", *f.Stalled)
	}
	if f.Overdue != nil {
		not := ""
		if !*f.Overdue {
			not = "not "
		}
		add(not+"exists (select 1 from steps s where s.case_id = c.id and s.status in "+openStatuses+" and s.due < ?)", f.Now)
	}
	if f.ReleaseWithin != nil {
		// On the list's order expression, so the range is an index range
		// (a case with no release day is never within it either way).
		today := resettlement.DateOf(f.Now)
		add("coalesce(c.release_day, '"+noRelease+"'::date) >= ?", date(today))
		add("coalesce(c.release_day, '"+noRelease+"'::date) <= ?", date(today.AddDays(*f.ReleaseWithin)))
	}
	if q := strings.TrimSpace(f.Q); q != "" {
		if up := strings.ToUpper(q); isPrisonNumber(up) {
			add("c.prison_number = ?", up)
		} else {
			pattern := "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(q) + "%"
			add(`(c.given_name || ' ' || c.family_name) ilike ?`, pattern)
		}
	}
	if f.After != nil {
		args = append(args, f.After.ReleaseDay, f.After.ID)
		where = append(where, fmt.Sprintf("(coalesce(c.release_day, '%s'::date), c.id) > ($%d::date, $%d)", noRelease, len(args)-1, len(args)))
	}
	args = append(args, f.Limit+1)
	sql := `select c.id, c.prison_number, c.given_name, c.family_name, c.establishment, c.team_id, coalesce(c.owner_id, ''),
		c.stage, c.stalled, c.escalation_level, c.paused, c.release_day, c.next_due, c.last_progress, c.opened_at, c.closed_at
		from cases c where ` + strings.Join(where, " and ") +
		fmt.Sprintf(" order by coalesce(c.release_day, '%s'::date), c.id limit $%d", noRelease, len(args))
	rows, err := db.q.Query(ctx, sql, args...)
	if err != nil {
		return nil, nil, err
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (CaseSummary, error) {
		var c CaseSummary
		err := row.Scan(&c.ID, &c.PrisonNumber, &c.GivenName, &c.FamilyName, &c.Establishment, &c.Team, &c.Owner,
			&c.Stage, &c.Stalled, &c.EscalationLevel, &c.Paused, &c.ReleaseDay, &c.NextDue, &c.LastProgress, &c.OpenedAt, &c.ClosedAt)
		return c, err
	})
	if err != nil {
		return nil, nil, err
	}
	if len(list) <= f.Limit {
		return list, nil, nil
	}
	list = list[:f.Limit]
	last := list[len(list)-1]
	next := &ListCursor{ReleaseDay: noRelease, ID: last.ID}
	if last.ReleaseDay != nil {
		next.ReleaseDay = last.ReleaseDay.Format(time.DateOnly)
	}
	return list, next, nil
}

func isPrisonNumber(s string) bool {
	if len(s) != 7 {
		return false
	}
	for i, r := range s {
		letter := r >= 'A' && r <= 'Z'
		digit := r >= '0' && r <= '9'
		if (i == 0 || i >= 5) && !letter || (i >= 1 && i <= 4) && !digit {
			return false
		}
	}
	return true
}

// BoardFilter narrows the board's candidates.
type BoardFilter struct {
	Scope         Scope
	Establishment string
	Team          string
	Now           time.Time
}

// BoardCase is an open case that may belong on the board: it has an overdue
// step, or has gone long enough without progress that it may be stalled.
// The caller grades it at the moment of reading.
type BoardCase struct {
	ID           string
	PrisonNumber string
	GivenName    string
	FamilyName   string
	// Case is the domain case rebuilt from the projection, with what the
	// board's grading reads: its open steps, its adjusted release day, its
	// last progress, pause and stall period. Its other fields are empty.
	Case *resettlement.Case
}

// BoardCandidates returns the open cases in scope that have an overdue open
// step, are marked stalled, or have had no progress for at least the
// calendar days of their stall period (a lower bound of it: working days
// are never fewer than calendar days), so no stalled case is missed while
// quiet cases are never read.
//
// Each is rebuilt from the narrow columns SaveCase writes with the state in
// the same transaction (the steps table, the case's release day, last
// progress and pause, and the stall period from the state's policy) rather
// than by decoding the whole state: at 10,000 cases that is the difference
// between tens of milliseconds and seconds.
func (db *DB) BoardCandidates(ctx context.Context, f BoardFilter) ([]BoardCase, error) {
	if f.Now.IsZero() {
		f.Now = time.Now()
	}
	var out []BoardCase
	// One snapshot for both reads, so the steps belong to the cases read.
	err := db.snapshot(ctx, func(tx pgx.Tx) error {
		args := append(scopeArgs(f.Scope), f.Now, f.Establishment, f.Team)
		rows, err := tx.Query(ctx, `select c.id, c.prison_number, c.given_name, c.family_name, c.establishment, c.team_id,
				coalesce(c.owner_id, ''), c.release_day, c.last_progress, c.paused, c.stall_after
			from cases c
			where `+scopeSQL+` and c.closed_at is null and c.state is not null
			and ($5 = '' or c.establishment = $5) and ($6 = '' or c.team_id = $6)
			and (c.stalled
				or exists (select 1 from steps s where s.case_id = c.id and s.status in `+openStatuses+` and s.due < $4)
				or (not c.paused and c.last_progress <= $4::timestamptz - make_interval(days => c.stall_days)))
			order by c.id`, args...)
		if err != nil {
			return err
		}
		index := map[string]*resettlement.Case{}
		ids := []string{}
		for rows.Next() {
			var b BoardCase
			c := &resettlement.Case{}
			var releaseDay pgtype.Date
			var stallAfter []byte
			if err := rows.Scan(&b.ID, &b.PrisonNumber, &b.GivenName, &b.FamilyName, &c.Establishment, &c.Team, &c.Owner,
				&releaseDay, &c.LastProgress, &c.Paused, &stallAfter); err != nil {
				rows.Close()
				return err
			}
			c.ID = b.ID
			if releaseDay.Valid {
				// The stored day is already the adjusted release day; as an
				// indeterminate confirmed date nothing moves it again.
				c.Dates = resettlement.ReleaseDates{Confirmed: dateOf(releaseDay.Time), Indeterminate: true}
			}
			c.Policy.StallAfter = resettlement.DefaultPolicy().StallAfter
			if len(stallAfter) > 0 && string(stallAfter) != "null" {
				if err := json.Unmarshal(stallAfter, &c.Policy.StallAfter); err != nil {
					rows.Close()
					return fmt.Errorf("case %s: reading its stall period: %w", b.ID, err)
				}
			}
			b.Case = c
			out = append(out, b)
			index[b.ID] = c
			ids = append(ids, b.ID)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows, err = tx.Query(ctx, `select case_id, id, title, pathway, status, coalesce(owner_staff, ''), owner_team, blocking, due, due_date
			from steps where case_id = any($1) and status in `+openStatuses+` order by case_id, id`, ids)
		if err != nil {
			return err
		}
		defer rows.Close()
		var caseID, pathway, status string
		var due pgtype.Timestamptz
		var dueDate pgtype.Date
		for rows.Next() {
			var s resettlement.Step
			if err := rows.Scan(&caseID, &s.ID, &s.Title, &pathway, &status, &s.Owner.Staff, &s.Owner.Team, &s.Blocking, &due, &dueDate); err != nil {
				return err
			}
			s.Pathway, s.Status = resettlement.Pathway(pathway), resettlement.StepStatus(status)
			if due.Valid {
				s.Due = due.Time
			}
			if dueDate.Valid {
				s.DueDate = dateOf(dueDate.Time)
			}
			if c := index[caseID]; c != nil {
				c.Steps = append(c.Steps, s)
			}
		}
		return rows.Err()
	})
	return out, err
}

// OpenCasesNotOnPlan lists, in id order after the id after, up to limit open
// cases (of one establishment, unless it is "") whose saved state runs under
// a plan older than plan: those a plan migration has still to move. A case
// saved before plans had versions counts as plan 1.
func (db *DB) OpenCasesNotOnPlan(ctx context.Context, plan int, establishment, after string, limit int) ([]string, error) {
	rows, err := db.q.Query(ctx, `
		select id from cases
		where closed_at is null and id > $1 and ($2 = '' or establishment = $2)
		  and coalesce(nullif((state->>'plan')::int, 0), 1) < $3
		order by id limit $4`, after, establishment, plan, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}
