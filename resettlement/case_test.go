package resettlement

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// at is a London wall-clock instant.
func at(y int, m time.Month, d, hour, min int) time.Time {
	return time.Date(y, m, d, hour, min, 0, 0, London)
}

func openCase(t *testing.T, o OpenCase, now time.Time) *Case {
	t.Helper()
	if o.CaseID == "" {
		o.CaseID = "c1"
	}
	if o.Establishment == "" {
		o.Establishment = "PVI"
	}
	if o.Team == "" {
		o.Team = "pvi-resettlement"
	}
	c, err := Open(o, now)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return c
}

func dueDates(c *Case) map[string]Date {
	m := map[string]Date{}
	for _, s := range c.Steps {
		m[s.ID] = s.DueDate
	}
	return m
}

func TestPlanTwelveWeeksOut(t *testing.T) {
	now := at(2026, 11, 23, 10, 0)
	c := openCase(t, OpenCase{Owner: "officer-1", ReceivedOn: D(2026, 11, 20), Adult: true,
		Dates: ReleaseDates{CRD: D(2027, 3, 10)}}, now)
	want := map[string]Date{
		"identify":         D(2026, 11, 20),
		"immediate-needs":  D(2026, 11, 23),
		"needs-assessment": D(2026, 12, 30), // R − 10 weeks
		"housing-referral": D(2027, 1, 13),  // R − 56 days
		"id-documents":     D(2027, 2, 10),
		"bank-account":     D(2027, 1, 27),
		"benefits":         D(2027, 3, 3),
		"gp-registration":  D(2027, 3, 3),
		"medicines":        D(2027, 3, 8),
		"release-plan":     D(2027, 3, 8), // R − 2 working days
		"release":          D(2027, 3, 10),
		"follow-up-1":      D(2027, 3, 11),
		"follow-up-7":      D(2027, 3, 17),
		"follow-up-28":     D(2027, 4, 7),
		"follow-up-84":     D(2027, 6, 2),
	}
	got := dueDates(c)
	for id, d := range want {
		if got[id] != d {
			t.Errorf("%s due %s, want %s", id, got[id], d)
		}
	}
	if len(c.Steps) != len(want) {
		t.Errorf("%d steps, want %d", len(c.Steps), len(want))
	}
	bank, _ := c.Step("bank-account")
	if bank.From != D(2026, 9, 10) {
		t.Errorf("bank account window opens %s, want R − 6 months 2026-09-10", bank.From)
	}
	if s, _ := c.Step("identify"); s.Status != StepDone {
		t.Errorf("identify is %s, want done", s.Status)
	}
	if c.Stage(now) != StageIdentified {
		t.Errorf("stage %s, want identified", c.Stage(now))
	}
	if c.Queued != 0 {
		t.Error("a case with an owner queued steps for the team")
	}
}

func TestPlanShortSentenceUsesGrace(t *testing.T) {
	now := at(2026, 11, 23, 10, 0) // a Monday
	c := openCase(t, OpenCase{ReceivedOn: D(2026, 11, 16), Adult: true, Dates: ReleaseDates{CRD: D(2026, 12, 9)}}, now)
	graceDue := at(2026, 11, 25, 17, 0) // close of business two working days after opening
	for _, id := range []string{"housing-referral", "id-documents", "bank-account"} {
		s, _ := c.Step(id)
		if !s.Graced || !s.Due.Equal(graceDue) {
			t.Errorf("%s: due %s graced %v, want %s graced", id, s.Due, s.Graced, graceDue)
		}
		if !s.Due.After(now) {
			t.Errorf("%s is due in the past", id)
		}
	}
	if s, _ := c.Step("gp-registration"); s.Graced || s.DueDate != D(2026, 12, 2) {
		t.Errorf("gp-registration due %s graced %v, want 2026-12-02 not graced", s.DueDate, s.Graced)
	}
	if c.Queued != 1 || len(c.Unassigned()) == 0 {
		t.Error("a case with no owner should queue its steps for the team once")
	}
}

