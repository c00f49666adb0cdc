// Package casework is Throughgate's application service: the one path every
// request takes, from the JSON API (package api) and the pages (package web)
// alike. Each use — open a case (open.go), act on one (actions.go), view and
// list them (cases.go), the managers' board and reassignment (board.go),
// signing in (signin.go) — takes the signed-in person and a typed command,
// checks the person's scope (access.go), does the work, and writes the
// audit line.
//
// It is also the one place that knows a case lives in two stores — the
// person in PostgreSQL, the process in Temporal — and keeps them in step
// (Open, Update and State, below, which the integration tests use too).
//
// A failure a person can act on is an *Error with a Kind (errors.go);
// Status maps kinds to HTTP statuses once for both surfaces.
package casework

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/resettlement"
	"github.com/throughgate/throughgate/workflows"
)

// Service opens and works cases.
type Service struct {
	DB       *postgres.DB
	Temporal client.Client
	// Policy is fixed into each case as it opens.
	Policy resettlement.Policy
	// Now is the clock; nil means time.Now. Tests set it.
	Now func() time.Time
	// Events configure prison movement events (events.go).
	Events EventSettings
	// BaseURL is the pages' public address (BASE_URL), for the links in
	// the emails the service raises itself (partners.go, assignmail.go).
	BaseURL string
	// PartnerLinkDays is how long a partner link works (PARTNER_LINK_DAYS;
	// 0: DefaultPartnerLinkDays).
	PartnerLinkDays int
	// ImportPace is how long, at most, an import's batch waits before it
	// ends for the workflows it started to run their first task (0: it
	// does not wait): imports.go, importBatch.settle.
	ImportPace time.Duration
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// OpenRequest is everything an officer gives to open a case.
type OpenRequest struct {
	Person        postgres.Person           `json:"person"`
	Establishment string                    `json:"establishment"`
	Team          string                    `json:"team"`
	Owner         string                    `json:"owner,omitempty"`
	ReceivedOn    resettlement.Date         `json:"received_on"`
	SentenceDate  resettlement.Date         `json:"sentence_date,omitempty"` // optional: the reception date is assumed
	Dates         resettlement.ReleaseDates `json:"release_dates"`
	OpenedBy      string                    `json:"-"`
	RequestID     string                    `json:"-"`
}

var prisonNumber = regexp.MustCompile(`^[A-Z][0-9]{4}[A-Z]{2}$`)

// ValidPrisonNumber reports whether s is a NOMIS prison number (A1234BC).
func ValidPrisonNumber(s string) bool { return prisonNumber.MatchString(s) }

// Validate checks the person's details; the domain checks the rest.
func (r OpenRequest) Validate(now time.Time) error {
	var errs resettlement.Errors
	p := r.Person
	if !ValidPrisonNumber(p.PrisonNumber) {
		errs.Add("person.prison_number", "must be a prison number: a letter, four digits and two letters, such as A1234BC")
	}
	if p.Booking == "" || len(p.Booking) > 40 {
		errs.Add("person.booking", "is required: the booking (custody period) the case is for")
	}
	for _, f := range []struct{ field, v string }{{"person.given_name", p.GivenName}, {"person.family_name", p.FamilyName}} {
		if strings.TrimSpace(f.v) == "" || utf8.RuneCountInString(f.v) > 100 || strings.ContainsAny(f.v, "<>\x00") {
			errs.Add(f.field, "is required (up to 100 characters, no < or >)")
		}
	}
	if utf8.RuneCountInString(p.LocalAuthority) > 100 {
		errs.Add("person.local_authority", "is too long (up to 100 characters)")
	}
	today := resettlement.DateOf(now)
	if p.DateOfBirth.IsZero() {
		errs.Add("person.date_of_birth", "is required")
	} else if age(p.DateOfBirth, today) < 10 || age(p.DateOfBirth, today) > 120 {
		errs.Add("person.date_of_birth", "must make the person between 10 and 120 years old")
	}
	return errs.Err()
}

// openCase is the domain's command to open the case r asks for: adult when
// the person is 18 or over on the target release date (adultOn; a change of
// dates works it out again).
func (r OpenRequest) openCase(id string, policy *resettlement.Policy) resettlement.OpenCase {
	open := resettlement.OpenCase{CaseID: id, Establishment: r.Establishment, Team: r.Team, Owner: r.Owner,
		ReceivedOn: r.ReceivedOn, SentenceDate: r.SentenceDate, Dates: r.Dates, OpenedBy: r.OpenedBy, Policy: policy,
		Plan: resettlement.CurrentPlan().Version}
	if adult := adultOn(r.Person.DateOfBirth, r.Dates); adult != nil {
		open.Adult = *adult
	}
	return open
}

// Check checks the request as far as it can without the database: the
// person's details and the domain's rules for opening a case, every
// problem at once.
func (r OpenRequest) Check(now time.Time) error {
	var errs resettlement.Errors
	for _, err := range []error{r.Validate(now), r.openCase("new", nil).Validate(now), r.checkInputs()} {
		if fe, ok := resettlement.AsFieldErrors(err); ok {
			errs = append(errs, fe...)
		}
	}
	return errs.Err()
}

// age in whole years on a day.
func age(born, on resettlement.Date) int {
	a := on.Year - born.Year
	if on.Month < born.Month || on.Month == born.Month && on.Day < born.Day {
		a--
	}
	return a
}

// newCaseID returns an opaque id: ten random lower-case letters and digits.
func newCaseID() string {
	const alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
	b := make([]byte, 10)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// Open records the person and starts the case's workflow. A retry with the
// same request id returns the first attempt's case (created false) and never
// starts a second workflow; a second open case for the same person and
// booking is refused with *postgres.OpenCaseExistsError before any workflow
// starts.
func (s *Service) Open(ctx context.Context, r OpenRequest) (caseID string, created bool, err error) {
	caseID, created, _, err = s.open(ctx, r)
	return caseID, created, err
}

// open is Open, also returning the case as its workflow plans it (nil when
// not created: a retry's case is its first attempt's). The plan
// is a pure function of the request and the opening instant, which the
// workflow is given (workflows.Input.OpenedAt), so the answer needs no round
// trip to a worker: the workflow holds the very same case once it runs.
func (s *Service) open(ctx context.Context, r OpenRequest) (caseID string, created bool, planned *resettlement.Case, err error) {
	now := s.now()
	if err := r.Check(now); err != nil {
		return "", false, nil, err
	}
	policy := s.Policy // validated with the rest of the configuration
	open := r.openCase(newCaseID(), &policy)
	if planned, err = resettlement.Open(open, now); err != nil {
		return "", false, nil, err // checked above: a fault
	}
	id, created, err := s.DB.CreateCase(ctx, postgres.NewCase{ID: open.CaseID, Person: r.Person, OpenedBy: r.OpenedBy,
		RequestID: r.RequestID, Establishment: r.Establishment, Team: r.Team, Owner: r.Owner, ReceivedOn: r.ReceivedOn,
		SentenceDate: r.SentenceDate, Planned: planned, PlannedAt: now})
	if err != nil {
		return "", false, nil, err
	}
	open.CaseID = id
	// A retry may find its case recorded but its workflow never started (the
	// first attempt died in between): starting with UseExisting covers both.
	if err = s.startCase(ctx, open, planned, now); err != nil {
		if created {
			_ = s.DB.DeleteUnstartedCase(context.WithoutCancel(ctx), id)
		}
		return "", false, nil, fmt.Errorf("starting the case's workflow: %w", err)
	}
	if !created {
		// The first attempt's case, under its own id: ask its workflow.
		planned = nil
	}
	return id, created, planned, nil
}

// startCase starts the workflow of a case recorded in the read model. The
// workflow plans the case from open and now; planned is that plan as the
// caller made it (resettlement.Open), for the start's search attributes,
// which do not depend on the case's id (a retry's case keeps its first
// attempt's). If it is running already (a retry), it is left alone. The
// import's batches start their cases with it too.
//
// It asks for eager start: where a worker shares this client (throughgate
// dev), the server hands the case's first workflow task back in its answer
// to the start, for that worker to run at once, rather than through a task
// queue; elsewhere the SDK does not ask for it. Since the first task saves
// the case locally (workflows.ReleaseCase) it needs no second task, and in
// the onboard benchmark eager start took the API from 28 to 44 cases a
// second and the import from 50 to 76. (Before that, when the first save
// was an activity of its own, it halved the import's rate.)
func (s *Service) startCase(ctx context.Context, open resettlement.OpenCase, planned *resettlement.Case, now time.Time) error {
	_, err := s.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       workflows.WorkflowID(open.CaseID),
		TaskQueue:                workflows.TaskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		// Every attribute, as the workflow would first set it: then it
		// need not (workflows.StartAttributes).
		TypedSearchAttributes: workflows.StartAttributes(planned, now),
		EnableEagerStart:      true,
	}, workflows.ReleaseCase, workflows.Input{Open: &open, OpenedAt: now, Commands: workflows.CurrentCommands})
	return err
}

