package workflows

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/throughgate/throughgate/resettlement"
)

// start is a Monday morning in London.
var start = time.Date(2026, 11, 23, 10, 0, 0, 0, resettlement.London)

// harness runs ReleaseCase in the SDK's test environment with time
// skipping, recording what the workflow asks its activities to do.
type harness struct {
	t       *testing.T
	env     *testsuite.TestWorkflowEnvironment
	alarms  []raised
	saves   []resettlement.Projection
	order   []any // the alarms raised (raised) and the saves (resettlement.Projection), in order
	notices []TransferNotice
	updates int
	errs    map[string]error // update id → rejection
}

type raised struct {
	at time.Time
	in AlarmInput
}

func newHarness(t *testing.T) *harness {
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(testLogOut, nil))))
	h := &harness{t: t, env: suite.NewTestWorkflowEnvironment(), errs: map[string]error{}}
	h.env.SetStartTime(start)
	h.env.RegisterWorkflow(ReleaseCase)
	h.env.RegisterActivity(&recorder{h})
	return h
}

// recorder stands in for package activities: it does what the activities
// are asked no further than noting it in the harness.
type recorder struct{ h *harness }

var _ Activities = (*recorder)(nil)

func (r *recorder) RaiseAlarm(_ context.Context, in AlarmInput) (AlarmResult, error) {
	r.h.alarms = append(r.h.alarms, raised{r.h.env.Now(), in})
	r.h.order = append(r.h.order, raised{r.h.env.Now(), in})
	return AlarmResult{Recipients: []string{"x"}, Written: 1}, nil
}

func (r *recorder) SaveCase(_ context.Context, p resettlement.Projection) error {
	r.h.saves = append(r.h.saves, p)
	r.h.order = append(r.h.order, p)
	return nil
}

func (r *recorder) NotifyTransfer(_ context.Context, n TransferNotice) error {
	r.h.notices = append(r.h.notices, n)
	return nil
}

func (r *recorder) SendDigests(context.Context, resettlement.Date) (int, error) { return 0, nil }

func (r *recorder) AnonymiseClosedCases(context.Context, time.Time) (int, error) { return 0, nil }

func openInput(dates resettlement.ReleaseDates, owner string) Input {
	return Input{Open: &resettlement.OpenCase{CaseID: "k3m9x2p4qa", Establishment: "PVI", Team: "pvi-resettlement",
		Owner: owner, ReceivedOn: resettlement.D(2026, 11, 20), Dates: dates, Adult: true, OpenedBy: "officer-1",
		Plan: resettlement.CurrentPlan().Version}}
}

// at schedules fn at a London wall-clock time.
func (h *harness) at(t time.Time, fn func()) { h.env.RegisterDelayedCallback(fn, t.Sub(start)) }

// update sends an update at t; the rejection, if any, is kept under the returned id.
func (h *harness) update(t time.Time, name string, arg any) string {
	h.updates++
	id := fmt.Sprintf("%s-%d", name, h.updates)
	h.at(t, func() {
		h.env.UpdateWorkflow(name, id, &testsuite.TestUpdateCallback{
			OnAccept:   func() {},
			OnReject:   func(err error) { h.errs[id] = err },
			OnComplete: func(_ any, err error) { h.errs[id] = errors.Join(h.errs[id], err) },
		}, arg)
	})
	return id
}

func (h *harness) mustAccept(ids ...string) {
	h.t.Helper()
	for _, id := range ids {
		if err := h.errs[id]; err != nil {
			h.t.Errorf("update %s rejected: %v", id, err)
		}
	}
}

func (h *harness) query() State {
	h.t.Helper()
	v, err := h.env.QueryWorkflow(QueryState)
	if err != nil {
		h.t.Fatalf("query: %v", err)
	}
	var s State
	if err := v.Get(&s); err != nil {
		h.t.Fatal(err)
	}
	return s
}

var reqs int

var testLogOut io.Writer = io.Discard

func m(by string) resettlement.Meta {
	reqs++
	return resettlement.Meta{RequestID: fmt.Sprintf("req-%d", reqs), By: by, NoteID: int64(reqs)}
}

