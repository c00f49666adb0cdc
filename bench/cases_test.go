package main

import (
	"slices"
	"testing"
	"time"

	"github.com/throughgate/throughgate/resettlement"
)

// TestSyntheticMix checks the synthetic caseload has the mix issue 11
// asks for: about 30 % of cases with an overdue step, some stalled, and
// released cases in follow-up, every one open.
func TestSyntheticMix(t *testing.T) {
	now := time.Now()
	const n = 4000
	var overdue, stalled, released, queued int
	t0 := time.Now()
	for i := range n {
		sc := synthesize(i, now)
		if sc.Case.Closed {
			t.Fatalf("case %d is closed", i)
		}
		if slices.ContainsFunc(sc.Case.Steps, func(s resettlement.Step) bool { return s.Overdue(now) }) {
			overdue++
		}
		if sc.Stalled {
			stalled++
		}
		if sc.Case.Released() {
			released++
		}
		if sc.Case.Owner == "" {
			queued++
		}
	}
	t.Logf("%d cases in %s: overdue %d, stalled %d, released %d, queued %d", n, time.Since(t0), overdue, stalled, released, queued)
	for _, c := range []struct {
		what     string
		got      int
		min, max float64
	}{
		{"with an overdue step", overdue, 0.25, 0.35},
		{"stalled", stalled, 0.02, 0.12},
		{"released, in follow-up", released, 0.25, 0.55},
	} {
		if f := float64(c.got) / n; f < c.min || f > c.max {
			t.Errorf("%.1f %% of cases %s, want %.0f–%.0f %%", 100*f, c.what, 100*c.min, 100*c.max)
		}
	}
}
