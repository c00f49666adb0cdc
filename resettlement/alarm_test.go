package resettlement

import (
	"slices"
	"strconv"
	"testing"
	"time"
)

func TestAlarmLadderOverChristmas(t *testing.T) {
	now := at(2026, 11, 23, 10, 0)
	c := openCase(t, OpenCase{Owner: "officer-1", ReceivedOn: D(2026, 11, 20), Adult: true, Dates: ReleaseDates{CRD: D(2027, 3, 10)}}, now)
	want := map[string]time.Time{ // needs assessment due Wed 30 Dec 2026
		"c0/needs-assessment/2026-12-30/reminder":         at(2026, 12, 23, 9, 0), // 3 working days back over the holidays
		"c0/needs-assessment/2026-12-30/due":              at(2026, 12, 30, 9, 0),
		"c0/needs-assessment/2026-12-30/escalation-1":     at(2027, 1, 4, 17, 0), // 2 working days over New Year
		"c0/needs-assessment/2026-12-30/escalation-2":     at(2027, 1, 6, 17, 0),
		"c0/stalled/" + strconv.FormatInt(now.Unix(), 10): at(2026, 12, 7, 10, 0),
	}
	got := map[string]time.Time{}
	for _, a := range c.Alarms() {
		got[a.Key] = a.At
	}
	for k, w := range want {
		if !got[k].Equal(w) {
			t.Errorf("%s at %s, want %s", k, got[k], w)
		}
	}
	next, _ := c.NextAlarm()
	if next.StepID != "immediate-needs" || next.Kind != AlarmReminder {
		t.Errorf("next alarm %+v, want the immediate-needs reminder", next)
	}
}

func TestTakeDueRaisesEachAlarmOnceAndOnlyTheLatestPerStep(t *testing.T) {
	now := at(2026, 11, 23, 10, 0)
	c := openCase(t, OpenCase{Owner: "officer-1", ReceivedOn: D(2026, 11, 20), Adult: true, Dates: ReleaseDates{CRD: D(2027, 3, 10)}}, now)
	for _, s := range c.Steps {
		if s.ID != "immediate-needs" && s.Status.Open() {
			_ = c.ActOnStep(ActOnStep{Meta: meta("x" + s.ID), StepID: s.ID, Action: ActionNotNeeded}, now)
		}
	}
	// Due Mon 23 Nov 17:00: the reminder is in the past when planned.
	first := c.TakeDue(now)
	if len(first) != 1 || first[0].Kind != AlarmDue {
		t.Fatalf("at open: %+v, want one due-today reminder (the earlier reminder is passed over)", first)
	}
	if again := c.TakeDue(now); len(again) != 0 {
		t.Fatalf("raised twice: %+v", again)
	}
	// Nobody looks for eight days: the due reminder and escalation 1 passed together.
	late := at(2026, 11, 26, 18, 0)
	got := c.TakeDue(late)
	if len(got) != 1 || got[0].Kind != AlarmEscalation || got[0].Level != 1 {
		t.Fatalf("late: %+v, want only escalation 1", got)
	}
	got = c.TakeDue(at(2026, 11, 30, 17, 0))
	if len(got) != 1 || got[0].Level != 2 {
		t.Fatalf("7 days overdue: %+v, want escalation 2", got)
	}
	if lvl := c.EscalationLevel(at(2026, 11, 30, 17, 0)); lvl != 2 {
		t.Errorf("escalation level %d", lvl)
	}
}

func TestPausedCaseHasNoAlarms(t *testing.T) {
	now := at(2026, 11, 23, 10, 0)
	c := openCase(t, OpenCase{Owner: "officer-1", ReceivedOn: D(2026, 11, 20), Adult: true, Dates: ReleaseDates{CRD: D(2027, 3, 10)}}, now)
	if err := c.Pause(Pause{Meta: meta("p"), Reason: PauseCourt}, now); err != nil {
		t.Fatal(err)
	}
	if len(c.Alarms()) != 0 || c.Stalled(now.AddDate(0, 1, 0)) {
		t.Error("a paused case raised alarms or stalled")
	}
	if err := c.Resume(Pause{Meta: meta("r")}, now.AddDate(0, 0, 1)); err != nil {
		t.Fatal(err)
	}
	if len(c.Alarms()) == 0 {
		t.Error("resumed case has no alarms")
	}
}

