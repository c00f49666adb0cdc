package postgres

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Caseload imports (migration 014): a CSV file's rows, each to open a case,
// and the import's progress. The rows are personal data and never leave
// PostgreSQL; the ImportCases workflow knows the import by id and its rows
// by line number.

// Import statuses.
const (
	ImportChecked = "checked" // stored from a check, waiting to be started
	ImportRunning = "running" // the workflow is opening its rows
	ImportDone    = "done"    // every row dealt with
)

// Import row statuses.
const (
	RowInvalid     = "invalid"      // the row has problems: never opened
	RowPending     = "pending"      // waiting for the workflow
	RowOpened      = "opened"       // the import opened its case
	RowAlreadyOpen = "already-open" // the person had an open case for the booking
	RowFailed      = "failed"       // refused when the import reached it
)

// ImportProblem is one thing wrong with a row: the CSV column at fault
// ("" for the row as a whole) and what is wrong.
type ImportProblem struct {
	Column  string `json:"column,omitempty"`
	Message string `json:"message"`
}

// ImportRecord is an import as stored.
type ImportRecord struct {
	ID          string
	CreatedBy   string
	CreatedAt   time.Time
	FileName    string
	FileSHA256  []byte
	RequestKey  string
	Status      string
	LastLine    int
	Rows        int
	Invalid     int
	ToOpen      int
	CheckedOpen int
	Opened      int
	AlreadyOpen int
	Failed      int
	StartedAt   *time.Time
	FinishedAt  *time.Time
}

// ImportRow is one row of an import's file.
type ImportRow struct {
	Line         int
	Status       string
	PrisonNumber string
	Request      json.RawMessage // the open-case request; nil once dealt with
	Problems     []ImportProblem
	CaseID       string
	// FoundOpen says the person had an open case for the booking when the
	// file was checked (CaseID names it when the importer may see it).
	FoundOpen bool
}

// ImportRowResult is what became of a pending row.
type ImportRowResult struct {
	Line     int
	Status   string // RowOpened, RowAlreadyOpen or RowFailed
	CaseID   string
	Problems []ImportProblem
}

const importColumns = `id, created_by, created_at, file_name, file_sha256, coalesce(request_key, ''), status, last_line,
	total_rows, invalid, to_open, checked_open, opened, already_open, failed, started_at, finished_at`

func scanImport(row pgx.Row) (ImportRecord, error) {
	var r ImportRecord
	err := row.Scan(&r.ID, &r.CreatedBy, &r.CreatedAt, &r.FileName, &r.FileSHA256, &r.RequestKey, &r.Status, &r.LastLine,
		&r.Rows, &r.Invalid, &r.ToOpen, &r.CheckedOpen, &r.Opened, &r.AlreadyOpen, &r.Failed, &r.StartedAt, &r.FinishedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, ErrNotFound
	}
	return r, err
}

// ImportKeyError says the member of staff already sent the idempotency key
// with an import, which it names.
type ImportKeyError struct{ ImportID string }

func (e *ImportKeyError) Error() string {
	return "idempotency key already used for import " + e.ImportID
}