func TestReleaseTomorrow(t *testing.T) {
	now := at(2026, 11, 24, 9, 0) // Tuesday; release Wednesday
	c := openCase(t, OpenCase{ReceivedOn: D(2026, 11, 1), Adult: true, Dates: ReleaseDates{CRD: D(2026, 11, 25)}}, now)
	for _, s := range c.Steps {
		if s.Status.Open() && !s.Due.After(now) {
			t.Errorf("%s due %s, not after now", s.ID, s.Due)
		}
	}
	if c.Stage(now) != StageRelease {
		t.Errorf("stage %s, want release", c.Stage(now))
	}
	if a, _ := c.Step("needs-assessment"); !a.Graced {
		t.Error("the assessment should be graced: every window has passed")
	}
}

func TestOpenedAfterRelease(t *testing.T) {
	now := at(2026, 11, 23, 10, 0)
	c := openCase(t, OpenCase{ReceivedOn: D(2026, 9, 1), Adult: true, Dates: ReleaseDates{CRD: D(2026, 11, 11)}}, now)
	for _, s := range c.Steps {
		switch {
		case s.ID == "release" || s.ID == "identify":
			if s.Status != StepDone {
				t.Errorf("%s is %s, want done", s.ID, s.Status)
			}
		case s.Kind == KindFollowUp:
			if !s.Status.Open() || !s.Due.After(now) {
				t.Errorf("%s: %s due %s, want open and due ahead", s.ID, s.Status, s.Due)
			}
		default:
			if s.Status != StepNotNeeded {
				t.Errorf("%s is %s, want not-needed", s.ID, s.Status)
			}
		}
	}
	if f, _ := c.Step("follow-up-28"); f.DueDate != D(2026, 12, 9) || f.Graced {
		t.Errorf("follow-up-28 due %s graced %v, want 2026-12-09 not graced", f.DueDate, f.Graced)
	}
	if c.Stage(now) != StageFollowUp {
		t.Errorf("stage %s, want follow-up", c.Stage(now))
	}
}

func TestOpenValidation(t *testing.T) {
	now := at(2026, 11, 23, 10, 0)
	_, err := Open(OpenCase{CaseID: "A1234BC", Establishment: "Pentonville", ReceivedOn: D(2026, 12, 1),
		Dates: ReleaseDates{CRD: D(2026, 11, 1)}}, now)
	fe, ok := AsFieldErrors(err)
	if !ok {
		t.Fatalf("want field errors, got %v", err)
	}
	fields := map[string]bool{}
	for _, f := range fe {
		fields[f.Field] = true
	}
	for _, f := range []string{"case_id", "establishment", "team", "received_on", "release_dates"} {
		if !fields[f] {
			t.Errorf("no error for %s in %v", f, err)
		}
	}
}

func meta(id string) Meta { return Meta{RequestID: id, By: "officer-1", NoteID: 7} }

