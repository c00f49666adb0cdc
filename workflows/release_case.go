package workflows

import (
	"errors"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/throughgate/throughgate/resettlement"
)

// Input starts a ReleaseCase: Open for a new case, State when the workflow
// continues as new with the case it had.
type Input struct {
	Open  *resettlement.OpenCase `json:"open,omitempty"`
	State *resettlement.Case     `json:"state,omitempty"`
	// SavedSeq and SavedVersion say how much of the case PostgreSQL has.
	SavedSeq     int `json:"saved_seq,omitempty"`
	SavedVersion int `json:"saved_version,omitempty"`
	// MaxHistory continues as new once the history has this many events
	// (0: DefaultMaxHistory). Temporal may suggest it earlier.
	MaxHistory int `json:"max_history,omitempty"`
	// OpenedAt is the instant the service planned Open at, so the workflow
	// plans the very case the service answered with (zero: the workflow's
	// start, as before the service planned).
	OpenedAt time.Time `json:"opened_at,omitzero"`
	// Commands is the version of ReleaseCase's commands the run follows:
	// CurrentCommands for a case the service opens and for a run that
	// continues as new. Zero: a run started before it travelled in the
	// input, which asks workflow.GetVersion at each change, as its history
	// recorded.
	Commands int `json:"commands,omitempty"`
}

// Change ids for workflow.GetVersion: each marks a change to the commands
// the workflow issues, so histories recorded before it still replay.
const (
	changeUpdateWaitsWithoutTimer = "update-waits-without-timer"
	changeLocalActivities         = "raise-alarm-local"
)

// CurrentCommands is the version of the commands a new run issues: every
// change above, decided by the input rather than by workflow.GetVersion.
// Each GetVersion a run asks records a marker and upserts the
// TemporalChangeVersion search attribute, which rewrites the case's row in
// Temporal's visibility store (seventy-odd indexes) for no query Throughgate
// makes; in the input, the version costs nothing. A change to the commands
// from here on raises CurrentCommands, and the run tests w.commands for it.
const CurrentCommands = commandsInInput

// commandsInInput is the first Input.Commands: a run told it or a later one
// takes every GetVersion change above as made, without asking.
const commandsInInput = 3

// caseActivityTimeout is each attempt's limit for a case's activities.
const caseActivityTimeout = 5 * time.Second

// DefaultMaxHistory keeps a case's history far below Temporal's 50,000-event
// limit and its replay cheap on a worker that restarts.
const DefaultMaxHistory = 2000

// Result is how a case ended.
type Result struct {
	CaseID  string                `json:"case_id"`
	Closure *resettlement.Closure `json:"closure,omitempty"`
}

// UpdateResult answers an update: the case's version and stage after it.
type UpdateResult struct {
	Version int                `json:"version"`
	Stage   resettlement.Stage `json:"stage"`
}

// State answers the State query.
type State struct {
	Case            *resettlement.Case   `json:"case"`
	Stage           resettlement.Stage   `json:"stage"`
	Stalled         bool                 `json:"stalled"`
	EscalationLevel int                  `json:"escalation_level"`
	ReleaseDay      resettlement.Date    `json:"release_day,omitempty"`
	Urgency         resettlement.Urgency `json:"urgency"`
	NextAlarms      []resettlement.Alarm `json:"next_alarms"`
}

// ReleaseCase is the workflow of one case, with id WorkflowID(caseID).
func ReleaseCase(ctx workflow.Context, in Input) (Result, error) {
	w, err := newReleaseCase(ctx, in)
	if err != nil {
		return Result{}, err
	}
	if err := w.setup(ctx); err != nil {
		return Result{}, err
	}
	return w.run(ctx)
}

type releaseCase struct {
	c            *resettlement.Case
	savedSeq     int
	savedVersion int
	maxHistory   int
	notices      []TransferNotice
	attrs        *attrValues // last upserted
	logger       log.Logger
	// commands is Input.Commands; version is this run's version of
	// changeLocalActivities (see run).
	commands int
	version  workflow.Version
	// byUpdate says an update changed the case since its last save: that
	// save must then be an ordinary activity (see run).
	byUpdate bool
	// cause is the tracing span of the earliest update not yet saved (nil:
	// none, or tracing off). The main loop schedules the activities that
	// update causes, so without it their spans would join the trace that
	// opened the case rather than the request's (see SpanKey).
	cause any
}

