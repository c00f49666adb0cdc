package resettlement

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// overdueHousing opens a case on 23 November 2026 whose housing referral
// (R − 56, R = Wednesday 10 March 2027) was due Wednesday 13 January 2027
// 17:00, and raises its alarms on Monday 25 January: 12 days overdue, at
// escalation level 2. Immediate needs are done so only the pre-release
// steps are open.
func overdueHousing(t *testing.T, plan int) (*Case, time.Time) {
	t.Helper()
	c := openCase(t, OpenCase{Owner: "officer-1", ReceivedOn: D(2026, 11, 20), Adult: true, Plan: plan,
		Dates: ReleaseDates{CRD: D(2027, 3, 10)}}, at(2026, 11, 23, 10, 0))
	if err := c.ActOnStep(ActOnStep{Meta: meta("imm"), StepID: StepImmediateNeeds, Action: ActionComplete}, at(2026, 11, 23, 11, 0)); err != nil {
		t.Fatal(err)
	}
	now := at(2027, 1, 25, 10, 0)
	c.TakeDue(now)
	h, _ := c.Step(StepHousingReferral)
	if !h.Due.Equal(at(2027, 1, 13, 17, 0)) || c.EscalationLevel(now) != 2 || c.StepUrgency(h, now).Severity != SeverityHigh {
		t.Fatalf("setup: housing due %s, level %d, severity %s", h.Due, c.EscalationLevel(now), c.StepUrgency(h, now).Severity)
	}
	return c, now
}

func housingAlarms(as []Alarm) []string {
	var keys []string
	for _, a := range as {
		if a.StepID == StepHousingReferral {
			keys = append(keys, a.Key)
		}
	}
	return keys
}

// TestReplanKeepsWhatIsOverdue: a re-plan that leaves a step's planned date
// alone leaves its due instant, its overdue state and its ladder alone.
func TestReplanKeepsWhatIsOverdue(t *testing.T) {
	replans := []struct {
		name  string
		apply func(c *Case, now time.Time) error
	}{
		{"an assessment that adds support", func(c *Case, now time.Time) error {
			return c.RecordAssessment(RecordAssessment{Meta: meta("a"), Needs: []PathwayNeed{{DrugsAlcohol, PathwaySupportRequired}}}, now)
		}},
		{"a release-date change that does not move the step", func(c *Case, now time.Time) error {
			return c.ChangeReleaseDates(ChangeReleaseDates{Meta: meta("d"), Reason: "recalculation",
				Dates: ReleaseDates{CRD: D(2027, 3, 10), SED: D(2028, 1, 4)}}, now)
		}},
	}
	for _, r := range replans {
		t.Run(r.name, func(t *testing.T) {
			c, now := overdueHousing(t, 0)
			if err := r.apply(c, now); err != nil {
				t.Fatal(err)
			}
			h, _ := c.Step(StepHousingReferral)
			if !h.Due.Equal(at(2027, 1, 13, 17, 0)) || h.Graced {
				t.Errorf("housing due %s graced %v, want still 2027-01-13 17:00 and not graced", h.Due, h.Graced)
			}
			if !h.Overdue(now) || c.EscalationLevel(now) != 2 || c.StepUrgency(h, now).Severity != SeverityHigh {
				t.Errorf("overdue %v, level %d, severity %s: want overdue at level 2, high", h.Overdue(now), c.EscalationLevel(now), c.StepUrgency(h, now).Severity)
			}
			if again := housingAlarms(c.TakeDue(now.Add(time.Hour))); len(again) > 0 {
				t.Errorf("the ladder started again: %v", again)
			}
		})
		// Cases opened under plan 1 keep the first rules, which re-graced:
		// their histories replay with them.
		t.Run(r.name+" under plan 1", func(t *testing.T) {
			c, now := overdueHousing(t, 1)
			if err := r.apply(c, now); err != nil {
				t.Fatal(err)
			}
			if h, _ := c.Step(StepHousingReferral); !h.Graced || !h.Due.Equal(at(2027, 1, 27, 10, 0)) {
				t.Errorf("plan 1: housing due %s graced %v, want re-graced to 2027-01-27 10:00", h.Due, h.Graced)
			}
		})
	}
}