func day(y int, mo time.Month, d, hour int) time.Time {
	return time.Date(y, mo, d, hour, 0, 0, 0, resettlement.London)
}

func (h *harness) close(t time.Time) string {
	return h.update(t, UpdateClose, resettlement.Close{Meta: m("manager-1"), Reason: resettlement.CloseOther})
}

func (h *harness) run(in Input) {
	h.t.Helper()
	h.env.ExecuteWorkflow(ReleaseCase, in)
	if !h.env.IsWorkflowCompleted() {
		h.t.Fatal("workflow did not complete")
	}
}

func TestHappyPathFromIdentificationToClosure(t *testing.T) {
	h := newHarness(t)
	release := resettlement.D(2027, 3, 10)
	var ids []string
	act := func(at time.Time, step string, a resettlement.StepAction) {
		ids = append(ids, h.update(at, UpdateActOnStep, resettlement.ActOnStep{Meta: m("officer-1"), StepID: step, Action: a}))
	}
	act(day(2026, 11, 23, 11), "immediate-needs", resettlement.ActionComplete)
	ids = append(ids, h.update(day(2026, 12, 14, 10), UpdateRecordAssessment, resettlement.RecordAssessment{Meta: m("officer-1"),
		Needs: []resettlement.PathwayNeed{{Pathway: resettlement.Accommodation, Status: resettlement.PathwaySupportRequired},
			{Pathway: resettlement.DrugsAlcohol, Status: resettlement.PathwaySupportRequired},
			{Pathway: resettlement.EducationWork, Status: resettlement.PathwaySupportNotRequired}}}))
	var stageMid State
	h.at(day(2026, 12, 15, 10), func() { stageMid = h.query() })
	for i, s := range []string{"housing-referral", "bank-account", "id-documents", "support-drugs-alcohol", "benefits", "gp-registration", "medicines", "release-plan"} {
		act(day(2027, 1, 4+i, 10), s, resettlement.ActionComplete)
	}
	act(release.At(9*time.Hour), "release", resettlement.ActionComplete)
	var stageAfter State
	h.at(release.At(10*time.Hour), func() { stageAfter = h.query() })
	for _, f := range []struct {
		id   string
		days int
	}{{"follow-up-1", 1}, {"follow-up-7", 7}, {"follow-up-28", 28}, {"follow-up-84", 84}} {
		act(release.AddDays(f.days).At(11*time.Hour), f.id, resettlement.ActionComplete)
	}
	h.run(openInput(resettlement.ReleaseDates{CRD: release}, "officer-1"))
	h.mustAccept(ids...)
	var res Result
	if err := h.env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if res.Closure == nil || res.Closure.Reason != resettlement.CloseCompleted {
		t.Errorf("closure %+v, want completed", res.Closure)
	}
	if stageMid.Stage != resettlement.StagePreRelease || stageAfter.Stage != resettlement.StageFollowUp {
		t.Errorf("stages %s then %s", stageMid.Stage, stageAfter.Stage)
	}
	last := h.saves[len(h.saves)-1]
	if last.Stage != resettlement.StageClosed || !last.Case.Closed {
		t.Errorf("last projection stage %s closed %v", last.Stage, last.Case.Closed)
	}
	seqs := map[int]bool{}
	for _, p := range h.saves {
		for _, e := range p.Events {
			if seqs[e.Seq] {
				t.Errorf("event %d sent to PostgreSQL twice", e.Seq)
			}
			seqs[e.Seq] = true
		}
	}
	if len(seqs) != last.Case.EventSeq {
		t.Errorf("%d events saved, case has %d", len(seqs), last.Case.EventSeq)
	}
	for _, a := range h.alarms {
		if a.in.Alarm.Kind == resettlement.AlarmEscalation {
			t.Errorf("escalation %s on a case worked on time", a.in.Alarm.Key)
		}
	}
	t.Logf("full case: %d alarms raised, %d projections", len(h.alarms), len(h.saves))
}