// SpanKey is the workflow.Context key under which the tracing interceptor
// (internal/otel sets it as the SDK interceptor's SpanContextKey) keeps the
// current span, the parent of the spans of activities started with that
// context. Reading and re-attaching it adds no command and no history event.
type SpanKey struct{}

func newReleaseCase(ctx workflow.Context, in Input) (*releaseCase, error) {
	w := &releaseCase{savedSeq: in.SavedSeq, savedVersion: in.SavedVersion, maxHistory: in.MaxHistory, commands: in.Commands,
		logger: workflow.GetLogger(ctx)}
	if w.maxHistory <= 0 {
		w.maxHistory = DefaultMaxHistory
	}
	switch {
	case in.State != nil:
		w.c = in.State
	case in.Open != nil:
		open := *in.Open
		if open.Plan == 0 {
			// Cases started before plans had versions ran under plan 1;
			// their histories replay with it. The service always names the
			// plan (casework.OpenRequest).
			open.Plan = 1
		}
		at := in.OpenedAt
		if at.IsZero() {
			at = workflow.Now(ctx)
		}
		c, err := resettlement.Open(open, at)
		if err != nil {
			return nil, temporal.NewNonRetryableApplicationError("cannot open the case: "+err.Error(), ErrTypeInvalid, err)
		}
		w.c = c
	default:
		return nil, temporal.NewNonRetryableApplicationError("ReleaseCase needs a case to open or to continue", ErrTypeInvalid, nil)
	}
	return w, nil
}

// setup registers the query and the updates.
func (w *releaseCase) setup(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryState, func() (State, error) {
		return w.state(workflow.Now(ctx)), nil
	}); err != nil {
		return err
	}
	regs := []error{
		register(ctx, w, UpdateRecordAssessment, (*resettlement.Case).RecordAssessment, nil),
		register(ctx, w, UpdateActOnStep, (*resettlement.Case).ActOnStep, nil),
		register(ctx, w, UpdateAssign, (*resettlement.Case).Assign, nil),
		register(ctx, w, UpdateChangeReleaseDates, (*resettlement.Case).ChangeReleaseDates, nil),
		register(ctx, w, UpdateTransfer, (*resettlement.Case).Transfer, w.noteTransfer),
		register(ctx, w, UpdatePause, (*resettlement.Case).Pause, nil),
		register(ctx, w, UpdateResume, (*resettlement.Case).Resume, nil),
		register(ctx, w, UpdateReset, (*resettlement.Case).Reset, nil),
		register(ctx, w, UpdateClose, (*resettlement.Case).Close, nil),
		register(ctx, w, UpdateMigratePlan, (*resettlement.Case).MigratePlan, nil),
	}
	return errors.Join(regs...)
}

// command is what every update carries.
type command interface{ RequestMeta() resettlement.Meta }

// register installs an update whose validator tries the command on a copy
// of the case (so a rejected request changes nothing) and whose handler
// applies it and waits until PostgreSQL has the result, so the API can
// read its own write.
func register[C command](ctx workflow.Context, w *releaseCase, name string,
	apply func(*resettlement.Case, C, time.Time) error, after func(before *resettlement.Case, cmd C)) error {
	return workflow.SetUpdateHandlerWithOptions(ctx, name,
		func(ctx workflow.Context, cmd C) (UpdateResult, error) {
			if !w.c.Seen(cmd.RequestMeta().RequestID) {
				before := w.c.Clone()
				if err := apply(w.c, cmd, workflow.Now(ctx)); err != nil {
					return UpdateResult{}, rejection(err)
				}
				if after != nil {
					after(before, cmd)
				}
				w.byUpdate = true
				if w.cause == nil {
					w.cause = ctx.Value(SpanKey{})
				}
				w.logger.Info("case changed", "update", name, "version", w.c.Version)
			}
			v := w.c.Version
			saved := func() bool { return w.savedVersion >= v }
			// The main loop saves; the handler answers once PostgreSQL has the
			// change, so the API reads its own write. Version 1 waits without
			// a timer of its own: the timer cost two history events per
			// update, and a caller that gives up early loses nothing (the
			// change stands; a retry with the same request id answers at once).
			if w.commands < commandsInInput && workflow.GetVersion(ctx, changeUpdateWaitsWithoutTimer, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
				_, _ = workflow.AwaitWithTimeout(ctx, 30*time.Second, saved)
			} else {
				_ = workflow.Await(ctx, saved)
			}
			return UpdateResult{Version: w.c.Version, Stage: w.c.Stage(workflow.Now(ctx))}, nil
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, cmd C) error {
			if w.c.Seen(cmd.RequestMeta().RequestID) {
				return nil
			}
			return rejection(apply(w.c.Clone(), cmd, workflow.Now(ctx)))
		}})
}