func TestReleaseDateMovedEarlierPastADueDate(t *testing.T) {
	now := at(2026, 11, 23, 10, 0)
	c := openCase(t, OpenCase{Owner: "officer-1", ReceivedOn: D(2026, 11, 20), Adult: true, Dates: ReleaseDates{CRD: D(2027, 3, 10)}}, now)
	later := at(2026, 12, 1, 11, 0)
	// Release brought forward to 21 Jan 2027: the housing referral (R − 56) is now past.
	if err := c.ChangeReleaseDates(ChangeReleaseDates{Meta: meta("r1"), Dates: ReleaseDates{CRD: D(2027, 1, 21)}, Reason: "recalculation"}, later); err != nil {
		t.Fatal(err)
	}
	h, _ := c.Step("housing-referral")
	if !h.Graced || !h.Due.Equal(at(2026, 12, 3, 17, 0)) {
		t.Errorf("housing due %s graced %v, want close of business 2026-12-03 graced", h.Due, h.Graced)
	}
	if r, _ := c.Step("release"); r.DueDate != D(2027, 1, 21) {
		t.Errorf("release due %s", r.DueDate)
	}
	// Moved later again: windows return to the plan.
	if err := c.ChangeReleaseDates(ChangeReleaseDates{Meta: meta("r2"), Dates: ReleaseDates{CRD: D(2027, 4, 14)}, Reason: "added-days"}, later); err != nil {
		t.Fatal(err)
	}
	if h, _ := c.Step("housing-referral"); h.Graced || h.DueDate != D(2027, 2, 17) {
		t.Errorf("housing due %s graced %v, want 2027-02-17", h.DueDate, h.Graced)
	}
	// Release cancelled: release-anchored steps on hold, no alarms for them.
	if err := c.ChangeReleaseDates(ChangeReleaseDates{Meta: meta("r3"), Reason: "release-cancelled"}, later); err != nil {
		t.Fatal(err)
	}
	if h, _ := c.Step("housing-referral"); !h.OnHold() {
		t.Error("housing should be on hold with no release date")
	}
	for _, a := range c.Alarms() {
		if a.StepID == "housing-referral" {
			t.Errorf("alarm %s for a step on hold", a.Key)
		}
	}
	err := c.ChangeReleaseDates(ChangeReleaseDates{Meta: meta("r4"), Reason: "release-cancelled"}, later)
	if !errors.Is(err, ErrConflict) {
		t.Errorf("unchanged dates: %v, want a conflict", err)
	}
}