func TestStalledStepClimbsTheLadder(t *testing.T) {
	h := newHarness(t)
	// Everything but the needs assessment (due Wed 30 Dec 2026) is closed at once.
	h.update(day(2026, 11, 23, 11), UpdateRecordAssessment, resettlement.RecordAssessment{Meta: m("officer-1"), Skip: ""})
	for _, s := range []string{"immediate-needs", "housing-referral", "id-documents", "bank-account", "benefits", "gp-registration", "medicines", "release-plan"} {
		h.update(day(2026, 11, 23, 12), UpdateActOnStep, resettlement.ActOnStep{Meta: m("officer-1"), StepID: s, Action: resettlement.ActionNotNeeded})
	}
	h.close(day(2027, 1, 20, 10))
	h.run(openInput(resettlement.ReleaseDates{CRD: resettlement.D(2027, 3, 10)}, "officer-1"))
	var ladder []string
	for _, a := range h.alarms {
		if a.in.Alarm.StepID == "needs-assessment" {
			ladder = append(ladder, fmt.Sprintf("%s%d@%s", a.in.Alarm.Kind, a.in.Alarm.Level, a.in.Alarm.At.In(resettlement.London).Format("2006-01-02 15:04")))
			// The dispatcher raises it at its instant; the workflow wakes
			// the policy's backstop later.
			if backstop := resettlement.DefaultPolicy().Backstop.Std(); !a.at.Equal(a.in.Alarm.At.Add(backstop)) || backstop == 0 {
				t.Errorf("%s raised by the workflow at %s, want %s after its instant %s", a.in.Alarm.Key, a.at, backstop, a.in.Alarm.At)
			}
		}
	}
	want := []string{"reminder0@2026-12-23 09:00", "due0@2026-12-30 09:00", "escalation1@2027-01-04 17:00", "escalation2@2027-01-06 17:00"}
	if strings.Join(ladder, " ") != strings.Join(want, " ") {
		t.Errorf("needs assessment ladder:\n got %v\nwant %v", ladder, want)
	}
	stalls := 0
	for _, a := range h.alarms {
		if a.in.Alarm.Kind == resettlement.AlarmStalled {
			stalls++
			// Nothing moved after 23 November, but the stall clock runs only
			// while work falls due within the 10 working days: the
			// assessment is due Wednesday 30 December 17:00, and 10 working
			// days before that, over Christmas, is Monday 14 December.
			if !a.in.Alarm.At.Equal(day(2026, 12, 14, 17)) {
				t.Errorf("stalled at %s, want 10 working days before the assessment falls due", a.in.Alarm.At)
			}
		}
	}
	if stalls != 1 {
		t.Errorf("%d stall alarms, want 1", stalls)
	}
}

// Every alarm the workflow raises was announced by its last save before,
// with the same key at the same instant: what the read model's dispatcher
// raises at that instant is what the timer raises, to the owner the case
// had then (the reassignment).
func TestEverySaveAnnouncesTheNextAlarms(t *testing.T) {
	h := newHarness(t)
	h.update(day(2027, 1, 14, 10), UpdateAssign, resettlement.Assign{Meta: m("manager-1"), StepID: "housing-referral",
		Owner: resettlement.Owner{Staff: "housing-1", Team: "pvi-housing"}})
	h.close(day(2027, 1, 25, 10))
	h.run(openInput(resettlement.ReleaseDates{CRD: resettlement.D(2027, 3, 10)}, "officer-1"))
	var announced *resettlement.Projection
	checked := 0
	for _, o := range h.order {
		switch o := o.(type) {
		case resettlement.Projection:
			announced = &o
		case raised:
			if announced == nil {
				continue // raised at the opening, before the first save
			}
			if !announced.AlarmsAt.Equal(o.in.Alarm.At) {
				t.Errorf("%s (at %s) raised at %s; the last save announced %s", o.in.Alarm.Key, o.in.Alarm.At, o.at, announced.AlarmsAt)
			}
			checked++
		}
	}
	if checked < 10 {
		t.Fatalf("only %d alarms raised after a save", checked)
	}
	if last := h.saves[len(h.saves)-1]; !last.AlarmsAt.IsZero() {
		t.Errorf("the closed case's last save announces alarms at %s", last.AlarmsAt)
	}
}