// rejection turns a domain error into an application error the API can read:
// field errors travel in the details.
func rejection(err error) error {
	if err == nil {
		return nil
	}
	if fe, ok := resettlement.AsFieldErrors(err); ok {
		return temporal.NewApplicationErrorWithOptions(err.Error(), ErrTypeInvalid, temporal.ApplicationErrorOptions{NonRetryable: true, Details: []any{fe}})
	}
	if errors.Is(err, resettlement.ErrConflict) {
		return temporal.NewApplicationErrorWithOptions(err.Error(), ErrTypeConflict, temporal.ApplicationErrorOptions{NonRetryable: true})
	}
	return err
}

func (w *releaseCase) noteTransfer(before *resettlement.Case, cmd resettlement.Transfer) {
	var due time.Time
	if n := len(w.c.Steps); n > 0 {
		due = w.c.Steps[n-1].Due // Transfer appends the handover step last
	}
	n := TransferNotice{CaseID: w.c.ID, Seq: w.c.EventSeq, From: before.Establishment,
		FromTeam: before.Team, To: cmd.To, ToTeam: cmd.ToTeam, HandoverDue: due}
	n.ReleaseDay, _ = w.c.ReleaseDay()
	w.notices = append(w.notices, n)
}

// run is the case's life: raise what is due, save what changed, then sleep
// until the next alarm or the next change.
func (w *releaseCase) run(ctx workflow.Context) (Result, error) {
	// The case's activities (raise an alarm, tell of a transfer, save) are
	// a few writes to PostgreSQL each, done in milliseconds; a worker killed
	// during one is noticed only when the attempt times out, so the limit is
	// short and the retry starts within seconds, not half a minute. They are
	// idempotent, so an attempt cut off while merely slow costs nothing.
	// (Timeouts are not among what replay compares: no GetVersion.)
	retry := &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute}
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: caseActivityTimeout, RetryPolicy: retry})
	ctx = workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: caseActivityTimeout, RetryPolicy: retry})
	// Version 1 raises alarms as local activities, in the workflow task
	// that finds them due: the server records one marker for each instead of
	// an activity task's three events and a second workflow task to take its
	// result. That work was most of the Temporal server's processor time per
	// alarm (README, Performance). Raising is idempotent (the outbox's key is
	// case, alarm and recipient), so a workflow task that fails after raising
	// and is retried, or a worker killed during one whose task times out
	// (10 s) and is replayed elsewhere, sends nothing twice.
	//
	// Version 1 also takes the search attributes the case started with
	// (StartAttributes, or those a continued run carries over) as its first
	// upsert when they are what it would set: each upsert is a rewrite of
	// the case's visibility row, with its seventy-odd indexes.
	//
	// Version 2 saves the case locally too when no update changed it since
	// the last save: opening it, and the alarms its timers raise. Such a
	// save is a function of the history alone (the start, the timers that
	// fired), so a task that fails after it and is retried saves the very
	// same projection again. A change made by an update is saved by an
	// ordinary activity, which runs only once the task that asked for it is
	// in the history: a retried task can apply the same updates in another
	// order, and a local save from the attempt that failed would leave the
	// read model with a case the workflow never had
	// (TestContinueAsNewLosesNoUpdate found it when every save was local).
	//
	// A run told its commands (commandsInInput) is version 2 without asking.
	w.version = 2
	if w.commands < commandsInInput {
		w.version = workflow.GetVersion(ctx, changeLocalActivities, workflow.DefaultVersion, 2)
	}
	for {
		if err := w.raiseDue(ctx); err != nil {
			return Result{}, err
		}
		if err := w.sendNotices(ctx); err != nil {
			return Result{}, err
		}
		if err := w.save(ctx); err != nil {
			return Result{}, err
		}
		if err := w.upsertAttributes(ctx); err != nil {
			return Result{}, err
		}
		if w.c.Closed {
			break
		}
		if w.historyLong(ctx) {
			if w.quiet(ctx) {
				w.logger.Info("continuing as new", "events", workflow.GetInfo(ctx).GetCurrentHistoryLength())
				return Result{}, workflow.NewContinueAsNewError(ctx, ReleaseCase, Input{
					State: w.c, SavedSeq: w.savedSeq, SavedVersion: w.savedVersion, MaxHistory: w.maxHistory,
					Commands: CurrentCommands})
			}
			continue
		}
		w.sleep(ctx)
	}
	// Let updates that closed the case return before the workflow completes.
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return Result{}, err
	}
	if err := w.save(ctx); err != nil {
		return Result{}, err
	}
	return Result{CaseID: w.c.ID, Closure: w.c.Closure}, nil
}

