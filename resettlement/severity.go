package resettlement

import (
	"fmt"
	"time"
)

// Severity grades an overdue step or stalled case for the managers' board.
// It grows as release approaches: an overdue housing referral three days
// before release is critical, the same step three months out is not.
type Severity int

const (
	SeverityNone Severity = iota
	SeverityLow
	SeverityMedium
	SeverityHigh
	SeverityCritical
)

// Severities lists the grades from none to critical. Read it; never modify it.
var Severities = []Severity{SeverityNone, SeverityLow, SeverityMedium, SeverityHigh, SeverityCritical}

var severityNames = []string{"none", "low", "medium", "high", "critical"}

// Valid reports whether s is one of Severities.
func (s Severity) Valid() bool { return s >= SeverityNone && s <= SeverityCritical }

func (s Severity) String() string { return severityNames[s] }

// MarshalText writes the severity's name.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Urgency is what the board sorts by.
type Urgency struct {
	Severity      Severity `json:"severity"`
	DaysOverdue   int      `json:"days_overdue"`
	DaysToRelease *int     `json:"days_to_release,omitempty"` // nil: no release date known
	Blocking      bool     `json:"blocking"`
}

// Less orders the board: most severe first; then cases releasing soonest,
// then released cases, then cases with no release date; then most overdue;
// then release-blocking.
func (u Urgency) Less(v Urgency) bool {
	if u.Severity != v.Severity {
		return u.Severity > v.Severity
	}
	if ur, vr := u.releaseRank(), v.releaseRank(); ur != vr {
		return ur < vr
	}
	if u.DaysOverdue != v.DaysOverdue {
		return u.DaysOverdue > v.DaysOverdue
	}
	return u.Blocking && !v.Blocking
}

// releaseRank orders by release: days to go for a release to come, then
// every released case alike, then no release date.
func (u Urgency) releaseRank() int {
	switch {
	case u.DaysToRelease == nil:
		return 1 << 30
	case *u.DaysToRelease < 0:
		return 1 << 29
	}
	return *u.DaysToRelease
}

func daysOr(p *int, def int) int {
	if p == nil {
		return def
	}
	return *p
}

// StepUrgency grades one step at now.
//
// Before release, an overdue step is medium; high within 14 days of release,
// after 7 days overdue, or for work release depends on (blocking or
// accommodation) within 28 days; critical within 7 days for that work and
// within 2 days for any. Work before release still open on or after the last
// working day before release is at least high, overdue or not: its grace
// could not reach past release (Case.graceDue). After release the days to
// release are negative and mean nothing: an overdue follow-up is medium,
// high after 7 days overdue.
func (c *Case) StepUrgency(s Step, now time.Time) Urgency {
	u := Urgency{Blocking: s.Blocking}
	today := DateOf(now)
	day, hasRelease := c.ReleaseDay()
	if hasRelease {
		d := today.DaysUntil(day)
		u.DaysToRelease = &d
	}
	released := c.Released() || (hasRelease && today.After(day))
	lastChance := hasRelease && !released && s.Status.Open() && s.Kind != KindFollowUp && s.Kind != KindRelease &&
		!today.Before(EnglandAndWales.AddWorkingDays(day, -1))
	if !s.Overdue(now) {
		if lastChance {
			u.Severity = SeverityHigh
		}
		return u
	}
	u.DaysOverdue = max(s.DueDate.DaysUntil(today), 0)
	u.Severity = SeverityMedium
	switch {
	case released:
		if u.DaysOverdue >= 7 {
			u.Severity = SeverityHigh
		}
		return u
	case !hasRelease:
		return u
	}
	toRelease := *u.DaysToRelease
	releaseCritical := s.Blocking || s.Pathway == Accommodation
	switch {
	case toRelease <= 7 && releaseCritical, toRelease <= 2:
		u.Severity = SeverityCritical
	case toRelease <= 14, u.DaysOverdue >= 7, releaseCritical && toRelease <= 28, lastChance:
		u.Severity = SeverityHigh
	}
	return u
}

// CaseUrgency grades the case: its worst open step, or the stall if worse.
func (c *Case) CaseUrgency(now time.Time) Urgency {
	var worst Urgency
	first := true
	for _, s := range c.Steps {
		if !s.Status.Open() {
			continue
		}
		u := c.StepUrgency(s, now)
		if first || u.Less(worst) {
			worst, first = u, false
		}
	}
	if c.Stalled(now) {
		stall := SeverityMedium
		if d := worst.DaysToRelease; d != nil && *d >= 0 && *d <= 28 {
			stall = SeverityHigh
		}
		if d := worst.DaysToRelease; d != nil && *d >= 0 && *d <= 7 {
			stall = SeverityCritical
		}
		worst.Severity = max(worst.Severity, stall)
	}
	return worst
}

// UnmarshalText reads a severity's name.
func (s *Severity) UnmarshalText(b []byte) error {
	for i, n := range severityNames {
		if n == string(b) {
			*s = Severity(i)
			return nil
		}
	}
	return fmt.Errorf("%q is not a severity (none, low, medium, high, critical)", b)
}