// CreateImport stores an import and its rows in one transaction. An
// import whose request key its creator already used is not stored: the
// answer is *ImportKeyError naming the first.
func (db *DB) CreateImport(ctx context.Context, rec ImportRecord, rows []ImportRow) error {
	var key *string
	if rec.RequestKey != "" {
		key = &rec.RequestKey
	}
	err := pgx.BeginFunc(ctx, db.q, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `insert into imports (id, created_by, file_name, file_sha256, request_key, status, last_line,
			total_rows, invalid, to_open, checked_open) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
			rec.ID, rec.CreatedBy, rec.FileName, rec.FileSHA256, key, rec.Status, rec.LastLine,
			rec.Rows, rec.Invalid, rec.ToOpen, rec.CheckedOpen); err != nil {
			return err
		}
		data := make([][]any, len(rows))
		for i, r := range rows {
			problems, err := json.Marshal(nonNilProblems(r.Problems))
			if err != nil {
				return err
			}
			var req any
			if r.Request != nil {
				req = string(r.Request)
			}
			var caseID *string
			if r.CaseID != "" {
				caseID = &r.CaseID
			}
			data[i] = []any{rec.ID, r.Line, r.Status, r.PrisonNumber, req, string(problems), r.FoundOpen, caseID}
		}
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"import_rows"}, []string{"import_id", "line", "status", "prison_number", "request", "problems",
			"found_open", "case_id"},
			pgx.CopyFromRows(data))
		return err
	})
	if isUniqueViolation(err, "imports_request_key") {
		first, ferr := db.ImportByKey(ctx, rec.CreatedBy, rec.RequestKey)
		if ferr != nil {
			return ferr
		}
		return &ImportKeyError{ImportID: first.ID}
	}
	return err
}

func nonNilProblems(p []ImportProblem) []ImportProblem {
	if p == nil {
		return []ImportProblem{}
	}
	return p
}

// Import reads an import.
func (db *DB) Import(ctx context.Context, id string) (ImportRecord, error) {
	return scanImport(db.q.QueryRow(ctx, `select `+importColumns+` from imports where id = $1`, id))
}

// ImportByKey reads the import a member of staff sent with a request key.
func (db *DB) ImportByKey(ctx context.Context, staffID, key string) (ImportRecord, error) {
	return scanImport(db.q.QueryRow(ctx, `select `+importColumns+` from imports where created_by = $1 and request_key = $2`, staffID, key))
}

// ImportsBy lists a member of staff's imports, newest first.
func (db *DB) ImportsBy(ctx context.Context, staffID string, limit int) ([]ImportRecord, error) {
	rows, err := db.q.Query(ctx, `select `+importColumns+` from imports where created_by = $1 order by created_at desc, id limit $2`,
		staffID, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (ImportRecord, error) { return scanImport(row) })
}

// StartImport moves a checked import to running, and reports whether it
// did (false: it was running or done already).
func (db *DB) StartImport(ctx context.Context, id string) (bool, error) {
	tag, err := db.q.Exec(ctx, `update imports set status = 'running', started_at = now() where id = $1 and status = 'checked'`, id)
	return tag.RowsAffected() == 1, err
}

// UnstartImport moves a running import back to checked, when its workflow
// could not be started, so that it can be started again.
func (db *DB) UnstartImport(ctx context.Context, id string) error {
	_, err := db.q.Exec(ctx, `update imports set status = 'checked', started_at = null where id = $1 and status = 'running'
		and opened = 0 and already_open = 0 and failed = 0`, id)
	return err
}

// PendingImportRows reads the rows still to deal with whose line is after
// after and at most through, in line order.
func (db *DB) PendingImportRows(ctx context.Context, id string, after, through int) ([]ImportRow, error) {
	rows, err := db.q.Query(ctx, `select line, status, prison_number, request, problems, coalesce(case_id, ''), found_open from import_rows
		where import_id = $1 and status = 'pending' and line > $2 and line <= $3 order by line`, id, after, through)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, scanImportRow)
}

func scanImportRow(row pgx.CollectableRow) (ImportRow, error) {
	var r ImportRow
	var req, problems []byte
	if err := row.Scan(&r.Line, &r.Status, &r.PrisonNumber, &req, &problems, &r.CaseID, &r.FoundOpen); err != nil {
		return r, err
	}
	if req != nil {
		r.Request = json.RawMessage(req)
	}
	if err := json.Unmarshal(problems, &r.Problems); err != nil {
		return r, err
	}
	return r, nil
}

// ImportCounts are an import's counts of rows dealt with.
type ImportCounts struct {
	Opened, AlreadyOpen, Failed int
}

// RecordImportRows records what became of pending rows and adds them to
// the import's counts, in one transaction. Only rows still pending
// change, so recording a result twice (a retried batch) counts it once;
// the request is cleared as each row is dealt with. It returns the counts
// of the rows it changed.
func (db *DB) RecordImportRows(ctx context.Context, id string, results []ImportRowResult) (ImportCounts, error) {
	var c ImportCounts
	if len(results) == 0 {
		return c, nil
	}
	lines := make([]int32, len(results))
	statuses := make([]string, len(results))
	cases := make([]string, len(results))
	problems := make([]string, len(results))
	for i, r := range results {
		p, err := json.Marshal(nonNilProblems(r.Problems))
		if err != nil {
			return c, err
		}
		lines[i], statuses[i], cases[i], problems[i] = int32(r.Line), r.Status, r.CaseID, string(p)
	}
	err := pgx.BeginFunc(ctx, db.q, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `update import_rows r set status = u.status, case_id = nullif(u.case_id, ''),
			problems = u.problems::jsonb, request = null
			from unnest($2::int[], $3::text[], $4::text[], $5::text[]) as u (line, status, case_id, problems)
			where r.import_id = $1 and r.line = u.line and r.status = 'pending'
			returning r.status`, id, lines, statuses, cases, problems)
		if err != nil {
			return err
		}
		changed, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		for _, s := range changed {
			switch s {
			case RowOpened:
				c.Opened++
			case RowAlreadyOpen:
				c.AlreadyOpen++
			default:
				c.Failed++
			}
		}
		_, err = tx.Exec(ctx, `update imports set opened = opened + $2, already_open = already_open + $3, failed = failed + $4
			where id = $1`, id, c.Opened, c.AlreadyOpen, c.Failed)
		return err
	})
	return c, err
}

// FailPendingImportRows marks every row still pending with line after
// after and at most through as failed, with one problem, and counts them:
// for an import whose person can no longer open cases.
func (db *DB) FailPendingImportRows(ctx context.Context, id string, after, through int, problem ImportProblem) (int, error) {
	p, err := json.Marshal([]ImportProblem{problem})
	if err != nil {
		return 0, err
	}
	var n int
	err = pgx.BeginFunc(ctx, db.q, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `update import_rows set status = 'failed', problems = $4::jsonb, request = null, case_id = null
			where import_id = $1 and status = 'pending' and line > $2 and line <= $3`, id, after, through, string(p))
		if err != nil {
			return err
		}
		n = int(tag.RowsAffected())
		_, err = tx.Exec(ctx, `update imports set failed = failed + $2 where id = $1`, id, n)
		return err
	})
	return n, err
}

// FinishImport marks a running import done, once every row is dealt
// with; it reports the import as it then is.
func (db *DB) FinishImport(ctx context.Context, id string) (ImportRecord, error) {
	_, err := db.q.Exec(ctx, `update imports set status = 'done', finished_at = now() where id = $1 and status = 'running'
		and not exists (select from import_rows where import_id = $1 and status = 'pending')`, id)
	if err != nil {
		return ImportRecord{}, err
	}
	return db.Import(ctx, id)
}

// ImportRows reads a page of an import's rows in line order: those after
// line after, of one status unless status is ""; with notable, only those
// a person should look at (with problems, refused, or already open).
func (db *DB) ImportRows(ctx context.Context, id, status string, notable bool, after, limit int) ([]ImportRow, error) {
	rows, err := db.q.Query(ctx, `select line, status, prison_number, null::jsonb, problems, coalesce(case_id, ''), found_open
		from import_rows where import_id = $1 and ($2 = '' or status = $2)
		and (not $3 or status in ('invalid', 'failed', 'already-open') or status = 'pending' and found_open)
		and line > $4 order by line limit $5`, id, status, notable, after, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, scanImportRow)
}

// PurgeCheckedImports removes imports checked but never started before
// the instant, with their rows: their files' personal data is not kept
// for an import nobody started.
func (db *DB) PurgeCheckedImports(ctx context.Context, before time.Time) (int, error) {
	tag, err := db.q.Exec(ctx, `delete from imports where status = 'checked' and created_at < $1`, before)
	return int(tag.RowsAffected()), err
}

// PersonBooking is a person's prison number and a booking.
type PersonBooking struct{ PrisonNumber, Booking string }

// OpenCaseRef is where a person's open case is.
type OpenCaseRef struct {
	ID, Establishment, Team string
}

// OpenCasesFor finds the open cases of people and bookings, in one query.
func (db *DB) OpenCasesFor(ctx context.Context, pbs []PersonBooking) (map[PersonBooking]OpenCaseRef, error) {
	out := map[PersonBooking]OpenCaseRef{}
	if len(pbs) == 0 {
		return out, nil
	}
	numbers := make([]string, len(pbs))
	bookings := make([]string, len(pbs))
	for i, pb := range pbs {
		numbers[i], bookings[i] = pb.PrisonNumber, pb.Booking
	}
	rows, err := db.q.Query(ctx, `select c.prison_number, c.booking, c.id, c.establishment, c.team_id
		from unnest($1::text[], $2::text[]) as u (prison_number, booking)
		join cases c on c.prison_number = u.prison_number and c.booking = u.booking and c.closed_at is null`, numbers, bookings)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var pb PersonBooking
		var ref OpenCaseRef
		if err := rows.Scan(&pb.PrisonNumber, &pb.Booking, &ref.ID, &ref.Establishment, &ref.Team); err != nil {
			return nil, err
		}
		out[pb] = ref
	}
	return out, rows.Err()
}

// ImportOpening is one row of an import's batch to open: the idempotency
// key of its opening and its request's hash (as ClaimKey takes them), and
// the case to record (as CreateCase takes it).
type ImportOpening struct {
	Key  IdempotencyKey
	Hash []byte
	Case NewCase
}

// ImportOpened is what OpenImportCases made of an ImportOpening: exactly
// one of its fields says so.
type ImportOpened struct {
	// KeyResult is the case an earlier attempt opened and recorded under
	// the key: nothing was done.
	KeyResult string
	// KeyReused says the key was claimed for a different request: nothing
	// was done.
	KeyReused bool
	// CaseID is the case recorded now (Created) or found recorded by its
	// request id (an attempt that died before starting its workflow or
	// recording its key's result): its workflow is to be started.
	CaseID  string
	Created bool
	// OpenCase is the person's open case for the booking: nothing was
	// recorded and the key was released, as for a refused opening.
	OpenCase string
}

// OpenImportCases is ClaimKey then CreateCase for each opening of a batch,
// in one transaction and a few statements rather than a few for each row:
// an import opens thousands of cases, and a commit each is what bounded
// its rate. The rows are distinct people and keys (the file's check makes
// them so).
func (db *DB) OpenImportCases(ctx context.Context, ops []ImportOpening) ([]ImportOpened, error) {
	out := make([]ImportOpened, len(ops))
	if len(ops) == 0 {
		return out, nil
	}
	n := len(ops)
	staff, route, caseKey, key := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	hashes := make([][]byte, n)
	for i, op := range ops {
		staff[i], route[i], caseKey[i], key[i], hashes[i] = op.Key.Staff, op.Key.Route, op.Key.CaseID, op.Key.Key, op.Hash
	}
	err := pgx.BeginFunc(ctx, db.q, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `insert into idempotency_keys (staff_id, route, case_id, key, request_hash)
			select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bytea[]) on conflict do nothing`,
			staff, route, caseKey, key, hashes); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `select u.i, k.request_hash, coalesce(k.result_case, '')
			from unnest($1::text[], $2::text[], $3::text[], $4::text[]) with ordinality as u (staff_id, route, case_id, key, i)
			join idempotency_keys k on k.staff_id = u.staff_id and k.route = u.route and k.case_id = u.case_id and k.key = u.key`,
			staff, route, caseKey, key)
		if err != nil {
			return err
		}
		claimed := make([]bool, n)
		var i int64
		var hash []byte
		var result string
		_, err = pgx.ForEachRow(rows, []any{&i, &hash, &result}, func() error {
			switch {
			case !bytes.Equal(hash, ops[i-1].Hash):
				out[i-1].KeyReused = true
			case result != "":
				out[i-1].KeyResult = result
			default:
				claimed[i-1] = true
			}
			return nil
		})
		if err != nil {
			return err
		}
		var c caseColumns
		for j, op := range ops {
			if claimed[j] {
				c.add(op.Case)
			}
		}
		created := map[string]bool{}
		if len(c.id) > 0 {
			rows, err := tx.Query(ctx, `insert into cases (id, prison_number, booking, given_name, family_name, date_of_birth,
				local_authority, opened_by, open_request, establishment, team_id, owner_id, received_on, sentence_date)
				select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::date[], $7::text[], $8::text[],
					$9::text[], $10::text[], $11::text[], $12::text[], $13::date[], $14::date[])
				on conflict do nothing returning id`, c.args()...)
			if err != nil {
				return err
			}
			ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				return err
			}
			for _, id := range ids {
				created[id] = true
			}
			var o openings
			for _, op := range ops {
				if created[op.Case.ID] {
					o.add(op.Case)
				}
			}
			if err := o.write(ctx, tx); err != nil {
				return err
			}
		}
		// Not recorded: an earlier attempt's case, found by its request
		// id, or the person's open case for the booking.
		var retried, people, bookings []string
		for j, op := range ops {
			if claimed[j] && !created[op.Case.ID] {
				retried = append(retried, op.Case.RequestID)
				people, bookings = append(people, op.Case.Person.PrisonNumber), append(bookings, op.Case.Person.Booking)
			}
		}
		byRequest, byPerson := map[string]string{}, map[[2]string]string{}
		if len(retried) > 0 {
			rows, err := tx.Query(ctx, `select open_request, id from cases where open_request = any($1)`, retried)
			if err != nil {
				return err
			}
			var req, id string
			if _, err := pgx.ForEachRow(rows, []any{&req, &id}, func() error { byRequest[req] = id; return nil }); err != nil {
				return err
			}
			rows, err = tx.Query(ctx, `select c.prison_number, c.booking, c.id from cases c
				join unnest($1::text[], $2::text[]) as u (prison_number, booking) using (prison_number, booking)
				where c.closed_at is null`, people, bookings)
			if err != nil {
				return err
			}
			var pn, bk string
			if _, err := pgx.ForEachRow(rows, []any{&pn, &bk, &id}, func() error { byPerson[[2]string{pn, bk}] = id; return nil }); err != nil {
				return err
			}
		}
		var release []int
		for j, op := range ops {
			switch {
			case !claimed[j]:
			case created[op.Case.ID]:
				out[j].CaseID, out[j].Created = op.Case.ID, true
			case byRequest[op.Case.RequestID] != "":
				out[j].CaseID = byRequest[op.Case.RequestID]
			case byPerson[[2]string{op.Case.Person.PrisonNumber, op.Case.Person.Booking}] != "":
				out[j].OpenCase = byPerson[[2]string{op.Case.Person.PrisonNumber, op.Case.Person.Booking}]
				release = append(release, j)
			default:
				// Its conflict went away (the open case closed) between the
				// statements: the batch is retried.
				return fmt.Errorf("opening %s: its case was neither recorded nor found", op.Key.Key)
			}
		}
		for _, j := range release {
			k := ops[j].Key
			if _, err := tx.Exec(ctx, `delete from idempotency_keys where staff_id = $1 and route = $2 and case_id = $3 and key = $4
				and request_hash = $5 and result_case is null`, k.Staff, k.Route, k.CaseID, k.Key, ops[j].Hash); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// caseColumns are cases to insert, a column each, for unnest.
type caseColumns struct {
	id, prisonNumber, booking, given, family, localAuthority, openedBy, team, establishment []string
	request, owner                                                                          []*string
	born, received, sentenced                                                               []*time.Time
}

func (c *caseColumns) add(nc NewCase) {
	p := nc.Person
	var req, owner *string
	if nc.RequestID != "" {
		req = &nc.RequestID
	}
	if nc.Owner != "" {
		owner = &nc.Owner
	}
	c.id, c.prisonNumber, c.booking = append(c.id, nc.ID), append(c.prisonNumber, p.PrisonNumber), append(c.booking, p.Booking)
	c.given, c.family, c.born = append(c.given, p.GivenName), append(c.family, p.FamilyName), append(c.born, date(p.DateOfBirth))
	c.localAuthority, c.openedBy, c.request = append(c.localAuthority, p.LocalAuthority), append(c.openedBy, nc.OpenedBy), append(c.request, req)
	c.establishment, c.team, c.owner = append(c.establishment, nc.Establishment), append(c.team, nc.Team), append(c.owner, owner)
	c.received, c.sentenced = append(c.received, date(nc.ReceivedOn)), append(c.sentenced, date(nc.SentenceDate))
}

// args are the columns in the order of the cases insert.
func (c *caseColumns) args() []any {
	return []any{c.id, c.prisonNumber, c.booking, c.given, c.family, c.born, c.localAuthority, c.openedBy, c.request,
		c.establishment, c.team, c.owner, c.received, c.sentenced}
}

// SetImportKeyResults records the cases a batch's keys opened (SetKeyResult
// for each, in one statement).
func (db *DB) SetImportKeyResults(ctx context.Context, keys []IdempotencyKey, cases []string) error {
	if len(keys) == 0 {
		return nil
	}
	staff, route, caseKey, key := make([]string, len(keys)), make([]string, len(keys)), make([]string, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		staff[i], route[i], caseKey[i], key[i] = k.Staff, k.Route, k.CaseID, k.Key
	}
	_, err := db.q.Exec(ctx, `update idempotency_keys k set result_case = u.result
		from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) as u (staff_id, route, case_id, key, result)
		where k.staff_id = u.staff_id and k.route = u.route and k.case_id = u.case_id and k.key = u.key`,
		staff, route, caseKey, key, cases)
	return err
}

// CasesUnsaved returns those of the cases that their workflow has not
// saved yet (version 0: as opened): an import paces itself by them.
func (db *DB) CasesUnsaved(ctx context.Context, ids []string) ([]string, error) {
	rows, err := db.q.Query(ctx, `select id from cases where id = any($1) and version = 0`, ids)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}