func TestTransferMovesSendingTeamsSteps(t *testing.T) {
	now := at(2026, 11, 23, 10, 0)
	c := openCase(t, OpenCase{Owner: "officer-1", ReceivedOn: D(2026, 11, 20), Adult: true, Dates: ReleaseDates{CRD: D(2027, 3, 10)}}, now)
	if err := c.Assign(Assign{Meta: meta("a1"), StepID: "gp-registration", Owner: Owner{Staff: "nurse-1", Team: "pvi-health"}}, now); err != nil {
		t.Fatal(err)
	}
	then := at(2026, 11, 27, 15, 0) // Friday
	if err := c.Transfer(Transfer{Meta: meta("t1"), To: "BXI", ToTeam: "bxi-resettlement"}, then); err != nil {
		t.Fatal(err)
	}
	if c.Establishment != "BXI" || c.Team != "bxi-resettlement" || c.Owner != "" {
		t.Errorf("after transfer: %s %s owner %q", c.Establishment, c.Team, c.Owner)
	}
	for _, s := range c.Steps {
		if !s.Status.Open() {
			continue
		}
		if s.ID == "gp-registration" {
			if s.Owner.Staff != "nurse-1" {
				t.Error("a step owned by another team (health) should stay with it")
			}
			continue
		}
		if s.Owner != (Owner{Team: "bxi-resettlement"}) {
			t.Errorf("%s owned by %+v, want the receiving queue", s.ID, s.Owner)
		}
	}
	h, ok := c.Step("handover-1")
	if !ok || !h.Due.Equal(at(2026, 12, 1, 15, 0)) {
		t.Errorf("handover %+v, want due 2 working days later", h)
	}
	if err := c.Transfer(Transfer{Meta: meta("t2"), To: "WWI", ToTeam: "wwi-resettlement"}, then.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Step("handover-2"); !ok {
		t.Error("a second transfer should add a second handover")
	}
	if s, _ := c.Step("housing-referral"); s.Owner.Team != "wwi-resettlement" {
		t.Errorf("housing owned by %+v after the second transfer", s.Owner)
	}
	fe, _ := AsFieldErrors(c.Transfer(Transfer{Meta: meta("t3"), To: "WWI", ToTeam: "x"}, then))
	if len(fe) == 0 || !strings.Contains(fe.Error(), "already at WWI") {
		t.Errorf("transfer to the same prison: %v", fe)
	}
}

func TestStepActions(t *testing.T) {
	now := at(2026, 11, 23, 10, 0)
	c := openCase(t, OpenCase{Owner: "officer-1", ReceivedOn: D(2026, 11, 20), Adult: true, Dates: ReleaseDates{CRD: D(2027, 3, 10)}}, now)
	tests := []struct {
		cmd     ActOnStep
		wantErr string
		want    StepStatus
	}{
		{ActOnStep{Meta: meta("1"), StepID: "immediate-needs", Action: ActionStart}, "", StepInProgress},
		{ActOnStep{Meta: meta("2"), StepID: "immediate-needs", Action: ActionStart}, "cannot be started", StepInProgress},
		{ActOnStep{Meta: meta("3"), StepID: "immediate-needs", Action: ActionComplete}, "", StepDone},
		{ActOnStep{Meta: meta("4"), StepID: "immediate-needs", Action: ActionComplete}, "already done", StepDone},
		{ActOnStep{Meta: Meta{RequestID: "5", By: "officer-1"}, StepID: "immediate-needs", Action: ActionReopen}, "add a note saying why (a reopened step must say why)", StepDone},
		{ActOnStep{Meta: meta("6"), StepID: "immediate-needs", Action: ActionReopen}, "", StepInProgress},
		{ActOnStep{Meta: meta("7"), StepID: "bank-account", Action: ActionWaiting}, "", StepWaiting},
		{ActOnStep{Meta: meta("8"), StepID: "bank-account", Action: ActionStart}, "", StepInProgress},
		{ActOnStep{Meta: meta("9"), StepID: "benefits", Action: ActionNotNeeded}, "", StepNotNeeded},
		{ActOnStep{Meta: meta("10"), StepID: "nope", Action: ActionStart}, "no step \"nope\"", ""},
		{ActOnStep{Meta: meta("11"), StepID: "benefits", Action: "fly"}, "must be one of", StepNotNeeded},
		{ActOnStep{Meta: meta("12"), StepID: "release", Action: ActionComplete}, "release is due on 2027-03-10", StepNotStarted},
		{ActOnStep{Meta: Meta{RequestID: "13"}, StepID: "benefits", Action: ActionStart}, "by: must name", StepNotNeeded},
	}
	for i, tt := range tests {
		before := c.Clone()
		err := c.ActOnStep(tt.cmd, now)
		if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("%d %s %s: err %v, want %q", i, tt.cmd.Action, tt.cmd.StepID, err, tt.wantErr)
		}
		if err != nil && c.Version != before.Version {
			t.Errorf("%d: a rejected action changed the case", i)
		}
		if s, ok := c.Step(tt.cmd.StepID); ok && s.Status != tt.want {
			t.Errorf("%d: %s is %s, want %s", i, s.ID, s.Status, tt.want)
		}
	}
	if !c.Seen("3") || c.Seen("4") {
		t.Error("Seen should hold applied requests only")
	}
}

func TestAssessmentClosesAndAddsSteps(t *testing.T) {
	now := at(2026, 11, 23, 10, 0)
	c := openCase(t, OpenCase{Owner: "officer-1", ReceivedOn: D(2026, 11, 20), Adult: true, Dates: ReleaseDates{CRD: D(2027, 3, 10)}}, now)
	err := c.RecordAssessment(RecordAssessment{Meta: meta("a"), Needs: []PathwayNeed{
		{FinanceID, PathwaySupportNotRequired}, {DrugsAlcohol, PathwaySupportRequired}, {Health, PathwaySupportDeclined}, {Accommodation, PathwaySupportRequired},
	}}, now)
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]StepStatus{"bank-account": StepNotNeeded, "id-documents": StepNotNeeded, "benefits": StepNotNeeded,
		"gp-registration": StepDeclined, "medicines": StepDeclined, "housing-referral": StepNotStarted, "needs-assessment": StepDone} {
		if s, _ := c.Step(id); s.Status != want {
			t.Errorf("%s is %s, want %s", id, s.Status, want)
		}
	}
	s, ok := c.Step("support-drugs-alcohol")
	if !ok || s.DueDate != D(2027, 2, 10) {
		t.Errorf("drugs and alcohol support step %+v, want due R − 28 days", s)
	}
	if c.Stage(now) != StagePreRelease {
		t.Errorf("stage %s", c.Stage(now))
	}
	err = c.RecordAssessment(RecordAssessment{Meta: meta("b"), Needs: []PathwayNeed{{"housing", "maybe"}, {Health, PathwayDone}, {Health, PathwayDone}}}, now)
	if fe, _ := AsFieldErrors(err); len(fe) != 3 {
		t.Errorf("want three field errors, got %v", err)
	}
}

