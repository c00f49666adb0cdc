package casework

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/resettlement"
	"github.com/throughgate/throughgate/workflows"
)

// Loading a caseload (README.md, "Loading a caseload"). A person uploads a
// CSV file of the people to open cases for; CheckImport reads it and
// checks every row as opening one case would (OpenRequest.Check, the
// team, the owner, the person's scope) and finds the rows whose person
// already has an open case for the booking, changing nothing (the dry
// run). CreateImport stores the rows in PostgreSQL and StartImport starts
// the ImportCases workflow, whose activity opens the rows in batches with
// OpenCase's checks, refusals and audit but a transaction or two for a
// batch, as the importing person, each row with the idempotency key of its
// import and line (RunImportBatch). Progress is kept in PostgreSQL, read
// with ViewImport.

// ImportCheck counts what a check of a file found.
type ImportCheck struct {
	Rows        int `json:"rows"`         // rows of people in the file
	Invalid     int `json:"invalid"`      // rows with problems: they open nothing
	WouldOpen   int `json:"would_open"`   // rows that would open a case
	AlreadyOpen int `json:"already_open"` // rows whose person has an open case for the booking: skipped, not an error
}

// ImportProgress counts what an import has done with its rows: Done of
// ToDo, the rows without problems.
type ImportProgress struct {
	ToDo        int `json:"to_do"`
	Done        int `json:"done"`
	Opened      int `json:"opened"`
	AlreadyOpen int `json:"already_open"`
	Failed      int `json:"failed"` // refused when the import reached them (the directory changed since the check)
}

// ImportRowOutcome is one row of a report: its line, what became (or, in
// a dry run, would become) of it, and its problems.
type ImportRowOutcome struct {
	Line         int             `json:"line"`
	Status       string          `json:"status"` // invalid, pending, opened, already-open, failed
	PrisonNumber string          `json:"prison_number,omitempty"`
	CaseID       string          `json:"case_id,omitempty"` // the case opened, or the open case (when the person may see it)
	Problems     []ImportProblem `json:"problems,omitempty"`
}

// ImportReport is a check of a file (Status "dry-run": nothing stored), or
// an import and its progress.
type ImportReport struct {
	ID         string          `json:"id,omitempty"`
	Status     string          `json:"status"` // dry-run, checked, running, done
	FileName   string          `json:"file_name,omitempty"`
	CreatedBy  string          `json:"created_by,omitempty"`
	CreatedAt  *time.Time      `json:"created_at,omitempty"`
	StartedAt  *time.Time      `json:"started_at,omitempty"`
	FinishedAt *time.Time      `json:"finished_at,omitempty"`
	Check      ImportCheck     `json:"check"`
	Progress   *ImportProgress `json:"progress,omitempty"`
	// Rows: of a dry run, every row with problems or already open; of an
	// import, a page of its rows (ImportRowQuery), NextAfter the line to
	// ask after for the next page (0: none).
	Rows      []ImportRowOutcome `json:"rows"`
	NextAfter int                `json:"next_after,omitempty"`
}

// StatusDryRun is the status of a report of a check that stored nothing.
const StatusDryRun = "dry-run"

// importConcurrency is how many rows of a batch open at once.
const importConcurrency = 8

// checkedImport is a file read and checked.
type checkedImport struct {
	file   importFile
	check  ImportCheck
	open   map[int]string // line to the open case of its person and booking ("" when p may not see it)
	report []ImportRowOutcome
}

// importScope refuses a role that opens no cases (administrators).
func importScope(p *auth.Principal) (postgres.Scope, error) {
	s, ok := p.CaseScope()
	if !ok {
		return s, Errorf(Forbidden, "Administrators manage staff, teams and the audit log; loading a caseload is for the staff who open cases.")
	}
	return s, nil
}