// traced is ctx carrying the span of the update that caused the work at
// hand, so the spans of the activities the main loop starts for it are in
// that update's trace; ctx itself when no update is waiting.
func (w *releaseCase) traced(ctx workflow.Context) workflow.Context {
	if w.cause == nil {
		return ctx
	}
	return workflow.WithValue(ctx, SpanKey{}, w.cause)
}

// raise starts RaiseAlarm, local from version 1 (see run), in the trace of
// the update that caused it.
func (w *releaseCase) raise(ctx workflow.Context, in AlarmInput) workflow.Future {
	ctx = w.traced(ctx)
	if w.version >= 1 {
		return workflow.ExecuteLocalActivity(ctx, ActivityRaiseAlarm, in)
	}
	return workflow.ExecuteActivity(ctx, ActivityRaiseAlarm, in)
}

// changed reports whether anything is waiting for the main loop.
func (w *releaseCase) changed() bool {
	return w.c.Version != w.savedVersion || len(w.notices) > 0
}

// sleep waits for the earliest alarm, and the policy's backstop after it
// (the dispatcher raises it at its instant), or until an update changes the
// case.
func (w *releaseCase) sleep(ctx workflow.Context) {
	next, ok := w.c.NextAlarm()
	if !ok {
		_ = workflow.Await(ctx, w.changed)
		return
	}
	if d := next.At.Add(w.c.Policy.Backstop.Std()).Sub(workflow.Now(ctx)); d > 0 {
		_, _ = workflow.AwaitWithTimeout(ctx, d, w.changed)
	}
}

// historyLong reports whether it is time to continue as new.
func (w *releaseCase) historyLong(ctx workflow.Context) bool {
	info := workflow.GetInfo(ctx)
	return info.GetContinueAsNewSuggested() || info.GetCurrentHistoryLength() >= w.maxHistory
}

// quiet waits until no update is running, so none is cut off by the
// continue-as-new, and reports false if a change arrived meanwhile (the
// loop then saves it first).
func (w *releaseCase) quiet(ctx workflow.Context) bool {
	_ = workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) || w.changed() })
	return !w.changed() && workflow.AllHandlersFinished(ctx)
}

// raiseDue raises every alarm whose time has come.
func (w *releaseCase) raiseDue(ctx workflow.Context) error {
	now := workflow.Now(ctx)
	for _, a := range w.c.TakeDue(now) {
		var res AlarmResult
		if err := w.raise(ctx, NewAlarmInput(w.c, a, now)).Get(ctx, &res); err != nil {
			return err
		}
		w.logger.Info("alarm raised", "alarm", a.Key, "kind", a.Kind, "level", a.Level, "recipients", len(res.Recipients))
	}
	return nil
}

// sendNotices tells teams of transfers.
func (w *releaseCase) sendNotices(ctx workflow.Context) error {
	for len(w.notices) > 0 {
		n := w.notices[0]
		if err := workflow.ExecuteActivity(w.traced(ctx), ActivityNotifyTransfer, n).Get(ctx, nil); err != nil {
			return err
		}
		w.notices = w.notices[1:]
	}
	return nil
}

// save writes the read model when the case has changed since it was last saved.
func (w *releaseCase) save(ctx workflow.Context) error {
	for w.c.Version != w.savedVersion {
		now := workflow.Now(ctx)
		p := resettlement.Projection{Case: w.slim(), Stage: w.c.Stage(now), Stalled: w.c.Stalled(now),
			EscalationLevel: w.c.EscalationLevel(now), Events: w.c.EventsAfter(w.savedSeq)}
		if next, ok := w.c.NextDue(); ok {
			p.NextDue = next
		}
		_, p.AlarmsAt = w.c.NextRaise()
		version, seq := w.c.Version, w.c.EventSeq
		var f workflow.Future
		if w.version >= 2 && !w.byUpdate {
			f = workflow.ExecuteLocalActivity(ctx, ActivitySaveCase, p)
		} else {
			f = workflow.ExecuteActivity(w.traced(ctx), ActivitySaveCase, p)
		}
		w.byUpdate = false // an update while this save runs sets it again
		if err := f.Get(ctx, nil); err != nil {
			return err
		}
		w.savedVersion, w.savedSeq = version, seq
	}
	w.cause = nil // every update so far is saved; the next one brings its own
	return nil
}