// TestReplanMovedLaterRearms: a planned date moved into the future re-arms
// the step from the new date, with a new ladder.
func TestReplanMovedLaterRearms(t *testing.T) {
	c, now := overdueHousing(t, 0)
	// Release Wednesday 9 June 2027: housing due R − 56, Wednesday 14 April.
	if err := c.ChangeReleaseDates(ChangeReleaseDates{Meta: meta("d"), Reason: "added-days", Dates: ReleaseDates{CRD: D(2027, 6, 9)}}, now); err != nil {
		t.Fatal(err)
	}
	h, _ := c.Step(StepHousingReferral)
	if !h.Due.Equal(at(2027, 4, 14, 17, 0)) || h.Graced || h.Overdue(now) {
		t.Errorf("housing due %s graced %v overdue %v, want 2027-04-14 17:00, neither", h.Due, h.Graced, h.Overdue(now))
	}
	if u := c.StepUrgency(h, now); u.Severity != SeverityNone {
		t.Errorf("severity %s, want none", u.Severity)
	}
	next := housingAlarms(c.Alarms())
	want := []string{"c0/housing-referral/2027-04-14/reminder", "c0/housing-referral/2027-04-14/due",
		"c0/housing-referral/2027-04-14/escalation-1", "c0/housing-referral/2027-04-14/escalation-2"}
	if !slices.Equal(next, want) {
		t.Errorf("housing alarms %v, want the new ladder %v", next, want)
	}
}

// TestReplanPastKeepsTheEarlierDue: a step whose new planned date has passed
// is due at the earlier of its current due instant and the grace instant.
func TestReplanPastKeepsTheEarlierDue(t *testing.T) {
	c, now := overdueHousing(t, 0)
	// Release brought forward to Monday 15 February 2027: housing (R − 56,
	// 21 December) and ID documents (R − 28, 18 January) are both past.
	if err := c.ChangeReleaseDates(ChangeReleaseDates{Meta: meta("d"), Reason: "recalculation", Dates: ReleaseDates{CRD: D(2027, 2, 15)}}, now); err != nil {
		t.Fatal(err)
	}
	h, _ := c.Step(StepHousingReferral)
	if !h.Due.Equal(at(2027, 1, 13, 17, 0)) || c.EscalationLevel(now) != 2 {
		t.Errorf("housing due %s at level %d, want its earlier due 2027-01-13 17:00 kept at level 2", h.Due, c.EscalationLevel(now))
	}
	id, _ := c.Step(StepIDDocuments)
	if !id.Graced || !id.Due.Equal(at(2027, 1, 27, 17, 0)) {
		t.Errorf("ID documents due %s graced %v, want graced to close of business 2027-01-27 (earlier than 10 February)", id.Due, id.Graced)
	}
	if again := housingAlarms(c.TakeDue(now.Add(time.Hour))); len(again) > 0 {
		t.Errorf("the housing ladder started again: %v", again)
	}
}

// TestGraceDue pins where a graced step lands.
func TestGraceDue(t *testing.T) {
	tests := []struct {
		name     string
		received Date
		dates    ReleaseDates
		now      time.Time
		step     string
		want     time.Time
		severity Severity
	}{
		{"close of business two working days on, not the hour of opening",
			D(2026, 11, 16), ReleaseDates{CRD: D(2027, 1, 20)}, at(2026, 11, 27, 11, 0), StepHousingReferral, at(2026, 12, 1, 17, 0), SeverityNone},
		{"over a weekend and a bank holiday",
			D(2026, 12, 14), ReleaseDates{CRD: D(2027, 2, 3)}, at(2026, 12, 24, 11, 0), StepHousingReferral, at(2026, 12, 30, 17, 0), SeverityNone},
		// Release Wednesday 3 February 2027; grace would end Wednesday.
		{"capped at the last working day before release",
			D(2027, 1, 25), ReleaseDates{CRD: D(2027, 2, 3)}, at(2027, 2, 1, 10, 0), StepHousingReferral, at(2027, 2, 2, 17, 0), SeverityNone},
		{"on the last working day before release: high at once",
			D(2027, 1, 25), ReleaseDates{CRD: D(2027, 2, 3)}, at(2027, 2, 2, 10, 0), StepIDDocuments, at(2027, 2, 2, 17, 0), SeverityHigh},
		{"opened on release day: due at close of business today",
			D(2027, 1, 25), ReleaseDates{CRD: D(2027, 2, 3)}, at(2027, 2, 3, 9, 0), StepGPRegistration, at(2027, 2, 3, 17, 0), SeverityHigh},
		{"a follow-up is not capped by release",
			D(2026, 9, 1), ReleaseDates{CRD: D(2026, 11, 11)}, at(2026, 11, 27, 11, 0), StepFollowUpFirstWeek, at(2026, 12, 1, 17, 0), SeverityNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := openCase(t, OpenCase{Owner: "officer-1", ReceivedOn: tt.received, Adult: true, Dates: tt.dates}, tt.now)
			s, _ := c.Step(tt.step)
			if !s.Graced || !s.Due.Equal(tt.want) {
				t.Errorf("%s due %s graced %v, want %s graced", tt.step, s.Due, s.Graced, tt.want)
			}
			if got := c.StepUrgency(s, tt.now).Severity; got != tt.severity {
				t.Errorf("severity %s, want %s", got, tt.severity)
			}
			for _, a := range c.Alarms() {
				if a.StepID == tt.step && a.Kind == AlarmDue && a.At.In(London).Hour() != 9 {
					t.Errorf("due-day reminder at %s, want 09:00", a.At.In(London))
				}
			}
		})
	}
}