// domainCommand is any of the domain's commands on a case.
type domainCommand interface{ RequestMeta() resettlement.Meta }

// ErrCaseNotFound means no such case, or none this workflow engine knows.
var ErrCaseNotFound = errors.New("case not found")

// ErrCaseClosed means the case's workflow has finished.
var ErrCaseClosed = errors.New("the case is closed")

// Update sends a command to the case's workflow and waits for its answer.
// The request id is also the update id, so Temporal deduplicates a retry
// even before the workflow sees it. Rejections come back as
// resettlement.Errors (a bad request) or an error wrapping
// resettlement.ErrConflict (not allowed in the case's state).
func (s *Service) Update(ctx context.Context, caseID, update string, cmd domainCommand) (workflows.UpdateResult, error) {
	var res workflows.UpdateResult
	// The case's next alarms wait for the workflow's save after the
	// command: the dispatcher must not raise them from what the command is
	// changing (who owns a step, whether it is done). A command that
	// changes nothing gets them back.
	held, err := s.DB.HoldAlarms(ctx, caseID)
	if err != nil {
		return res, err
	}
	defer func() {
		if err := s.DB.ReleaseAlarms(context.WithoutCancel(ctx), held); err != nil {
			// The workflow's timer raises them, the policy's backstop late.
			slog.Warn("putting back a case's next alarms failed", "case", caseID, "err", err)
		}
	}()
	h, err := s.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: workflows.WorkflowID(caseID), UpdateName: update, UpdateID: cmd.RequestMeta().RequestID,
		Args: []any{cmd}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		err = h.Get(ctx, &res)
	}
	err = translate(err)
	if errors.Is(err, ErrCaseNotFound) {
		// Temporal answers "not found" for an update to a finished
		// workflow: the read model knows whether the case is closed.
		if rec, derr := s.DB.Case(ctx, caseID); derr == nil && rec.ClosedAt != nil {
			err = ErrCaseClosed
		}
	}
	return res, err
}

// State asks the case's workflow for its live state.
func (s *Service) State(ctx context.Context, caseID string) (workflows.State, error) {
	var st workflows.State
	v, err := s.Temporal.QueryWorkflow(ctx, workflows.WorkflowID(caseID), "", workflows.QueryState)
	if err == nil {
		err = v.Get(&st)
	}
	return st, translate(err)
}

// translate turns Temporal's errors into the domain's.
func translate(err error) error {
	if err == nil {
		return nil
	}
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		switch app.Type() {
		case workflows.ErrTypeInvalid:
			var fe resettlement.Errors
			if app.HasDetails() && app.Details(&fe) == nil && len(fe) > 0 {
				return fe
			}
			return resettlement.Errors{{Message: app.Message()}}
		case workflows.ErrTypeConflict:
			return resettlement.Conflict(app.Message())
		}
	}
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return ErrCaseNotFound
	}
	if strings.Contains(err.Error(), "workflow execution already completed") {
		return ErrCaseClosed
	}
	return err
}
