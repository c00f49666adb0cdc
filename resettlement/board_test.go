package resettlement

import (
	"fmt"
	"testing"
	"time"
)

// boardCases are cases in every state the board grades: before release with
// steps overdue and not, graced, released with follow-ups late, stalled,
// without a release date.
func boardCases(t *testing.T) []*Case {
	t.Helper()
	opened := at(2026, 11, 23, 10, 0)
	var cs []*Case
	for i, dates := range []ReleaseDates{
		{CRD: D(2027, 3, 10)}, {CRD: D(2027, 1, 20)}, {CRD: D(2026, 12, 16)}, {HDCAD: D(2027, 2, 5), CRD: D(2027, 4, 1)}, {},
	} {
		c := openCase(t, OpenCase{CaseID: fmt.Sprintf("c%d", i), Owner: "officer-1", ReceivedOn: D(2026, 11, 16), Adult: true, Dates: dates}, opened)
		cs = append(cs, c)
	}
	released := openCase(t, OpenCase{CaseID: "released", Owner: "officer-1", ReceivedOn: D(2026, 11, 16), Adult: true, Dates: ReleaseDates{CRD: D(2026, 12, 16)}}, opened)
	if err := released.ActOnStep(ActOnStep{Meta: meta("rel"), StepID: StepRelease, Action: ActionComplete}, at(2026, 12, 16, 9, 0)); err != nil {
		t.Fatal(err)
	}
	return append(cs, released)
}

// TestBoardLinesHoldUntilTheyRegrade: a line's grading stays what it was
// from the moment it was graded until its Until, so the read model may keep
// it that long; and the board's index order never contradicts Urgency.Less.
func TestBoardLinesHoldUntilTheyRegrade(t *testing.T) {
	cases := boardCases(t)
	for start := at(2026, 11, 24, 8, 0); start.Before(at(2027, 6, 1, 0, 0)); start = start.Add(101 * time.Hour) {
		var shown []BoardLine // every case's lines graded at start
		for _, c := range cases {
			lines := c.BoardLines(start)
			if len(lines) == 0 {
				t.Fatalf("%s: no lines at %s", c.ID, start)
			}
			for _, l := range lines {
				if l.Urgency.Severity > SeverityNone {
					shown = append(shown, l)
				}
			}
			for probe := start.Add(time.Hour); probe.Before(start.Add(60 * 24 * time.Hour)); probe = probe.Add(7 * time.Hour) {
				later := c.BoardLines(probe)
				for _, l := range lines {
					if !l.Until.IsZero() && !probe.Before(l.Until) {
						continue
					}
					if again := lineAt(later, l.StepID); again.Order != l.Order || again.Urgency.Severity != l.Urgency.Severity {
						t.Fatalf("%s/%q graded at %s (%+v) until %s, but at %s it is %+v", c.ID, l.StepID, start, l.Order, l.Until, probe, again.Order)
					}
				}
			}
		}
		for i, a := range shown {
			for _, b := range shown[i:] {
				if (a.Order.DueDate == NoDate) != (b.Order.DueDate == NoDate) && a.Urgency.DaysOverdue == 0 && b.Urgency.DaysOverdue == 0 {
					continue // the one pair BoardOrder orders where Less ties
				}
				if a.Urgency.Less(b.Urgency) && b.Order.Before(a.Order) || b.Urgency.Less(a.Urgency) && a.Order.Before(b.Order) {
					t.Fatalf("at %s: order %+v / %+v contradicts urgency %+v / %+v", start, a.Order, b.Order, a.Urgency, b.Urgency)
				}
			}
		}
	}
}

func lineAt(lines []BoardLine, stepID string) BoardLine {
	for _, l := range lines {
		if l.StepID == stepID {
			return l
		}
	}
	return BoardLine{}
}

// TestBoardLineRegradesWhenAStepFallsDue pins the instants for one step.
func TestBoardLineRegradesWhenAStepFallsDue(t *testing.T) {
	c := openCase(t, OpenCase{Owner: "officer-1", ReceivedOn: D(2026, 11, 20), Adult: true, Dates: ReleaseDates{CRD: D(2027, 3, 10)}}, at(2026, 11, 23, 10, 0))
	housing := lineAt(c.BoardLines(at(2027, 1, 10, 12, 0)), StepHousingReferral)
	if housing.Urgency.Severity != SeverityNone || !housing.Until.Equal(at(2027, 1, 13, 17, 0).Add(time.Microsecond)) {
		t.Errorf("before due: %s until %s, want none until just after the due instant 2027-01-13 17:00", housing.Urgency.Severity, housing.Until)
	}
	housing = lineAt(c.BoardLines(housing.Until), StepHousingReferral)
	want := BoardOrder{Severity: SeverityMedium, ReleaseDay: D(2027, 3, 10), DueDate: D(2027, 1, 13), Blocking: true}
	if housing.Order != want || !housing.Until.Equal(at(2027, 1, 20, 0, 0)) {
		t.Errorf("just overdue: %+v until %s, want %+v until a week overdue (2027-01-20 00:00)", housing.Order, housing.Until, want)
	}
	housing = lineAt(c.BoardLines(at(2027, 1, 20, 0, 0)), StepHousingReferral)
	if housing.Urgency.Severity != SeverityHigh || !housing.Until.Equal(at(2027, 2, 10, 0, 0)) {
		t.Errorf("a week overdue: %s until %s, want high until 28 days before release (2027-02-10)", housing.Urgency.Severity, housing.Until)
	}
}