// TestDueDatesOnWorkingDays: a calendar-day window that ends on a weekend or
// bank holiday moves back before release and forward after it.
func TestDueDatesOnWorkingDays(t *testing.T) {
	tests := []struct {
		name  string
		dates ReleaseDates
		step  string
		want  Date
	}{
		{"medicines R − 2 on a Saturday: the Friday", ReleaseDates{CRD: D(2027, 3, 15)}, StepMedicines, D(2027, 3, 12)},
		{"benefits R − 7 on Good Friday: the Thursday", ReleaseDates{HDCAD: D(2027, 4, 2), CRD: D(2027, 5, 3)}, StepBenefits, D(2027, 3, 25)},
		{"night-one follow-up on a Saturday: the Monday", ReleaseDates{HDCAD: D(2027, 3, 12), CRD: D(2027, 5, 3)}, StepFollowUpNightOne, D(2027, 3, 15)},
		{"first-week follow-up on Easter Monday: the Tuesday", ReleaseDates{CRD: D(2027, 3, 22)}, StepFollowUpFirstWeek, D(2027, 3, 30)},
		{"a working day stays", ReleaseDates{CRD: D(2027, 3, 10)}, StepHousingReferral, D(2027, 1, 13)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := openCase(t, OpenCase{Owner: "officer-1", ReceivedOn: D(2026, 11, 20), Adult: true, Dates: tt.dates}, at(2026, 11, 23, 10, 0))
			if s, _ := c.Step(tt.step); s.DueDate != tt.want || s.Planned != tt.want {
				t.Errorf("%s due %s (planned %s), want %s", tt.step, s.DueDate, s.Planned, tt.want)
			}
		})
	}
	// Plan 1 kept the day the count landed on.
	c := openCase(t, OpenCase{Owner: "officer-1", ReceivedOn: D(2026, 11, 20), Adult: true, Plan: 1, Dates: ReleaseDates{CRD: D(2027, 3, 15)}}, at(2026, 11, 23, 10, 0))
	if s, _ := c.Step(StepMedicines); s.DueDate != D(2027, 3, 13) {
		t.Errorf("plan 1: medicines due %s, want Saturday 2027-03-13", s.DueDate)
	}
}