// slim is the case without the bookkeeping PostgreSQL has no use for, which
// keeps the activity's input — and so the history — small.
func (w *releaseCase) slim() *resettlement.Case {
	c := *w.c
	c.Events, c.Fired, c.Requests = nil, nil, nil
	return &c
}

// attrValues are the search attributes' values, comparable so an upsert
// (and its history event) happens only when one changed.
type attrValues struct {
	establishment, team, stage string
	level                      int64
	stalled                    bool
	nextDue                    int64 // Unix seconds; 0 for none
	release                    resettlement.Date
}

// attrsOf is what case c's search attributes say at now.
func attrsOf(c *resettlement.Case, now time.Time) attrValues {
	v := attrValues{establishment: c.Establishment, team: c.Team, stage: string(c.Stage(now)),
		level: int64(c.EscalationLevel(now)), stalled: c.Stalled(now)}
	if next, ok := c.NextDue(); ok {
		v.nextDue = next.Unix()
	}
	v.release, _ = c.ReleaseDay()
	return v
}

// attrsIn reads the values back from search attributes.
func attrsIn(sa temporal.SearchAttributes) attrValues {
	var v attrValues
	v.establishment, _ = sa.GetKeyword(AttrEstablishment)
	v.team, _ = sa.GetKeyword(AttrTeam)
	v.stage, _ = sa.GetKeyword(AttrStage)
	v.level, _ = sa.GetInt64(AttrEscalationLevel)
	v.stalled, _ = sa.GetBool(AttrStalled)
	if t, ok := sa.GetTime(AttrNextDue); ok {
		v.nextDue = t.Unix()
	}
	if t, ok := sa.GetTime(AttrReleaseDate); ok {
		v.release = resettlement.DateOf(t)
	}
	return v
}

// updates sets every attribute to v, unsetting those v has none for.
func (v attrValues) updates() []temporal.SearchAttributeUpdate {
	u := []temporal.SearchAttributeUpdate{
		AttrEstablishment.ValueSet(v.establishment),
		AttrTeam.ValueSet(v.team),
		AttrStage.ValueSet(v.stage),
		AttrEscalationLevel.ValueSet(v.level),
		AttrStalled.ValueSet(v.stalled),
		AttrNextDue.ValueUnset(),
		AttrReleaseDate.ValueUnset(),
	}
	if v.nextDue != 0 {
		u[5] = AttrNextDue.ValueSet(time.Unix(v.nextDue, 0).UTC())
	}
	if !v.release.IsZero() {
		u[6] = AttrReleaseDate.ValueSet(v.release.At(0))
	}
	return u
}

// StartAttributes are the search attributes to start case c's workflow
// with, planned at now: what its first upsert would set, so that it need
// not (see run).
func StartAttributes(c *resettlement.Case, now time.Time) temporal.SearchAttributes {
	return temporal.NewSearchAttributes(attrsOf(c, now).updates()...)
}

// upsertAttributes keeps the case's search attributes current.
func (w *releaseCase) upsertAttributes(ctx workflow.Context) error {
	v := attrsOf(w.c, workflow.Now(ctx))
	if w.attrs == nil && w.version >= 1 && attrsIn(workflow.GetTypedSearchAttributes(ctx)) == v {
		w.attrs = &v // the run started with them
	}
	if w.attrs != nil && *w.attrs == v {
		return nil
	}
	w.attrs = &v
	return workflow.UpsertTypedSearchAttributes(ctx, v.updates()...)
}

// state builds the query answer.
func (w *releaseCase) state(now time.Time) State { return StateOf(w.c, now) }

// StateOf is the State query's answer for case c at now: what the workflow
// answers, and what the service answers with for a case it has just planned.
func StateOf(c *resettlement.Case, now time.Time) State {
	s := State{Case: c, Stage: c.Stage(now), Stalled: c.Stalled(now), EscalationLevel: c.EscalationLevel(now),
		Urgency: c.CaseUrgency(now)}
	if day, ok := c.ReleaseDay(); ok {
		s.ReleaseDay = day
	}
	alarms := c.Alarms()
	s.NextAlarms = alarms[:min(len(alarms), 10)]
	return s
}