func TestReassignmentMovesEscalations(t *testing.T) {
	h := newHarness(t)
	// Housing referral due Wed 13 Jan 2027; reassigned to the housing team on the 14th.
	id := h.update(day(2027, 1, 14, 10), UpdateAssign, resettlement.Assign{Meta: m("manager-1"), StepID: "housing-referral",
		Owner: resettlement.Owner{Staff: "housing-1", Team: "pvi-housing"}})
	h.close(day(2027, 1, 25, 10))
	h.run(openInput(resettlement.ReleaseDates{CRD: resettlement.D(2027, 3, 10)}, "officer-1"))
	h.mustAccept(id)
	var before, after []AlarmInput
	for _, a := range h.alarms {
		if a.in.Alarm.StepID != "housing-referral" {
			continue
		}
		if a.at.Before(day(2027, 1, 14, 10)) {
			before = append(before, a.in)
		} else {
			after = append(after, a.in)
		}
	}
	if len(before) != 2 || before[1].Step.Owner.Staff != "officer-1" {
		t.Errorf("before reassignment: %+v", before)
	}
	if len(after) != 2 {
		t.Fatalf("after reassignment: %d alarms, want escalations 1 and 2", len(after))
	}
	for _, a := range after {
		if a.Alarm.Kind != resettlement.AlarmEscalation || a.Step.Owner != (resettlement.Owner{Staff: "housing-1", Team: "pvi-housing"}) {
			t.Errorf("after reassignment: %s to %+v", a.Alarm.Key, a.Step.Owner)
		}
	}
}

func TestShortSentenceGracePeriod(t *testing.T) {
	h := newHarness(t)
	var s State
	h.at(day(2026, 11, 23, 10).Add(time.Minute), func() { s = h.query() })
	h.close(day(2026, 11, 24, 10))
	in := openInput(resettlement.ReleaseDates{CRD: resettlement.D(2026, 12, 9)}, "officer-1")
	in.Open.ReceivedOn = resettlement.D(2026, 11, 16)
	h.run(in)
	graced := 0
	for _, st := range s.Case.Steps {
		if st.Graced {
			graced++
			if !st.Due.Equal(day(2026, 11, 25, 17)) { // close of business, 2 working days on
				t.Errorf("%s graced to %s", st.ID, st.Due)
			}
		}
	}
	if graced != 4 {
		t.Errorf("%d steps graced, want immediate needs, housing, ID and bank account", graced)
	}
	if s.Stage != resettlement.StageIdentified || s.ReleaseDay != resettlement.D(2026, 12, 9) {
		t.Errorf("stage %s release day %s", s.Stage, s.ReleaseDay)
	}
}

func TestReleaseDateMovedEarlierThenLater(t *testing.T) {
	h := newHarness(t)
	earlier := h.update(day(2026, 12, 1, 11), UpdateChangeReleaseDates, resettlement.ChangeReleaseDates{Meta: m("officer-1"),
		Dates: resettlement.ReleaseDates{CRD: resettlement.D(2027, 1, 21)}, Reason: "recalculation"})
	var s1, s2 State
	h.at(day(2026, 12, 1, 12), func() { s1 = h.query() })
	later := h.update(day(2026, 12, 2, 11), UpdateChangeReleaseDates, resettlement.ChangeReleaseDates{Meta: m("officer-1"),
		Dates: resettlement.ReleaseDates{CRD: resettlement.D(2027, 4, 14)}, Reason: "added-days"})
	h.at(day(2026, 12, 2, 12), func() { s2 = h.query() })
	h.close(day(2026, 12, 10, 10))
	h.run(openInput(resettlement.ReleaseDates{CRD: resettlement.D(2027, 3, 10)}, "officer-1"))
	h.mustAccept(earlier, later)
	housing := func(s State) resettlement.Step {
		for _, st := range s.Case.Steps {
			if st.ID == "housing-referral" {
				return st
			}
		}
		return resettlement.Step{}
	}
	if hs := housing(s1); !hs.Graced || !hs.Due.Equal(day(2026, 12, 3, 17)) {
		t.Errorf("earlier: housing due %s graced %v", hs.Due, hs.Graced)
	}
	if hs := housing(s2); hs.Graced || hs.DueDate != resettlement.D(2027, 2, 17) {
		t.Errorf("later: housing due %s graced %v", hs.DueDate, hs.Graced)
	}
	// The earlier date's housing reminder fired; the later one must remind afresh, not be suppressed.
	for _, a := range s2.NextAlarms {
		if a.StepID == "housing-referral" && !strings.Contains(a.Key, "2027-02-17") {
			t.Errorf("alarm %s keyed on an old due date", a.Key)
		}
	}
}