func TestUnassignedNoticeDroppedOnceAssigned(t *testing.T) {
	now := at(2026, 11, 23, 10, 0)
	c := openCase(t, OpenCase{ReceivedOn: D(2026, 11, 20), Adult: true, Dates: ReleaseDates{CRD: D(2027, 3, 10)}}, now)
	if err := c.Assign(Assign{Meta: meta("a"), Owner: Owner{Staff: "officer-2"}}, now); err != nil {
		t.Fatal(err)
	}
	for _, a := range c.TakeDue(now) {
		if a.Kind == AlarmUnassigned {
			t.Error("unassigned notice raised after every step found an owner")
		}
	}
}

func TestStalled(t *testing.T) {
	now := at(2026, 11, 23, 10, 0)
	c := openCase(t, OpenCase{Owner: "officer-1", ReceivedOn: D(2026, 11, 20), Adult: true, Dates: ReleaseDates{CRD: D(2027, 3, 10)}}, now)
	if c.Stalled(at(2026, 12, 4, 10, 0)) {
		t.Error("stalled after 9 working days")
	}
	if !c.Stalled(at(2026, 12, 7, 10, 0)) {
		t.Error("not stalled after 10 working days")
	}
}

func TestPolicyValidate(t *testing.T) {
	if err := DefaultPolicy().Validate(); err != nil {
		t.Errorf("default policy: %v", err)
	}
	p := DefaultPolicy()
	p.Escalations = []Offset{{Days: 7}, {WorkingDays: 2}}
	p.Grace = Offset{}
	fe, _ := AsFieldErrors(p.Validate())
	if len(fe) != 2 {
		t.Errorf("want two errors, got %v", fe)
	}
	seconds := Policy{Grace: Offset{Duration: Duration(5 * time.Second)}, RemindBefore: Offset{Duration: Duration(-2 * time.Second)},
		Escalations: []Offset{{Duration: Duration(3 * time.Second)}, {Duration: Duration(6 * time.Second)}},
		StallAfter:  Offset{Duration: Duration(time.Hour)}, Handover: Offset{Duration: Duration(10 * time.Second)}}
	if err := seconds.Validate(); err != nil {
		t.Errorf("a seconds-scale policy is valid configuration: %v", err)
	}
}

// NextRaise is what TakeDue raises at the next instant that raises
// anything, worked out on a copy: the read model's dispatcher sends exactly
// what the workflow's timer will.
func TestNextRaise(t *testing.T) {
	now := at(2026, 11, 23, 10, 0)
	open := func(owner string) *Case {
		return openCase(t, OpenCase{Owner: owner, ReceivedOn: D(2026, 11, 20), Adult: true, Dates: ReleaseDates{CRD: D(2027, 3, 10)}}, now)
	}
	for _, tc := range []struct {
		name   string
		change func(*Case)
		keys   []string // what it raises, at the instant of the first
		none   bool
	}{
		{name: "opened: the earliest alarm", change: func(c *Case) { c.TakeDue(now) },
			keys: []string{"c0/immediate-needs/2026-11-23/escalation-1"}},
		{name: "before the reminder: the reminder alone", keys: []string{"c0/immediate-needs/2026-11-23/reminder"}},
		{name: "paused: nothing", change: func(c *Case) {
			_ = c.Pause(Pause{Meta: meta("p"), Reason: PauseCourt}, now)
		}, none: true},
		{name: "closed: nothing", change: func(c *Case) { c.Closed = true }, none: true},
		{name: "an unassigned notice since assigned is looked past", change: func(c *Case) {
			c.TakeDue(now)
			later := now.Add(time.Hour)
			if err := c.Assign(Assign{Meta: meta("q"), Owner: Owner{Team: c.Team}}, later); err != nil || c.Queued == 0 {
				t.Fatalf("to the team queue: %v (queued %d)", err, c.Queued)
			}
			if err := c.Assign(Assign{Meta: meta("a"), Owner: Owner{Team: c.Team, Staff: "officer-2"}}, later); err != nil {
				t.Fatal(err)
			}
			if next, _ := c.NextAlarm(); next.Kind != AlarmUnassigned {
				t.Fatalf("next alarm %+v, want the unassigned notice", next)
			}
		}, keys: []string{"c0/immediate-needs/2026-11-23/escalation-1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := open("officer-1")
			if tc.change != nil {
				tc.change(c)
			}
			fired, version := len(c.Fired), c.Version
			got, when := c.NextRaise()
			if len(c.Fired) != fired || c.Version != version {
				t.Fatal("NextRaise changed the case")
			}
			if tc.none {
				if len(got) != 0 || !when.IsZero() {
					t.Fatalf("raises %+v at %s, want nothing", got, when)
				}
				return
			}
			var keys []string
			for _, a := range got {
				keys = append(keys, a.Key)
				if !a.At.Equal(when) {
					t.Errorf("%s at %s, not the instant %s", a.Key, a.At, when)
				}
			}
			if !slices.Equal(keys, tc.keys) {
				t.Fatalf("raises %v, want %v", keys, tc.keys)
			}
			// The workflow's own TakeDue at that instant raises the same.
			var taken []string
			for _, a := range c.TakeDue(when) {
				taken = append(taken, a.Key)
			}
			if !slices.Equal(taken, keys) {
				t.Errorf("TakeDue at %s raises %v, NextRaise said %v", when, taken, keys)
			}
		})
	}
}