// TestRecordedReleaseDayStays: the day a release is recorded is the release
// day from then on; the follow-ups count from it.
func TestRecordedReleaseDayStays(t *testing.T) {
	// Release day Thursday 11 March 2027 (CRD Friday 12 March, moved a day
	// earlier); the person actually leaves on the Friday.
	c := openCase(t, OpenCase{Owner: "officer-1", ReceivedOn: D(2026, 11, 20), Adult: true, Dates: ReleaseDates{CRD: D(2027, 3, 12)}}, at(2026, 11, 23, 10, 0))
	if day, _ := c.ReleaseDay(); day != D(2027, 3, 11) {
		t.Fatalf("setup: release day %s", day)
	}
	if err := c.ActOnStep(ActOnStep{Meta: meta("rel"), StepID: StepRelease, Action: ActionComplete}, at(2027, 3, 12, 10, 0)); err != nil {
		t.Fatal(err)
	}
	if day, _ := c.ReleaseDay(); day != D(2027, 3, 12) || c.ReleasedOn != D(2027, 3, 12) {
		t.Errorf("release day %s (released on %s), want the Friday it happened", day, c.ReleasedOn)
	}
	want := map[string]Date{StepFollowUpNightOne: D(2027, 3, 15), StepFollowUpFirstWeek: D(2027, 3, 19), StepFollowUp12Weeks: D(2027, 6, 4)}
	for id, d := range want {
		if s, _ := c.Step(id); s.DueDate != d {
			t.Errorf("%s due %s, want %s", id, s.DueDate, d)
		}
	}
}