func TestTwoTransfersInARow(t *testing.T) {
	h := newHarness(t)
	t1 := h.update(day(2026, 12, 1, 10), UpdateTransfer, resettlement.Transfer{Meta: m("officer-1"), To: "BXI", ToTeam: "bxi-resettlement"})
	t2 := h.update(day(2026, 12, 8, 10), UpdateTransfer, resettlement.Transfer{Meta: m("officer-9"), To: "WWI", ToTeam: "wwi-resettlement"})
	var s State
	h.at(day(2026, 12, 8, 11), func() { s = h.query() })
	h.close(day(2026, 12, 9, 10))
	h.run(openInput(resettlement.ReleaseDates{CRD: resettlement.D(2027, 3, 10)}, "officer-1"))
	h.mustAccept(t1, t2)
	if len(h.notices) != 2 || h.notices[0].FromTeam != "pvi-resettlement" || h.notices[1].From != "BXI" || h.notices[1].ToTeam != "wwi-resettlement" {
		t.Errorf("notices %+v", h.notices)
	}
	if !h.notices[0].HandoverDue.Equal(day(2026, 12, 3, 10)) {
		t.Errorf("handover due %s, want 2 working days later", h.notices[0].HandoverDue)
	}
	if s.Case.Establishment != "WWI" {
		t.Errorf("establishment %s", s.Case.Establishment)
	}
	for _, a := range h.alarms {
		if a.at.After(day(2026, 12, 1, 10)) && a.in.Step != nil && a.in.Step.Owner.Staff == "officer-1" {
			t.Errorf("the sending officer was still reminded after the transfer: %s", a.in.Alarm.Key)
		}
	}
	unassigned := 0
	for _, a := range h.alarms {
		if a.in.Alarm.Kind == resettlement.AlarmUnassigned {
			unassigned++
		}
	}
	if unassigned != 2 {
		t.Errorf("%d unassigned notices, want one per receiving team", unassigned)
	}
}

func TestPauseAndResume(t *testing.T) {
	h := newHarness(t)
	p := h.update(day(2026, 11, 23, 10).Add(time.Minute), UpdatePause, resettlement.Pause{Meta: m("officer-1"), Reason: resettlement.PauseHospital})
	r := h.update(day(2027, 1, 20, 10), UpdateResume, resettlement.Pause{Meta: m("officer-1")})
	h.close(day(2027, 1, 21, 10))
	h.run(openInput(resettlement.ReleaseDates{CRD: resettlement.D(2027, 3, 10)}, "officer-1"))
	h.mustAccept(p, r)
	perStep := map[string]int{}
	for _, a := range h.alarms {
		if a.at.After(day(2026, 11, 23, 10).Add(time.Minute)) && a.at.Before(day(2027, 1, 20, 10)) {
			t.Errorf("alarm %s raised while paused", a.in.Alarm.Key)
		}
		if a.at.Equal(day(2027, 1, 20, 10)) && a.in.Alarm.StepID != "" {
			perStep[a.in.Alarm.StepID]++
		}
	}
	if perStep["needs-assessment"] != 1 || perStep["housing-referral"] != 1 {
		t.Errorf("on resume: %v, want one alarm each for the overdue steps", perStep)
	}
}