// checkImportFile reads and checks a file for p: every row as OpenRequest
// would be checked on opening (imports_csv.go), then against the
// directory as openChecked checks it — the team active at the row's
// establishment and in p's reach, the owner able to see the case — then
// the people already with an open case for the booking.
func (s *Service) checkImportFile(ctx context.Context, p *auth.Principal, scope postgres.Scope, b []byte) (*checkedImport, error) {
	f, err := parseImportFile(b)
	if err != nil {
		return nil, err
	}
	checkRows(f.Rows, s.now())
	if err := s.checkImportDirectory(ctx, p, f.Rows); err != nil {
		return nil, err
	}
	c := &checkedImport{file: f, open: map[int]string{}, check: ImportCheck{Rows: len(f.Rows)}}
	var pbs []postgres.PersonBooking
	for _, r := range f.Rows {
		if len(r.Problems) == 0 {
			pbs = append(pbs, postgres.PersonBooking{PrisonNumber: r.Req.Person.PrisonNumber, Booking: r.Req.Person.Booking})
		}
	}
	open, err := s.DB.OpenCasesFor(ctx, pbs)
	if err != nil {
		return nil, err
	}
	for _, r := range f.Rows {
		out := ImportRowOutcome{Line: r.Line, PrisonNumber: r.Req.Person.PrisonNumber, Problems: r.Problems}
		if len(r.Problems) > 0 {
			c.check.Invalid++
			out.Status = postgres.RowInvalid
			c.report = append(c.report, out)
			continue
		}
		ref, isOpen := open[postgres.PersonBooking{PrisonNumber: r.Req.Person.PrisonNumber, Booking: r.Req.Person.Booking}]
		if !isOpen {
			c.check.WouldOpen++
			continue
		}
		c.check.AlreadyOpen++
		out.Status = postgres.RowAlreadyOpen
		if inScope(scope, ref.Establishment, ref.Team) {
			out.CaseID = ref.ID
		} else if err := s.Audit(ctx, p, "case.probe", ref.ID, fmt.Sprintf("import check line %d: the person has an open case outside the caller's scope", r.Line)); err != nil {
			// As openChecked: that the person has an open case cannot be kept
			// from p, but which and where can; the check is recorded as a probe.
			return nil, err
		}
		c.open[r.Line] = out.CaseID
		c.report = append(c.report, out)
	}
	return c, nil
}

// inScope reports whether a case at an establishment belonging to a team
// is within a scope, as postgres's scope condition decides.
func inScope(s postgres.Scope, establishment, team string) bool {
	return s.All || slices.Contains(s.Establishments, establishment) || slices.Contains(s.Teams, team)
}

// checkImportDirectory checks the rows' teams and owners against the
// directory with openChecked's rules and words, reading each team once
// and each owner once per team.
func (s *Service) checkImportDirectory(ctx context.Context, p *auth.Principal, rows []importRow) error {
	all, err := s.DB.AllTeams(ctx)
	if err != nil {
		return err
	}
	teams := map[string]postgres.Team{}
	for _, t := range all {
		teams[t.ID] = t
	}
	owners := map[string]string{} // owner|establishment|team to the problem ("" none)
	for i := range rows {
		r := &rows[i]
		if r.hasProblem("") || r.hasProblem("team") || r.hasProblem("establishment") {
			continue
		}
		t, ok := teams[r.Req.Team]
		switch {
		case !ok || !t.Active:
			r.add("team", "is not an active team")
			continue
		case t.Establishment != r.Req.Establishment:
			r.add("team", "works at "+t.Establishment+", not "+r.Req.Establishment)
			continue
		case !p.CanWorkTeam(t.ID, t.Establishment):
			r.add("team", "is not a team you may open cases for: only your own establishment's or teams' people")
			continue
		}
		if r.Req.Owner == "" || r.hasProblem("owner") {
			continue
		}
		k := r.Req.Owner + "|" + r.Req.Establishment + "|" + r.Req.Team
		msg, seen := owners[k]
		if !seen {
			if msg, err = s.checkStaffOwner(ctx, r.Req.Owner, r.Req.Establishment, r.Req.Team); err != nil {
				return err
			}
			owners[k] = msg
		}
		if msg != "" {
			r.add("owner", msg)
		}
	}
	return nil
}

// CheckImport is the dry run: the file read and checked for p, every row's
// problems and the rows already open reported, nothing stored or opened.
// Audited with its counts.
func (s *Service) CheckImport(ctx context.Context, p *auth.Principal, file []byte) (ImportReport, error) {
	scope, err := importScope(p)
	if err != nil {
		return ImportReport{}, err
	}
	c, err := s.checkImportFile(ctx, p, scope, file)
	if err != nil {
		return ImportReport{}, err
	}
	rep := ImportReport{Status: StatusDryRun, Check: c.check, Rows: c.report}
	if rep.Rows == nil {
		rep.Rows = []ImportRowOutcome{}
	}
	return rep, s.Audit(ctx, p, "import.check", "", checkDetail(c.check))
}

func checkDetail(c ImportCheck) string {
	return fmt.Sprintf("rows=%d invalid=%d would_open=%d already_open=%d", c.Rows, c.Invalid, c.WouldOpen, c.AlreadyOpen)
}

// errImportKeyReused refuses an Idempotency-Key sent again with another file.
var errImportKeyReused = Errorf(Invalid, "This Idempotency-Key was already used for an import of a different file. Send a new key with every new import; send a key again only to retry the very same upload.",
	resettlement.FieldError{Field: "Idempotency-Key", Message: "was already used for a different file"})

// checkedImportTTL is how long an import checked on the pages but never
// started is kept.
const checkedImportTTL = 24 * time.Hour