// TestSeverityAfterRelease: after release, lateness grades a follow-up, not
// the (negative) days to release.
func TestSeverityAfterRelease(t *testing.T) {
	c := openCase(t, OpenCase{Owner: "officer-1", ReceivedOn: D(2026, 11, 20), Adult: true, Dates: ReleaseDates{CRD: D(2027, 3, 10)}}, at(2026, 11, 23, 10, 0))
	if err := c.ActOnStep(ActOnStep{Meta: meta("rel"), StepID: StepRelease, Action: ActionComplete}, at(2027, 3, 10, 10, 0)); err != nil {
		t.Fatal(err)
	}
	step := func(id string) Step { s, _ := c.Step(id); return s }
	tests := []struct {
		name string
		step Step
		on   Date
		want Severity
	}{
		{"night one 3 days late", step(StepFollowUpNightOne), D(2027, 3, 14), SeverityMedium},
		{"night one 8 days late", step(StepFollowUpNightOne), D(2027, 3, 19), SeverityHigh},
		{"12-week accommodation a day late", step(StepFollowUp12Weeks), D(2027, 6, 3), SeverityMedium},
		{"first week not yet due", step(StepFollowUpFirstWeek), D(2027, 3, 12), SeverityNone},
	}
	for _, tt := range tests {
		if got := c.StepUrgency(tt.step, tt.on.At(12*time.Hour)).Severity; got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
}

// TestStallNeedsWorkDue: the stall clock runs only while a step is open and
// due within the stall window.
func TestStallNeedsWorkDue(t *testing.T) {
	t.Run("no release date and nothing else due", func(t *testing.T) {
		c := openCase(t, OpenCase{Owner: "officer-1", ReceivedOn: D(2026, 11, 20), Adult: true}, at(2026, 11, 23, 10, 0))
		if err := c.ActOnStep(ActOnStep{Meta: meta("imm"), StepID: StepImmediateNeeds, Action: ActionComplete}, at(2026, 11, 23, 11, 0)); err != nil {
			t.Fatal(err)
		}
		if c.Stalled(at(2027, 3, 1, 10, 0)) || slices.ContainsFunc(c.Alarms(), func(a Alarm) bool { return a.Kind == AlarmStalled }) {
			t.Error("a case with nothing due stalled")
		}
	})
	t.Run("released, the next follow-up weeks away", func(t *testing.T) {
		c := openCase(t, OpenCase{Owner: "officer-1", ReceivedOn: D(2026, 11, 20), Adult: true, Dates: ReleaseDates{CRD: D(2027, 3, 10)}}, at(2026, 11, 23, 10, 0))
		for _, s := range c.Steps {
			if s.Status.Open() && s.Kind != KindFollowUp {
				if err := c.ActOnStep(ActOnStep{Meta: meta(s.ID), StepID: s.ID, Action: ActionComplete}, at(2027, 3, 10, 10, 0)); err != nil {
					t.Fatal(err)
				}
			}
		}
		for _, id := range []string{StepFollowUpNightOne, StepFollowUpFirstWeek, StepFollowUpFourWeeks} {
			if err := c.ActOnStep(ActOnStep{Meta: meta(id), StepID: id, Action: ActionComplete}, at(2027, 4, 7, 10, 0)); err != nil {
				t.Fatal(err)
			}
		}
		// The 12-week follow-up is due Wednesday 2 June 2027 17:00; ten
		// working days before it, over the spring bank holiday of 31 May,
		// is Tuesday 18 May 17:00.
		if c.Stalled(at(2027, 5, 18, 16, 0)) {
			t.Error("stalled with nothing due within the stall window")
		}
		if !c.Stalled(at(2027, 5, 18, 17, 0)) {
			t.Error("not stalled with the follow-up due within the window and no progress for weeks")
		}
	})
}

// TestUrgencyOrder pins the board's whole order.
func TestUrgencyOrder(t *testing.T) {
	d := func(n int) *int { return &n }
	rows := []struct {
		name string
		u    Urgency
	}{
		{"critical, release in 3 days", Urgency{Severity: SeverityCritical, DaysOverdue: 1, DaysToRelease: d(3)}},
		{"critical, released", Urgency{Severity: SeverityCritical, DaysOverdue: 30, DaysToRelease: d(-40)}},
		{"high, release in 5 days", Urgency{Severity: SeverityHigh, DaysOverdue: 2, DaysToRelease: d(5)}},
		{"high, release in 10 days, 9 overdue", Urgency{Severity: SeverityHigh, DaysOverdue: 9, DaysToRelease: d(10)}},
		{"high, release in 10 days, 2 overdue, blocking", Urgency{Severity: SeverityHigh, DaysOverdue: 2, DaysToRelease: d(10), Blocking: true}},
		{"high, release in 10 days, 2 overdue", Urgency{Severity: SeverityHigh, DaysOverdue: 2, DaysToRelease: d(10)}},
		{"high, released 3 days ago, 9 overdue", Urgency{Severity: SeverityHigh, DaysOverdue: 9, DaysToRelease: d(-3)}},
		{"high, released 60 days ago, 8 overdue", Urgency{Severity: SeverityHigh, DaysOverdue: 8, DaysToRelease: d(-60)}},
		{"high, no release date", Urgency{Severity: SeverityHigh, DaysOverdue: 30}},
		{"medium, release in 60 days", Urgency{Severity: SeverityMedium, DaysOverdue: 20, DaysToRelease: d(60)}},
		{"medium, released", Urgency{Severity: SeverityMedium, DaysOverdue: 1, DaysToRelease: d(-1)}},
		{"medium, no release date", Urgency{Severity: SeverityMedium, DaysOverdue: 1}},
		{"none, release tomorrow", Urgency{DaysToRelease: d(1)}},
	}
	for i := range rows {
		for j := range rows {
			if got, want := rows[i].u.Less(rows[j].u), i < j; got != want {
				t.Errorf("Less(%q, %q) = %v, want %v", rows[i].name, rows[j].name, got, want)
			}
		}
	}
}

// TestTransferMovesTheSendingEstablishmentsSteps: steps held by any team of
// the sending prison move, not only the case team's.
func TestTransferMovesTheSendingEstablishmentsSteps(t *testing.T) {
	for _, tt := range []struct {
		name      string
		fromTeams []string
		moved     bool
	}{
		{"with the sending establishment's teams", []string{"pvi-resettlement", "pvi-health"}, true},
		{"without them (a command recorded before they were sent)", nil, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			now := at(2026, 11, 23, 10, 0)
			c := openCase(t, OpenCase{Owner: "officer-1", ReceivedOn: D(2026, 11, 20), Adult: true, Dates: ReleaseDates{CRD: D(2027, 3, 10)}}, now)
			if err := c.Assign(Assign{Meta: meta("as"), StepID: StepGPRegistration, Owner: Owner{Staff: "nurse-1", Team: "pvi-health"}}, now); err != nil {
				t.Fatal(err)
			}
			if err := c.Transfer(Transfer{Meta: meta("tr"), To: "BXI", ToTeam: "bxi-resettlement", FromTeams: tt.fromTeams}, now); err != nil {
				t.Fatal(err)
			}
			gp, _ := c.Step(StepGPRegistration)
			if got := gp.Owner == (Owner{Team: "bxi-resettlement"}); got != tt.moved {
				t.Errorf("GP registration owner %+v, moved %v, want moved %v", gp.Owner, got, tt.moved)
			}
		})
	}
}

// withPlan appends a plan version for one test.
func withPlan(t *testing.T, p Plan) {
	t.Helper()
	saved := Plans
	Plans = append(slices.Clip(Plans), p)
	t.Cleanup(func() { Plans = saved })
}