func TestRecallAndCancellation(t *testing.T) {
	h := newHarness(t)
	c := h.update(day(2026, 12, 1, 10), UpdateChangeReleaseDates, resettlement.ChangeReleaseDates{Meta: m("officer-1"), Reason: "release-cancelled"})
	var held State
	h.at(day(2026, 12, 1, 11), func() { held = h.query() })
	set := h.update(day(2027, 2, 1, 10), UpdateChangeReleaseDates, resettlement.ChangeReleaseDates{Meta: m("officer-1"),
		Dates: resettlement.ReleaseDates{CRD: resettlement.D(2027, 2, 3)}, Reason: "recalculation"})
	rel := h.update(day(2027, 2, 3, 9), UpdateActOnStep, resettlement.ActOnStep{Meta: m("officer-1"), StepID: "release", Action: resettlement.ActionComplete})
	recall := h.update(day(2027, 3, 1, 10), UpdateReset, resettlement.Reset{Meta: m("officer-1"), Reason: resettlement.ResetRecall,
		ReceivedOn: resettlement.D(2027, 2, 26), Dates: resettlement.ReleaseDates{PRRD: resettlement.D(2027, 8, 2)}})
	var after State
	h.at(day(2027, 3, 1, 11), func() { after = h.query() })
	h.close(day(2027, 3, 2, 10))
	h.run(openInput(resettlement.ReleaseDates{CRD: resettlement.D(2027, 3, 10)}, "officer-1"))
	h.mustAccept(c, set, rel, recall)
	for _, st := range held.Case.Steps {
		if st.ID == "housing-referral" && !st.OnHold() {
			t.Error("housing should be on hold while the release is cancelled")
		}
	}
	if after.Stage != resettlement.StageIdentified || after.Case.Cycle != 1 || after.ReleaseDay != resettlement.D(2027, 8, 2) {
		t.Errorf("after recall: stage %s cycle %d release %s", after.Stage, after.Case.Cycle, after.ReleaseDay)
	}
}

func TestInvalidUpdatesAreRejected(t *testing.T) {
	h := newHarness(t)
	bad := map[string]string{
		h.update(day(2026, 11, 23, 11), UpdateActOnStep, resettlement.ActOnStep{Meta: m("officer-1"), StepID: "nope", Action: resettlement.ActionStart}):        `the case has no step "nope"`,
		h.update(day(2026, 11, 23, 11), UpdateActOnStep, resettlement.ActOnStep{Meta: m("officer-1"), StepID: "identify", Action: resettlement.ActionComplete}): "already done",
		h.update(day(2026, 11, 23, 11), UpdateTransfer, resettlement.Transfer{Meta: m("officer-1"), To: "PVI", ToTeam: "pvi-resettlement"}):                     "already at PVI",
		h.update(day(2026, 11, 23, 11), UpdateResume, resettlement.Pause{Meta: m("officer-1")}):                                                                 "not paused",
		h.update(day(2026, 11, 23, 11), UpdateAssign, resettlement.Assign{Meta: resettlement.Meta{RequestID: "r"}, Owner: resettlement.Owner{Staff: "x"}}):      "must name the member of staff",
	}
	h.close(day(2026, 11, 24, 10))
	h.run(openInput(resettlement.ReleaseDates{CRD: resettlement.D(2027, 3, 10)}, "officer-1"))
	for id, want := range bad {
		err := h.errs[id]
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", id, err, want)
		}
	}
	var appErr *temporal.ApplicationError
	for id, err := range h.errs {
		if err != nil && strings.HasPrefix(id, UpdateActOnStep) && errors.As(err, &appErr) && appErr.Type() == ErrTypeInvalid {
			var fe resettlement.Errors
			if derr := appErr.Details(&fe); derr != nil || len(fe) == 0 || fe[0].Field != "step_id" {
				t.Errorf("field errors not in the details: %v %v", fe, derr)
			}
		}
	}
	// Nothing rejected reached the case's history of events.
	for _, p := range h.saves {
		for _, e := range p.Events {
			if e.Kind == "transfer" || e.Kind == "resumed" {
				t.Errorf("rejected update left event %q", e.Text)
			}
		}
	}
}