// CreateImport checks the file for p and stores it as an import: its rows
// with their problems, the rows without problems waiting to be opened.
// With start, the import starts at once (StartImport); without, it waits,
// checked, for StartImport (the pages' confirmation), and is removed after
// a day if never started. key, when given, makes a retry of the same
// upload answer with the first import (created false); the key sent with
// another file is refused naming Idempotency-Key. name is the file's name,
// for people to recognise it.
func (s *Service) CreateImport(ctx context.Context, p *auth.Principal, file []byte, name, key string, start bool) (rep ImportReport, created bool, err error) {
	scope, err := importScope(p)
	if err != nil {
		return rep, false, err
	}
	if key != "" {
		if err := CheckKey(key); err != nil {
			return rep, false, err
		}
	}
	sum := sha256.Sum256(file)
	if key != "" {
		first, err := s.DB.ImportByKey(ctx, p.ID(), key)
		switch {
		case err == nil:
			return s.retryImport(ctx, p, first, sum[:], start)
		case !errors.Is(err, postgres.ErrNotFound):
			return rep, false, err
		}
	}
	c, err := s.checkImportFile(ctx, p, scope, file)
	if err != nil {
		return rep, false, err
	}
	if _, err := s.DB.PurgeCheckedImports(ctx, s.now().Add(-checkedImportTTL)); err != nil {
		return rep, false, err
	}
	rec := postgres.ImportRecord{ID: newCaseID(), CreatedBy: p.ID(), FileName: cleanFileName(name), FileSHA256: sum[:],
		RequestKey: key, Status: postgres.ImportChecked, LastLine: c.file.LastLine, Rows: c.check.Rows, Invalid: c.check.Invalid,
		ToOpen: c.check.WouldOpen + c.check.AlreadyOpen, CheckedOpen: c.check.AlreadyOpen}
	rows := make([]postgres.ImportRow, len(c.file.Rows))
	for i, r := range c.file.Rows {
		row := postgres.ImportRow{Line: r.Line, Status: postgres.RowInvalid, PrisonNumber: r.Req.Person.PrisonNumber, Problems: r.Problems}
		if len(r.Problems) == 0 {
			// Every row without problems is opened, or found open, when the
			// import reaches it: an open case found by the check may close
			// before then.
			req, err := json.Marshal(r.Req)
			if err != nil {
				return rep, false, err
			}
			row.Status, row.Request = postgres.RowPending, req
			row.CaseID, row.FoundOpen = c.open[r.Line]
		}
		rows[i] = row
	}
	err = s.DB.CreateImport(ctx, rec, rows)
	var dup *postgres.ImportKeyError
	if errors.As(err, &dup) {
		first, err := s.DB.Import(ctx, dup.ImportID)
		if err != nil {
			return rep, false, err
		}
		return s.retryImport(ctx, p, first, sum[:], start)
	}
	if err != nil {
		return rep, false, err
	}
	if err := s.Audit(ctx, p, "import.create", "", fmt.Sprintf("import=%s %s", rec.ID, checkDetail(c.check))); err != nil {
		return rep, false, err
	}
	if start {
		rep, err = s.StartImport(ctx, p, rec.ID)
		return rep, true, err
	}
	rep, err = s.importReport(ctx, rec.ID, ImportRowQuery{})
	return rep, true, err
}

// retryImport answers a retried upload with the first import, starting it
// if asked and not yet started.
func (s *Service) retryImport(ctx context.Context, p *auth.Principal, first postgres.ImportRecord, sum []byte, start bool) (ImportReport, bool, error) {
	if !bytes.Equal(first.FileSHA256, sum) {
		return ImportReport{}, false, errImportKeyReused
	}
	if start && first.Status == postgres.ImportChecked {
		rep, err := s.StartImport(ctx, p, first.ID)
		return rep, false, err
	}
	rep, err := s.importReport(ctx, first.ID, ImportRowQuery{})
	return rep, false, err
}