// TakeDueSince, on the case as the read model saves it (no list of raised
// keys), raises what the workflow's own TakeDue raises, instant by instant,
// and what a late one raises: the dispatcher can carry a case's alarms
// while its workflow sleeps or is behind.
func TestTakeDueSinceWalksTheLadder(t *testing.T) {
	now := at(2026, 11, 23, 10, 0)
	c := openCase(t, OpenCase{Owner: "officer-1", ReceivedOn: D(2026, 11, 20), Adult: true, Dates: ReleaseDates{CRD: D(2027, 3, 10)}}, now)
	c.TakeDue(now)
	keys := func(as []Alarm) []string {
		var ks []string
		for _, a := range as {
			ks = append(ks, a.Key)
		}
		return ks
	}
	walked := 0
	for {
		_, next := c.NextRaise()
		if next.IsZero() {
			break
		}
		saved := c.Clone()
		saved.Fired = nil
		// A dispatcher three days late folds the passed rungs as the
		// workflow would.
		late, lateSaved := c.Clone(), saved.Clone()
		if w, g := keys(late.TakeDue(next.AddDate(0, 0, 3))), keys(lateSaved.TakeDueSince(next, next.AddDate(0, 0, 3))); !slices.Equal(w, g) {
			t.Fatalf("three days after %s: TakeDueSince raises %v, TakeDue %v", next, g, w)
		}
		want, got := keys(c.TakeDue(next)), keys(saved.TakeDueSince(next, next))
		if !slices.Equal(want, got) || len(want) == 0 {
			t.Fatalf("at %s: TakeDueSince raises %v, the workflow's TakeDue %v", next, got, want)
		}
		if _, w := c.NextRaise(); func() bool { _, g := saved.NextRaise(); return !g.Equal(w) }() {
			t.Fatalf("after %s the next instants differ", next)
		}
		walked++
	}
	if walked < 20 {
		t.Errorf("walked %d instants, want the whole ladder of every step", walked)
	}
}

// Alarm keys are stored (the outbox's unique key, each case's raised list):
// a later cycle, a queue and a stall must keep spelling them as they were.
func TestAlarmKeysOfALaterCycle(t *testing.T) {
	now := at(2026, 11, 23, 10, 0)
	c := openCase(t, OpenCase{ReceivedOn: D(2026, 11, 20), Adult: true, Dates: ReleaseDates{CRD: D(2027, 3, 10)}}, now)
	c.Cycle, c.Queued = 12, 3
	var keys []string
	for _, a := range c.Alarms() {
		keys = append(keys, a.Key)
	}
	for _, want := range []string{
		"c12/needs-assessment/2026-12-30/reminder",
		"c12/needs-assessment/2026-12-30/escalation-2",
		"c12/unassigned/3",
		"c12/stalled/" + strconv.FormatInt(now.Unix(), 10),
	} {
		if !slices.Contains(keys, want) {
			t.Errorf("no alarm %q in %v", want, keys)
		}
	}
}
