package resettlement

import (
	"time"
)

// BoardLine is one line of the managers' board as the case grades it at a
// moment: an open step (StepID set) or the stalled case (StepID ""). A line
// with severity none is not shown; it is kept so that the moment it will
// need grading again is known.
//
// The board is read far more often than cases change, and at national scale
// (hundreds of thousands of cases) it cannot grade every case on every
// read. So each case grades itself when it is saved, and says in Until when
// its grading can next change without anything happening to it — a step
// falling due, release drawing within a severity threshold, a step becoming
// a week overdue, the stall clock running out. The read model stores the
// lines and re-grades a case only when Until has passed; a board page is
// then an index range scan in the order Order gives.
type BoardLine struct {
	StepID  string
	Owner   Owner
	Pathway Pathway
	Urgency Urgency
	// Order is the line's place on the board: BoardOrder, most urgent first.
	Order BoardOrder
	// Until is when the grading may next change; zero when only a change to
	// the case can change it.
	Until time.Time
}

// BoardOrder is the board's sort key, in columns a database can index: it
// orders lines as Urgency.Less does (severity; releasing soonest, then
// released, then no release date; most overdue; release-blocking). Unlike
// Urgency it does not change from one day to the next: days to release
// become the release day, days overdue the due date (NoDate for a line not
// yet overdue). The one pair it orders where Less sees a tie is, on the day
// a step falls due, a step already overdue before one not yet overdue.
type BoardOrder struct {
	Severity Severity
	// ReleaseGroup: 0 a release to come, 1 released, 2 no release date.
	ReleaseGroup int
	// ReleaseDay is the release day in group 0, else NoDate.
	ReleaseDay Date
	// DueDate is the overdue step's due date (NoDate while it is not
	// overdue); for the stalled case, its most urgent step's.
	DueDate  Date
	Blocking bool
}

// NoDate sorts after every real date in a BoardOrder.
var NoDate = D(9999, time.December, 31)

// BoardLines grades the case at now: one line per open step with a due
// date, and one for the case's stall. A paused or closed case has none.
func (c *Case) BoardLines(now time.Time) []BoardLine {
	if c.Closed || c.Paused {
		return nil
	}
	var lines []BoardLine
	worst, first := BoardLine{}, true
	for _, s := range c.Steps {
		if !s.Status.Open() || s.OnHold() {
			continue
		}
		l := BoardLine{StepID: s.ID, Owner: s.Owner, Pathway: s.Pathway, Urgency: c.StepUrgency(s, now)}
		due := NoDate
		if s.Overdue(now) {
			due = s.DueDate
		}
		l.Order = c.boardOrder(l.Urgency, due, s.Blocking)
		l.Until = c.regradeAt(s, now)
		lines = append(lines, l)
		if first || l.Urgency.Less(worst.Urgency) || (!worst.Urgency.Less(l.Urgency) && l.Order.DueDate.Before(worst.Order.DueDate)) {
			worst, first = l, false
		}
	}
	stall := BoardLine{Owner: Owner{Staff: c.Owner, Team: c.Team}, Order: BoardOrder{ReleaseGroup: 2, ReleaseDay: NoDate, DueDate: NoDate}}
	if at, ok := c.stallAt(); ok && now.Before(at) {
		stall.Until = at
	} else if ok {
		stall.Urgency = c.CaseUrgency(now)
		due := NoDate
		if !first {
			due = worst.Order.DueDate
		}
		stall.Order = c.boardOrder(stall.Urgency, due, false)
		stall.Until = c.nextThreshold(now, Date{})
	}
	return append(lines, stall)
}

// boardOrder turns an urgency into its board order.
func (c *Case) boardOrder(u Urgency, due Date, blocking bool) BoardOrder {
	o := BoardOrder{Severity: u.Severity, ReleaseGroup: 2, ReleaseDay: NoDate, DueDate: due, Blocking: blocking}
	if u.DaysToRelease != nil {
		o.ReleaseGroup = 1
		if *u.DaysToRelease >= 0 {
			day, _ := c.ReleaseDay()
			o.ReleaseGroup, o.ReleaseDay = 0, day
		}
	}
	return o
}

// regradeAt is when a step's grading can next change by the clock alone:
// just after it falls due (a step is overdue once its due instant has
// passed; a microsecond is the database's resolution), or at the start of
// the next day that crosses one of StepUrgency's thresholds.
func (c *Case) regradeAt(s Step, now time.Time) time.Time {
	next := c.nextThreshold(now, s.DueDate)
	if overdue := s.Due.Add(time.Microsecond); !now.After(s.Due) && (next.IsZero() || overdue.Before(next)) {
		next = overdue
	}
	return next
}

// nextThreshold is the start (London midnight) of the first day after now's
// on which StepUrgency or CaseUrgency may grade differently: 28, 14, 7 and 2
// days before release, the last working day before it, the day after it,
// and, for a step due on due, the day it is a week overdue. Zero if none is
// ahead.
func (c *Case) nextThreshold(now time.Time, due Date) time.Time {
	today := DateOf(now)
	var days []Date
	if day, ok := c.ReleaseDay(); ok {
		days = append(days, day.AddDays(-28), day.AddDays(-14), day.AddDays(-7), day.AddDays(-2),
			EnglandAndWales.AddWorkingDays(day, -1), day.AddDays(1))
	}
	if !due.IsZero() {
		days = append(days, due.AddDays(7))
	}
	var next Date
	for _, d := range days {
		if d.After(today) && (next.IsZero() || d.Before(next)) {
			next = d
		}
	}
	if next.IsZero() {
		return time.Time{}
	}
	return next.At(0)
}

// Before reports whether a line ordered o comes before one ordered p on the
// board (the order of the database's board index).
func (o BoardOrder) Before(p BoardOrder) bool {
	switch {
	case o.Severity != p.Severity:
		return o.Severity > p.Severity
	case o.ReleaseGroup != p.ReleaseGroup:
		return o.ReleaseGroup < p.ReleaseGroup
	case o.ReleaseDay != p.ReleaseDay:
		return o.ReleaseDay.Before(p.ReleaseDay)
	case o.DueDate != p.DueDate:
		return o.DueDate.Before(p.DueDate)
	}
	return o.Blocking && !p.Blocking
}