func TestFullLifeClosesItself(t *testing.T) {
	now := at(2026, 11, 23, 10, 0)
	c := openCase(t, OpenCase{Owner: "officer-1", ReceivedOn: D(2026, 11, 20), Adult: true, Dates: ReleaseDates{CRD: D(2027, 3, 10)}}, now)
	day := at(2027, 3, 10, 9, 0)
	n := 0
	for _, s := range c.Steps {
		if s.Status.Open() && s.Kind != KindFollowUp && s.ID != "release" {
			n++
			if err := c.ActOnStep(ActOnStep{Meta: meta("s" + s.ID), StepID: s.ID, Action: ActionComplete}, day); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := c.ActOnStep(ActOnStep{Meta: meta("rel"), StepID: "release", Action: ActionComplete}, day); err != nil {
		t.Fatal(err)
	}
	if c.Stage(day) != StageFollowUp {
		t.Errorf("stage %s after release", c.Stage(day))
	}
	for _, id := range []string{"follow-up-1", "follow-up-7", "follow-up-28", "follow-up-84"} {
		if c.Closed {
			t.Fatalf("closed before %s", id)
		}
		if err := c.ActOnStep(ActOnStep{Meta: meta(id), StepID: id, Action: ActionComplete}, day.AddDate(0, 3, 0)); err != nil {
			t.Fatal(err)
		}
	}
	if !c.Closed || c.Closure.Reason != CloseCompleted || c.Stage(day) != StageClosed {
		t.Errorf("closed %v %+v", c.Closed, c.Closure)
	}
	if err := c.Pause(Pause{Meta: meta("p"), Reason: PauseCourt}, day); !errors.Is(err, ErrConflict) {
		t.Errorf("pausing a closed case: %v", err)
	}
}

func TestEarlyReleaseRebasesFollowUps(t *testing.T) {
	now := at(2026, 11, 23, 10, 0)
	c := openCase(t, OpenCase{Owner: "officer-1", ReceivedOn: D(2026, 11, 20), Adult: true, Dates: ReleaseDates{CRD: D(2026, 12, 16)}}, now)
	released := at(2026, 12, 14, 10, 0) // two working days early (court order)
	if err := c.ActOnStep(ActOnStep{Meta: meta("rel"), StepID: "release", Action: ActionComplete}, released); err != nil {
		t.Fatal(err)
	}
	if f, _ := c.Step("follow-up-7"); f.DueDate != D(2026, 12, 21) {
		t.Errorf("follow-up-7 due %s, want 7 days after the actual release", f.DueDate)
	}
}

func TestResetAfterRecall(t *testing.T) {
	now := at(2026, 11, 23, 10, 0)
	c := openCase(t, OpenCase{Owner: "officer-1", ReceivedOn: D(2026, 9, 1), Adult: true, Dates: ReleaseDates{CRD: D(2026, 11, 11)}}, now)
	later := at(2026, 12, 7, 10, 0)
	err := c.Reset(Reset{Meta: meta("x"), Reason: ResetRecall, ReceivedOn: D(2026, 12, 4), Dates: ReleaseDates{PRRD: D(2027, 6, 1)}}, later)
	if err != nil {
		t.Fatal(err)
	}
	if c.Cycle != 1 || c.Released() || c.Stage(later) != StageIdentified {
		t.Errorf("after reset: cycle %d released %v stage %s", c.Cycle, c.Released(), c.Stage(later))
	}
	if r, _ := c.Step("release"); r.DueDate != D(2027, 6, 1) {
		t.Errorf("release due %s", r.DueDate)
	}
}