func TestIdempotentUpdates(t *testing.T) {
	h := newHarness(t)
	meta := m("officer-1")
	first := h.update(day(2026, 11, 23, 11), UpdateActOnStep, resettlement.ActOnStep{Meta: meta, StepID: "immediate-needs", Action: resettlement.ActionComplete})
	retry := h.update(day(2026, 11, 23, 11).Add(time.Minute), UpdateActOnStep, resettlement.ActOnStep{Meta: meta, StepID: "immediate-needs", Action: resettlement.ActionComplete})
	h.close(day(2026, 11, 24, 10))
	h.run(openInput(resettlement.ReleaseDates{CRD: resettlement.D(2027, 3, 10)}, "officer-1"))
	h.mustAccept(first, retry)
	n := 0
	for _, p := range h.saves {
		for _, e := range p.Events {
			if e.StepID == "immediate-needs" && e.To == resettlement.StepDone {
				n++
			}
		}
	}
	if n != 1 {
		t.Errorf("a retried request applied %d times", n)
	}
}

func TestContinueAsNewCarriesTheCase(t *testing.T) {
	h := newHarness(t)
	in := openInput(resettlement.ReleaseDates{CRD: resettlement.D(2027, 3, 10)}, "officer-1")
	// The test environment does not count history events; tell it the
	// history has grown long part-way through a burst of updates.
	h.env.RegisterDelayedCallback(func() { h.env.SetCurrentHistoryLength(DefaultMaxHistory) }, day(2026, 11, 24, 10).Add(20*time.Minute+30*time.Second).Sub(start))
	for i := 0; i < 40; i++ {
		a := resettlement.ActionWaiting
		if i%2 == 1 {
			a = resettlement.ActionStart
		}
		h.update(day(2026, 11, 24, 10).Add(time.Duration(i)*time.Minute), UpdateActOnStep, resettlement.ActOnStep{Meta: m("officer-1"), StepID: "bank-account", Action: a})
	}
	h.env.ExecuteWorkflow(ReleaseCase, in)
	var can *workflow.ContinueAsNewError
	if err := h.env.GetWorkflowError(); !errors.As(err, &can) {
		t.Fatalf("workflow ended with %v, want continue-as-new", err)
	}
	var next Input
	if err := testPayloadsGet(can, &next); err != nil {
		t.Fatal(err)
	}
	if next.State == nil || next.Open != nil {
		t.Fatalf("continued with %+v", next)
	}
	if next.SavedVersion != next.State.Version || next.SavedSeq != next.State.EventSeq {
		t.Errorf("continued before saving: saved v%d/%d, case v%d/%d", next.SavedVersion, next.SavedSeq, next.State.Version, next.State.EventSeq)
	}
	if applied := len(next.State.Requests); applied != 22 {
		t.Errorf("continued as new after %d updates, want 22: those before the history grew long and the one that woke the workflow", applied)
	}

	// The new run picks up where the old one stopped and still answers updates.
	h2 := newHarness(t)
	h2.env.SetStartTime(day(2026, 11, 24, 12))
	var s State
	h2.env.RegisterDelayedCallback(func() {
		v, err := h2.env.QueryWorkflow(QueryState)
		if err == nil {
			err = v.Get(&s)
		}
		if err != nil {
			t.Error(err)
		}
	}, time.Minute)
	h2.env.RegisterDelayedCallback(func() {
		h2.env.UpdateWorkflow(UpdateClose, "close", &testsuite.TestUpdateCallback{OnAccept: func() {}, OnReject: func(err error) { t.Error(err) }, OnComplete: func(any, error) {}},
			resettlement.Close{Meta: m("manager-1"), Reason: resettlement.CloseOther})
	}, time.Hour)
	h2.env.ExecuteWorkflow(ReleaseCase, next)
	if err := h2.env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if s.Case == nil || s.Case.EventSeq != next.State.EventSeq {
		t.Errorf("the new run lost events")
	}
}