// cleanFileName keeps the base of an uploaded file's name, if it is
// plain text of a sensible length.
func cleanFileName(name string) string {
	name = path.Base(strings.ReplaceAll(name, `\`, "/"))
	if name == "." || name == "/" || !PlainText(name) || utf8.RuneCountInString(name) > 200 {
		return ""
	}
	return name
}

var errNoImport = Errorf(NotFound, "There is no such import, or it is not one you made.")

// ownImport reads an import p made; any other is not found.
func (s *Service) ownImport(ctx context.Context, p *auth.Principal, id string) (postgres.ImportRecord, error) {
	if _, err := importScope(p); err != nil {
		return postgres.ImportRecord{}, err
	}
	if !resettlement.ValidID(id) {
		return postgres.ImportRecord{}, errNoImport
	}
	rec, err := s.DB.Import(ctx, id)
	if errors.Is(err, postgres.ErrNotFound) || err == nil && rec.CreatedBy != p.ID() {
		return rec, errNoImport
	}
	return rec, err
}

// StartImport starts an import p checked: its workflow opens the rows in
// the background. Starting one already started changes nothing. Audited.
func (s *Service) StartImport(ctx context.Context, p *auth.Principal, id string) (ImportReport, error) {
	rec, err := s.ownImport(ctx, p, id)
	if err != nil {
		return ImportReport{}, err
	}
	started, err := s.DB.StartImport(ctx, id)
	if err != nil {
		return ImportReport{}, err
	}
	if started || rec.Status == postgres.ImportRunning {
		// Running already: the workflow may never have started (the first
		// attempt failed in between); starting it again finds it if it did.
		if err := s.startImportWorkflow(ctx, rec); err != nil {
			if started {
				_ = s.DB.UnstartImport(context.WithoutCancel(ctx), id)
			}
			return ImportReport{}, err
		}
	}
	if started {
		if err := s.Audit(ctx, p, "import.start", "", fmt.Sprintf("import=%s rows=%d", id, rec.ToOpen)); err != nil {
			return ImportReport{}, err
		}
	}
	return s.importReport(ctx, id, ImportRowQuery{})
}

// startImportWorkflow starts the import's workflow, or finds it started.
func (s *Service) startImportWorkflow(ctx context.Context, rec postgres.ImportRecord) error {
	_, err := s.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       workflows.ImportWorkflowID(rec.ID),
		TaskQueue:                workflows.TaskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
	}, workflows.ImportCases, workflows.ImportInput{ImportID: rec.ID, LastLine: rec.LastLine})
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		return nil // it ran to its end already
	}
	if err != nil {
		return fmt.Errorf("starting the import's workflow: %w", err)
	}
	return nil
}

// ImportRowQuery chooses a page of an import's rows: those after line
// After, of one Status ("" for all), at most Limit (0: 100; up to 1000).
// Notable keeps only the rows to look at: with problems, refused, or
// already open.
type ImportRowQuery struct {
	After   int
	Status  string
	Limit   int
	Notable bool
}

// Check checks the query.
func (q ImportRowQuery) Check() error {
	var errs resettlement.Errors
	if q.After < 0 {
		errs.Add("after", "must be a line number, 0 or more")
	}
	switch q.Status {
	case "", postgres.RowInvalid, postgres.RowPending, postgres.RowOpened, postgres.RowAlreadyOpen, postgres.RowFailed:
	default:
		errs.Add("status", "must be one of invalid, pending, opened, already-open, failed")
	}
	if q.Limit < 0 || q.Limit > 1000 {
		errs.Add("limit", "must be from 1 to 1000")
	}
	if len(errs) > 0 {
		return FieldsError(errs)
	}
	return nil
}

// ViewImport is an import p made, with its progress and a page of its
// rows; audited, since the rows name people.
func (s *Service) ViewImport(ctx context.Context, p *auth.Principal, id string, q ImportRowQuery) (ImportReport, error) {
	if err := q.Check(); err != nil {
		return ImportReport{}, err
	}
	if _, err := s.ownImport(ctx, p, id); err != nil {
		return ImportReport{}, err
	}
	rep, err := s.importReport(ctx, id, q)
	if err != nil {
		return rep, err
	}
	return rep, s.Audit(ctx, p, "import.view", "", fmt.Sprintf("import=%s rows=%d after=%d", id, len(rep.Rows), q.After))
}

// ListImports lists p's imports, newest first, without their rows.
func (s *Service) ListImports(ctx context.Context, p *auth.Principal) ([]ImportReport, error) {
	if _, err := importScope(p); err != nil {
		return nil, err
	}
	recs, err := s.DB.ImportsBy(ctx, p.ID(), 20)
	if err != nil {
		return nil, err
	}
	out := make([]ImportReport, len(recs))
	for i, r := range recs {
		out[i] = importReportOf(r)
	}
	return out, nil
}

// importReportOf is an import's report without rows.
func importReportOf(r postgres.ImportRecord) ImportReport {
	created := r.CreatedAt
	rep := ImportReport{ID: r.ID, Status: r.Status, FileName: r.FileName, CreatedBy: r.CreatedBy, CreatedAt: &created,
		StartedAt: r.StartedAt, FinishedAt: r.FinishedAt, Rows: []ImportRowOutcome{},
		Check: ImportCheck{Rows: r.Rows, Invalid: r.Invalid, WouldOpen: r.ToOpen - r.CheckedOpen, AlreadyOpen: r.CheckedOpen}}
	if r.Status != postgres.ImportChecked {
		rep.Progress = &ImportProgress{ToDo: r.ToOpen, Done: r.Opened + r.AlreadyOpen + r.Failed, Opened: r.Opened,
			AlreadyOpen: r.AlreadyOpen, Failed: r.Failed}
	}
	return rep
}

// importReport reads an import and a page of its rows.
func (s *Service) importReport(ctx context.Context, id string, q ImportRowQuery) (ImportReport, error) {
	rec, err := s.DB.Import(ctx, id)
	if err != nil {
		return ImportReport{}, err
	}
	rep := importReportOf(rec)
	limit := q.Limit
	if limit == 0 {
		limit = 100
	}
	rows, err := s.DB.ImportRows(ctx, id, q.Status, q.Notable, q.After, limit+1)
	if err != nil {
		return rep, err
	}
	if len(rows) > limit {
		rows = rows[:limit]
		rep.NextAfter = rows[limit-1].Line
	}
	for _, r := range rows {
		out := ImportRowOutcome{Line: r.Line, Status: r.Status, PrisonNumber: r.PrisonNumber, CaseID: r.CaseID, Problems: r.Problems}
		if rec.Status == postgres.ImportChecked && r.FoundOpen {
			out.Status = postgres.RowAlreadyOpen // as the check found it; the import looks again
		}
		rep.Rows = append(rep.Rows, out)
	}
	return rep, nil
}

// importKey is the idempotency key of a row's opening: the import and
// the line, so the row opens once however often its batch runs.
func importKey(importID string, line int) string {
	return "import-" + importID + "-" + strconv.Itoa(line)
}

// importer is the principal of the person who made an import, as they are
// now: the rows open with their scope today.
func (s *Service) importer(ctx context.Context, id string) (*auth.Principal, error) {
	st, err := s.DB.StaffMember(ctx, id)
	if err != nil {
		return nil, err
	}
	reach, err := s.DB.StaffReach(ctx, id)
	if err != nil {
		return nil, err
	}
	return &auth.Principal{Staff: st, Reach: reach, Via: "import"}, nil
}

// ErrImportGone means the import asked for is not there.
var ErrImportGone = errors.New("the import is not there")

// RunImportBatch opens the pending rows of an import whose line is after
// after and at most through, as the person who made the import (their
// scope as it is now), each row under its own idempotency key: with
// OpenCase's rules, refusals and audit, but in bulk. Each row is checked
// as OpenCase checks it (the request, then the team and owner against the
// directory, once for each team and owner in the batch); the keys are
// claimed and the cases recorded for the whole batch in one transaction;
// the cases' workflows start several at once; then the keys' results,
// each case.open and the rows' outcomes are recorded in one transaction
// with the batch's audit. A commit or two for a batch rather than four for
// each row is what lets an import open cases as fast as Temporal starts
// their workflows (README, "Performance").
//
// A row opened by an earlier attempt of the batch (a crash) is found by
// its key, not opened again; a person with an open case for the booking
// is "already open"; a refusal names the row's columns at fault. A
// failure on our side (the database, Temporal) records the rows done and
// returns the error, for the batch to be retried. beat is called after
// each row.
func (s *Service) RunImportBatch(ctx context.Context, id string, after, through int, beat func()) (workflows.ImportResult, error) {
	var res workflows.ImportResult
	rec, err := s.DB.Import(ctx, id)
	if errors.Is(err, postgres.ErrNotFound) {
		return res, ErrImportGone
	}
	switch {
	case err != nil:
		return res, err
	case rec.Status == postgres.ImportChecked:
		// Its start was undone (StartImport saw the workflow's start fail,
		// yet it had started): the batch waits, retried, until the import
		// is started again or removed unstarted.
		return res, fmt.Errorf("import %s is not started", id)
	case rec.Status != postgres.ImportRunning:
		return res, nil
	}
	p, err := s.importer(ctx, rec.CreatedBy)
	if err != nil {
		return res, err
	}
	if _, ok := p.CaseScope(); !ok || !p.Staff.Active {
		n, err := s.DB.FailPendingImportRows(ctx, id, after, through,
			ImportProblem{Message: "was not opened: the person who started the import can no longer open cases"})
		res.Failed = n
		return res, err
	}
	rows, err := s.DB.PendingImportRows(ctx, id, after, through)
	if err != nil || len(rows) == 0 {
		return res, err
	}
	if beat == nil {
		beat = func() {}
	}
	b := &importBatch{s: s, p: p, id: id, now: s.now(), beat: beat, rows: make([]batchRow, len(rows)), targets: map[string]error{}}
	for i, row := range rows {
		b.rows[i].row = row
	}
	fault := b.open(ctx)
	counts, err := b.record(context.WithoutCancel(ctx))
	if err != nil {
		return res, errors.Join(fault, err)
	}
	res = workflows.ImportResult{Opened: counts.Opened, AlreadyOpen: counts.AlreadyOpen, Failed: counts.Failed}
	if fault == nil {
		fault = b.settle(ctx)
	}
	return res, fault
}

// settle waits, up to the service's ImportPace, until the workflows the
// batch started have run their first task (each saved its case), so an
// import runs no further ahead of the workers than the batches in flight.
// Without it the starts, which cost Temporal a fraction of a workflow's
// run, raced thousands of workflows ahead of the workers on a busy
// machine, and each workflow then cost a third more processor time (most
// likely its tasks queued in the database, and more workflows waiting
// than the worker's cache holds; README, "Performance"). Waiting longer
// than the pace is no fault: the batch ends and the import goes on.
func (b *importBatch) settle(ctx context.Context) error {
	if b.s.ImportPace <= 0 {
		return nil
	}
	var ids []string
	for _, r := range b.rows {
		if r.started {
			ids = append(ids, r.caseID)
		}
	}
	deadline := time.Now().Add(b.s.ImportPace)
	for len(ids) > 0 && time.Now().Before(deadline) {
		waiting, err := b.s.DB.CasesUnsaved(ctx, ids)
		if err != nil || len(waiting) == 0 {
			return err
		}
		ids = waiting
		b.beat()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return nil
}

// importStarts is how many of a batch's workflows start at once (the
// workflow runs ImportParallel batches at once).
const importStarts = 16

// importBatch is a batch of an import's rows being opened.
type importBatch struct {
	s       *Service
	p       *auth.Principal
	id      string
	now     time.Time
	beat    func() // after each row decided: the activity's heartbeat
	rows    []batchRow
	targets map[string]error // checkOpenTarget's answer for each team, establishment and owner
}

// batchRow is one row of a batch and what became of it.
type batchRow struct {
	row  postgres.ImportRow
	req  OpenRequest
	key  postgres.IdempotencyKey
	hash []byte
	open resettlement.OpenCase
	plan *resettlement.Case // open as planned at the batch's now (startCase)
	// What the batch made of it: out when decided; caseID and created for
	// a case recorded whose workflow is to start (started once it has).
	out     *postgres.ImportRowResult
	caseID  string
	created bool
	started bool
	audit   []postgres.AuditEntry // to record with the row's outcome
}

// open decides every row it can: refusals, rows found opened, people with
// an open case, and the cases recorded and started. It returns the first
// failure on our side; the rows it decided are kept for record.
func (b *importBatch) open(ctx context.Context) error {
	s, p := b.s, b.p
	var ops []postgres.ImportOpening
	var opsRows []int
	for i := range b.rows {
		r := &b.rows[i]
		if err := json.Unmarshal(r.row.Request, &r.req); err != nil {
			return fmt.Errorf("import %s line %d: reading the stored request: %w", b.id, r.row.Line, err)
		}
		key := importKey(b.id, r.row.Line)
		if err := r.refused(CheckKey(key)); err != nil {
			return err
		}
		if r.out != nil {
			continue
		}
		if err := r.refused(r.req.Check(b.now)); err != nil || r.out != nil {
			if err != nil {
				return err
			}
			b.beat()
			continue
		}
		r.key = postgres.IdempotencyKey{Staff: p.ID(), Route: "open", Key: key}
		hash, err := requestHash("open", r.req)
		if err != nil {
			return err
		}
		r.hash = hash
		t := r.req.Team + "|" + r.req.Establishment + "|" + r.req.Owner
		terr, seen := b.targets[t]
		if !seen {
			terr = s.checkOpenTarget(ctx, p, r.req)
			b.targets[t] = terr
		}
		if err := r.refused(terr); err != nil {
			return err
		} else if r.out != nil {
			b.beat()
			continue
		}
		req := r.req
		req.OpenedBy, req.RequestID = p.ID(), p.ID()+":open:"+key // as openChecked
		policy := s.Policy
		r.open = req.openCase(newCaseID(), &policy)
		if r.plan, err = resettlement.Open(r.open, b.now); err != nil {
			return err // checked above: a fault
		}
		ops = append(ops, postgres.ImportOpening{Key: r.key, Hash: r.hash, Case: postgres.NewCase{ID: r.open.CaseID, Person: req.Person,
			OpenedBy: req.OpenedBy, RequestID: req.RequestID, Establishment: req.Establishment, Team: req.Team, Owner: req.Owner,
			ReceivedOn: req.ReceivedOn, SentenceDate: req.SentenceDate, Planned: r.plan, PlannedAt: b.now}})
		opsRows = append(opsRows, i)
	}
	opened, err := s.DB.OpenImportCases(ctx, ops)
	if err != nil {
		return err
	}
	toStart, err := b.sort(ctx, opened, opsRows)
	if err != nil {
		// Nothing started: the cases recorded now would only block the retry.
		for j, o := range opened {
			if o.Created {
				_ = s.DB.DeleteUnstartedCase(context.WithoutCancel(ctx), b.rows[opsRows[j]].open.CaseID)
			}
		}
		return err
	}
	return b.start(ctx, toStart)
}

// sort decides the rows OpenImportCases found opened, reused or open
// already, and returns those whose case was recorded, to start.
func (b *importBatch) sort(ctx context.Context, opened []postgres.ImportOpened, opsRows []int) ([]int, error) {
	s, p := b.s, b.p
	var toStart []int
	for j, o := range opened {
		r := &b.rows[opsRows[j]]
		switch {
		case o.KeyReused:
			if err := r.refused(errKeyReused); err != nil {
				return nil, err
			}
		case o.KeyResult != "":
			// Opened and recorded under its key by an earlier attempt, as
			// OpenCase answers a retry: the case, if p may still see it.
			if err := r.refused(s.access(ctx, p, o.KeyResult, "open")); err != nil {
				return nil, err
			} else if r.out != nil {
				b.beat()
				continue
			}
			r.out = &postgres.ImportRowResult{Line: r.row.Line, Status: postgres.RowOpened, CaseID: o.KeyResult}
			r.audit = append(r.audit, b.auditEntry("case.open", o.KeyResult, "created=false"))
		case o.OpenCase != "":
			in, err := s.InScope(ctx, p, o.OpenCase)
			if err != nil {
				return nil, err
			}
			r.out = &postgres.ImportRowResult{Line: r.row.Line, Status: postgres.RowAlreadyOpen}
			if in {
				r.out.CaseID = o.OpenCase
			} else {
				// As openChecked: that the person has an open case cannot be
				// kept from p, but which and where can.
				r.audit = append(r.audit, b.auditEntry("case.probe", o.OpenCase, "open refused: the person has an open case outside the caller's scope"))
			}
		default:
			r.caseID, r.created = o.CaseID, o.Created
			r.open.CaseID = o.CaseID
			toStart = append(toStart, opsRows[j])
		}
		if r.out != nil {
			b.beat()
		}
	}
	return toStart, nil
}

// start starts the workflows of the rows at the indexes given, several at
// once. A failure stops new starts but lets those under way finish; the
// cases recorded now whose workflow did not start are removed, so nothing
// is left to block the retry (open does the same).
func (b *importBatch) start(ctx context.Context, idx []int) error {
	var (
		mu    sync.Mutex
		fault error
		wg    sync.WaitGroup
	)
	next := make(chan int)
	for range min(importStarts, len(idx)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				r := &b.rows[i]
				err := b.s.startCase(ctx, r.open, r.plan, b.now)
				mu.Lock()
				if err != nil && fault == nil {
					fault = fmt.Errorf("import %s line %d: starting the case's workflow: %w", b.id, r.row.Line, err)
				}
				r.started = err == nil
				mu.Unlock()
				b.beat()
			}
		}()
	}
	for _, i := range idx {
		mu.Lock()
		stop := fault != nil
		mu.Unlock()
		if stop || ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	for _, i := range idx {
		r := &b.rows[i]
		if r.started {
			r.out = &postgres.ImportRowResult{Line: r.row.Line, Status: postgres.RowOpened, CaseID: r.caseID}
			r.audit = append(r.audit, b.auditEntry("case.open", r.caseID, fmt.Sprintf("created=%t", r.created)))
		} else if r.created {
			_ = b.s.DB.DeleteUnstartedCase(context.WithoutCancel(ctx), r.caseID)
		}
	}
	if fault == nil {
		fault = ctx.Err()
	}
	return fault
}

// record records what became of the rows decided, in one transaction:
// the keys' results, the rows' audit entries, their outcomes and the
// import's counts, and the batch's audit naming the cases it opened.
func (b *importBatch) record(ctx context.Context) (postgres.ImportCounts, error) {
	var counts postgres.ImportCounts
	var done []postgres.ImportRowResult
	var keys []postgres.IdempotencyKey
	var keyCases, opened []string
	for _, r := range b.rows {
		if r.out == nil {
			continue
		}
		done = append(done, *r.out)
		if r.started {
			keys, keyCases = append(keys, r.key), append(keyCases, r.caseID)
		}
		if r.out.Status == postgres.RowOpened {
			opened = append(opened, r.out.CaseID)
		}
	}
	if len(done) == 0 {
		return counts, nil
	}
	err := b.s.DB.InTx(ctx, func(tx *postgres.DB) error {
		if err := tx.SetImportKeyResults(ctx, keys, keyCases); err != nil {
			return err
		}
		for _, r := range b.rows {
			for _, a := range r.audit {
				if err := tx.Audit(ctx, a); err != nil {
					return err
				}
			}
		}
		var err error
		if counts, err = tx.RecordImportRows(ctx, b.id, done); err != nil {
			return err
		}
		detail := fmt.Sprintf("import=%s lines=%d-%d opened=%d already_open=%d failed=%d", b.id, b.rows[0].row.Line,
			b.rows[len(b.rows)-1].row.Line, counts.Opened, counts.AlreadyOpen, counts.Failed)
		if len(opened) > 0 {
			detail += " cases=" + strings.Join(opened, ",")
		}
		return tx.Audit(ctx, b.auditEntry("import.batch", "", detail))
	})
	return counts, err
}

// auditEntry is an audit entry by the importer, as Service.Audit makes it.
func (b *importBatch) auditEntry(action, caseID, detail string) postgres.AuditEntry {
	return postgres.AuditEntry{Actor: auditActor(b.p), Remote: b.p.Remote, Action: action, CaseID: caseID, Detail: detail}
}

// refused decides the row as OpenCase's refusal err would leave it
// (importRefusal); an error on our side is returned, to retry the batch.
func (r *batchRow) refused(err error) error {
	if err == nil {
		return nil
	}
	out, ok := importRefusal(r.row.Line, r.req, err)
	if !ok {
		return fmt.Errorf("line %d: %w", r.row.Line, err)
	}
	r.out = &out
	return nil
}

// openImportRow opens one row through OpenCase on its own, and says what
// became of it; an error is a failure on our side, to retry. A batch
// (RunImportBatch) does the same for many rows at once.
func (s *Service) openImportRow(ctx context.Context, p *auth.Principal, id string, row postgres.ImportRow) (postgres.ImportRowResult, error) {
	var req OpenRequest
	if err := json.Unmarshal(row.Request, &req); err != nil {
		return postgres.ImportRowResult{Line: row.Line}, fmt.Errorf("reading the stored request: %w", err)
	}
	view, _, err := s.OpenCase(ctx, p, req, importKey(id, row.Line))
	if err == nil {
		return postgres.ImportRowResult{Line: row.Line, Status: postgres.RowOpened, CaseID: view.ID}, nil
	}
	if ctx.Err() != nil {
		return postgres.ImportRowResult{Line: row.Line}, err
	}
	out, ok := importRefusal(row.Line, req, err)
	if !ok {
		return out, err
	}
	return out, nil
}

// importRefusal is what becomes of a row whose opening OpenCase refused
// with err: already open (a Conflict), or failed with its problems named
// by column. ok is false for a failure on our side (not a refusal, or
// Unavailable), which is no outcome: the batch is retried.
func importRefusal(line int, req OpenRequest, err error) (out postgres.ImportRowResult, ok bool) {
	out = postgres.ImportRowResult{Line: line}
	e, ok := ErrorOf(err)
	if !ok || e.Kind == Unavailable {
		return out, false
	}
	out.Status = postgres.RowFailed
	switch e.Kind {
	case Conflict: // the person has an open case for the booking
		out.Status, out.CaseID = postgres.RowAlreadyOpen, e.CaseID
	case Forbidden: // the team is no longer in the person's scope
		out.Problems = []ImportProblem{{Column: "team", Message: e.Detail}}
	default:
		for _, f := range e.Fields {
			msg := f.Message
			col := importColumnOf(f.Field, req)
			if col == "" && f.Field != "" {
				msg = f.Field + " " + msg
			}
			out.Problems = append(out.Problems, ImportProblem{Column: col, Message: msg})
		}
		if len(out.Problems) == 0 {
			out.Problems = []ImportProblem{{Message: e.Detail}}
		}
	}
	return out, true
}

// FinishImport marks an import done once no row is pending, and counts
// what it did; audited as its creator.
func (s *Service) FinishImport(ctx context.Context, id string) (workflows.ImportResult, error) {
	rec, err := s.DB.Import(ctx, id)
	if errors.Is(err, postgres.ErrNotFound) {
		return workflows.ImportResult{}, ErrImportGone
	}
	if err != nil {
		return workflows.ImportResult{}, err
	}
	wasRunning := rec.Status == postgres.ImportRunning
	if rec, err = s.DB.FinishImport(ctx, id); err != nil {
		return workflows.ImportResult{}, err
	}
	res := workflows.ImportResult{Opened: rec.Opened, AlreadyOpen: rec.AlreadyOpen, Failed: rec.Failed}
	if rec.Status != postgres.ImportDone {
		return res, fmt.Errorf("import %s: rows are still pending", id)
	}
	if wasRunning {
		err = s.AuditAs(ctx, rec.CreatedBy, "", "import.done", "", fmt.Sprintf("import=%s opened=%d already_open=%d failed=%d",
			id, rec.Opened, rec.AlreadyOpen, rec.Failed))
	}
	return res, err
}

// ImportAs is the principal of a member of staff for the command line
// (`throughgate import cases --by`): their role's scope as it is now, as
// a sign-in would give it. An inactive or unknown member of staff is
// refused naming "by".
func (s *Service) ImportAs(ctx context.Context, staffID string) (*auth.Principal, error) {
	p, err := s.importer(ctx, staffID)
	if errors.Is(err, postgres.ErrNotFound) || err == nil && !p.Staff.Active {
		return nil, FieldsError(resettlement.Errors{{Field: "by", Message: "is not an active member of staff"}})
	}
	if err != nil {
		return nil, err
	}
	p.Via, p.Remote = "cli", "command line"
	return p, nil
}

// ImportStatus is an import p made and its progress, without its rows:
// counts only, for polling (not audited, as it names nobody).
func (s *Service) ImportStatus(ctx context.Context, p *auth.Principal, id string) (ImportReport, error) {
	rec, err := s.ownImport(ctx, p, id)
	if err != nil {
		return ImportReport{}, err
	}
	return importReportOf(rec), nil
}

// MayImport refuses a role that opens no cases (administrators), before
// an upload is read.
func MayImport(p *auth.Principal) error {
	_, err := importScope(p)
	return err
}