// TestMigratePlan: a case keeps its plan until it is moved, explicitly and
// once.
func TestMigratePlan(t *testing.T) {
	extra := PlanStep{ID: "test-accommodation-check", Title: "Accommodation check", Kind: KindReleasePlan,
		Pathway: Accommodation, Anchor: FromRelease, Due: Shift{Days: -21}}
	now := at(2026, 11, 23, 10, 0)
	old := openCase(t, OpenCase{Owner: "officer-1", ReceivedOn: D(2026, 11, 20), Adult: true, Dates: ReleaseDates{CRD: D(2027, 3, 10)}}, now)
	i := slices.IndexFunc(catalogue, func(e PlanStep) bool { return e.ID == StepRelease })
	withPlan(t, Plan{Version: len(Plans) + 1, Rules: rulesFixed, Steps: slices.Insert(slices.Clone(catalogue), i, extra), Changes: "test: one step more"})
	v := len(Plans)

	later := at(2026, 12, 1, 10, 0)
	if err := old.ChangeReleaseDates(ChangeReleaseDates{Meta: meta("d"), Reason: "recalculation", Dates: ReleaseDates{CRD: D(2027, 3, 17)}}, later); err != nil {
		t.Fatal(err)
	}
	if _, ok := old.Step(extra.ID); ok {
		t.Fatal("a running case gained a step of a newer plan without being moved")
	}
	fresh := openCase(t, OpenCase{Owner: "officer-1", ReceivedOn: D(2026, 11, 20), Adult: true, Dates: ReleaseDates{CRD: D(2027, 3, 10)}}, now)
	if s, ok := fresh.Step(extra.ID); !ok || fresh.Plan != v || s.DueDate != D(2027, 2, 17) {
		t.Fatalf("a new case: plan %d, extra step %+v", fresh.Plan, s)
	}

	preview := old.PreviewPlan(v, later)
	if len(preview.Changes) != 1 || preview.Changes[0].Change != "added" || preview.Changes[0].StepID != extra.ID {
		t.Errorf("preview %+v, want the one added step", preview)
	}
	if err := old.MigratePlan(MigratePlan{Meta: meta("m1"), To: v}, later); err != nil {
		t.Fatal(err)
	}
	if s, ok := old.Step(extra.ID); !ok || old.Plan != v || s.DueDate != D(2027, 2, 24) || s.Owner.Staff != "officer-1" {
		t.Errorf("after the move: plan %d, extra step %+v", old.Plan, s)
	}
	if ids := strings.Join(stepIDs(old), " "); !strings.Contains(ids, StepReleasePlan+" "+extra.ID+" "+StepRelease) {
		t.Errorf("steps out of the plan's order: %s", ids)
	}
	if err := old.MigratePlan(MigratePlan{Meta: meta("m2"), To: v}, later); !errors.Is(err, ErrConflict) {
		t.Errorf("moving again: %v, want a conflict", err)
	}
	if p := old.PreviewPlan(v, later); !p.AlreadyOnPlan {
		t.Errorf("preview of a case already moved: %+v", p)
	}
	for _, to := range []int{1, 0, v + 1} {
		err := old.MigratePlan(MigratePlan{Meta: meta("m3"), To: to}, later)
		if fe, ok := AsFieldErrors(err); !ok || fe[0].Field != "to" {
			t.Errorf("to %d: %v, want a field error on to", to, err)
		}
	}
}

// TestMigratePlanKeepsWhatIsOverdue: moving a plan-1 case to plan 2 re-plans
// under the fixed rules without forgiving an overdue step.
func TestMigratePlanKeepsWhatIsOverdue(t *testing.T) {
	c, now := overdueHousing(t, 1)
	if err := c.MigratePlan(MigratePlan{Meta: meta("m"), To: 2}, now); err != nil {
		t.Fatal(err)
	}
	if h, _ := c.Step(StepHousingReferral); c.Plan != 2 || !h.Due.Equal(at(2027, 1, 13, 17, 0)) || c.EscalationLevel(now) != 2 {
		t.Errorf("plan %d, housing due %s, level %d", c.Plan, h.Due, c.EscalationLevel(now))
	}
}

func stepIDs(c *Case) []string {
	ids := make([]string, len(c.Steps))
	for i, s := range c.Steps {
		ids[i] = s.ID
	}
	return ids
}