// TestStartAttributesSpareTheFirstUpsert: a case whose workflow starts with
// StartAttributes (as casework starts every case) upserts nothing in its
// first task; one started with only some of them upserts them all.
func TestStartAttributesSpareTheFirstUpsert(t *testing.T) {
	in := openInput(resettlement.ReleaseDates{CRD: resettlement.D(2027, 3, 10)}, "officer-1")
	in.OpenedAt = start
	planned, err := resettlement.Open(*in.Open, start)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		attrs temporal.SearchAttributes
		want  int
	}{
		{"every attribute", StartAttributes(planned, start), 0},
		{"establishment and team only", temporal.NewSearchAttributes(AttrEstablishment.ValueSet("PVI"), AttrTeam.ValueSet("pvi-resettlement")), 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			if err := h.env.SetTypedSearchAttributesOnStart(tc.attrs); err != nil {
				t.Fatal(err)
			}
			var first temporal.SearchAttributes
			upserts := 0
			h.env.OnUpsertTypedSearchAttributes(mock.Anything).Return(nil).Run(func(args mock.Arguments) {
				if h.env.Now().Equal(start) {
					upserts++
					first = args.Get(0).(temporal.SearchAttributes)
				}
			})
			h.at(start.Add(time.Minute), func() { h.env.CancelWorkflow() })
			h.env.ExecuteWorkflow(ReleaseCase, in)
			if upserts != tc.want {
				t.Fatalf("%d upserts in the first task, want %d", upserts, tc.want)
			}
			if got, want := attrsIn(first), attrsOf(planned, start); tc.want == 1 && got != want {
				t.Errorf("the first upsert set %+v, not what StartAttributes gives: %+v", got, want)
			}
			if len(h.saves) != 1 {
				t.Errorf("%d saves in the first minute, want 1", len(h.saves))
			}
		})
	}
}

// TestOnlyUpdatesSaveThroughTheServer checks which saves run as local
// activities: opening the case and the alarms its timers raise (a function
// of the history alone), but not a change an update made (see run). A run
// told its commands' version in its input does the same without asking
// workflow.GetVersion, so it records no version marker.
func TestOnlyUpdatesSaveThroughTheServer(t *testing.T) {
	for _, tc := range []struct {
		commands int
		asks     []string // change ids asked of GetVersion
	}{
		{0, []string{changeLocalActivities, changeUpdateWaitsWithoutTimer}},
		{CurrentCommands, nil},
	} {
		t.Run(fmt.Sprintf("commands %d", tc.commands), func(t *testing.T) {
			h := newHarness(t)
			var local, ordinary []int // the versions each kind of save wrote
			h.env.SetOnLocalActivityStartedListener(func(info *activity.Info, _ context.Context, args []any) {
				if info.ActivityType.Name == ActivitySaveCase {
					local = append(local, args[0].(resettlement.Projection).Case.Version)
				}
			})
			h.env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, args converter.EncodedValues) {
				var p resettlement.Projection
				if info.ActivityType.Name == ActivitySaveCase && args.Get(&p) == nil {
					ordinary = append(ordinary, p.Case.Version)
				}
			})
			var asked []string
			for id, max := range map[string]workflow.Version{changeLocalActivities: 2, changeUpdateWaitsWithoutTimer: 1} {
				h.env.OnGetVersion(id, workflow.DefaultVersion, max).Return(max).Run(func(mock.Arguments) { asked = append(asked, id) })
			}
			id := h.update(day(2026, 11, 23, 11), UpdateAssign, resettlement.Assign{Meta: m("manager-1"), StepID: "immediate-needs",
				Owner: resettlement.Owner{Staff: "officer-2", Team: "pvi-resettlement"}})
			h.at(day(2027, 1, 20, 10), func() { h.env.CancelWorkflow() })
			in := openInput(resettlement.ReleaseDates{CRD: resettlement.D(2027, 3, 10)}, "officer-1")
			in.Commands = tc.commands
			h.env.ExecuteWorkflow(ReleaseCase, in)
			h.mustAccept(id)
			if len(ordinary) != 1 {
				t.Fatalf("ordinary saves wrote versions %v, want only the update's", ordinary)
			}
			if len(local) < 2 || local[0] >= ordinary[0] || local[len(local)-1] <= ordinary[0] {
				t.Errorf("local saves wrote versions %v, want the opening's before the update's (%d) and the alarms' after it", local, ordinary[0])
			}
			if !slices.Equal(asked, tc.asks) {
				t.Errorf("asked GetVersion of %v, want %v", asked, tc.asks)
			}
		})
	}
}
