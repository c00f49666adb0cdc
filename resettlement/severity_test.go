package resettlement

import (
	"testing"
	"time"
)

func TestSeverity(t *testing.T) {
	// Release Wed 10 March 2027.
	now := at(2026, 11, 23, 10, 0)
	c := openCase(t, OpenCase{Owner: "officer-1", ReceivedOn: D(2026, 11, 20), Adult: true, Dates: ReleaseDates{CRD: D(2027, 3, 10)}}, now)
	step := func(id string) Step { s, _ := c.Step(id); return s }
	tests := []struct {
		name string
		step Step
		on   Date
		want Severity
	}{
		{"not yet due", step("housing-referral"), D(2027, 1, 5), SeverityNone},
		{"overdue, release far off", step("housing-referral"), D(2027, 1, 15), SeverityMedium},
		{"overdue a week", step("housing-referral"), D(2027, 1, 21), SeverityHigh},
		{"overdue housing 3 days before release", step("housing-referral"), D(2027, 3, 7), SeverityCritical},
		{"overdue benefits 3 days before release", step("benefits"), D(2027, 3, 7), SeverityHigh},
		{"anything overdue the day before release", step("benefits"), D(2027, 3, 9), SeverityCritical},
		{"blocking GP a fortnight out", step("gp-registration"), D(2027, 3, 5), SeverityCritical},
	}
	for _, tt := range tests {
		u := c.StepUrgency(tt.step, tt.on.At(12*time.Hour))
		if u.Severity != tt.want {
			t.Errorf("%s: %s (overdue %d, to release %v), want %s", tt.name, u.Severity, u.DaysOverdue, *u.DaysToRelease, tt.want)
		}
	}
}