// TestPlanOneKeepsItsDateChecks: a change of dates the first rules accepted
// is still accepted on a plan-1 case (its history replays it), and refused
// on a case under the fixed rules.
func TestPlanOneKeepsItsDateChecks(t *testing.T) {
	pedAfterCRD := ReleaseDates{CRD: D(2027, 3, 10), PED: D(2027, 4, 1)}
	for _, tt := range []struct {
		plan    int
		refused bool
	}{{1, false}, {2, true}} {
		c := openCase(t, OpenCase{Owner: "officer-1", ReceivedOn: D(2026, 11, 20), Adult: true, Plan: tt.plan, Dates: ReleaseDates{CRD: D(2027, 3, 10)}}, at(2026, 11, 23, 10, 0))
		err := c.ChangeReleaseDates(ChangeReleaseDates{Meta: meta("d"), Reason: "recalculation", Dates: pedAfterCRD}, at(2026, 12, 1, 10, 0))
		fe, _ := AsFieldErrors(err)
		if got := len(fe) == 1 && fe[0].Field == "release_dates.ped"; got != tt.refused {
			t.Errorf("plan %d: %v, want refused %v", tt.plan, err, tt.refused)
		}
	}
}

// TestResetStartsTheCurrentPlan: a recall starts a new custody under the
// plan the service names; a reset that names none keeps the case's.
func TestResetStartsTheCurrentPlan(t *testing.T) {
	for _, tt := range []struct {
		name string
		plan int
		want int
	}{{"naming the current plan", 2, 2}, {"naming none (recorded before resets named one)", 0, 1}} {
		c := openCase(t, OpenCase{Owner: "officer-1", ReceivedOn: D(2026, 9, 1), Adult: true, Plan: 1, Dates: ReleaseDates{CRD: D(2026, 11, 11)}}, at(2026, 11, 23, 10, 0))
		err := c.Reset(Reset{Meta: meta("x"), Reason: ResetRecall, ReceivedOn: D(2026, 12, 4), Dates: ReleaseDates{PRRD: D(2027, 6, 1)}, Plan: tt.plan}, at(2026, 12, 7, 10, 0))
		if err != nil || c.Plan != tt.want {
			t.Errorf("%s: plan %d (%v), want %d", tt.name, c.Plan, err, tt.want)
		}
	}
}

// TestPauseReasonIsAChoice: the reason travels in the workflow's history, so
// it is a choice from a list; anything more is a note kept in PostgreSQL.
func TestPauseReasonIsAChoice(t *testing.T) {
	tests := []struct {
		name   string
		plan   int
		pause  Pause
		field  string // "" when accepted
		events string
	}{
		{"a listed reason", 2, Pause{Meta: meta("p"), Reason: PauseHospital}, "", "Case paused: Transfer to hospital pending"},
		{"free text", 2, Pause{Meta: meta("p"), Reason: "in hospital with Sam Example"}, "reason", ""},
		{"other without a note", 2, Pause{Meta: Meta{RequestID: "p", By: "officer-1"}, Reason: PauseOther}, "note", ""},
		{"other with a note", 2, Pause{Meta: meta("p"), Reason: PauseOther}, "", "Case paused: Other (see the note)"},
		{"free text recorded under plan 1 still replays", 1, Pause{Meta: meta("p"), Reason: "awaiting court"}, "", "Case paused: awaiting court"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := openCase(t, OpenCase{Owner: "officer-1", ReceivedOn: D(2026, 11, 20), Adult: true, Plan: tt.plan, Dates: ReleaseDates{CRD: D(2027, 3, 10)}}, at(2026, 11, 23, 10, 0))
			err := c.Pause(tt.pause, at(2026, 11, 24, 10, 0))
			if tt.field != "" {
				if fe, ok := AsFieldErrors(err); !ok || fe[0].Field != tt.field || c.Paused {
					t.Errorf("%v (paused %v), want refused on %s", err, c.Paused, tt.field)
				}
				return
			}
			if err != nil || !c.Paused || c.Events[len(c.Events)-1].Text != tt.events {
				t.Errorf("%v, paused %v, last event %q, want %q", err, c.Paused, c.Events[len(c.Events)-1].Text, tt.events)
			}
		})
	}
}
