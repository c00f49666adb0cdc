package app

import (
	"testing"
	"time"

	"github.com/throughgate/throughgate/resettlement"
)

// TestLastMonday: the chart's week ends are Mondays' midnights in London,
// including across the clock changes.
func TestLastMonday(t *testing.T) {
	london := resettlement.London
	for _, tc := range []struct{ at, want time.Time }{
		{time.Date(2026, 11, 29, 21, 0, 0, 0, london), time.Date(2026, 11, 23, 0, 0, 0, 0, london)}, // Sunday
		{time.Date(2026, 11, 30, 0, 0, 0, 0, london), time.Date(2026, 11, 30, 0, 0, 0, 0, london)},  // Monday's midnight itself
		{time.Date(2026, 11, 30, 23, 59, 0, 0, london), time.Date(2026, 11, 30, 0, 0, 0, 0, london)},
		{time.Date(2026, 3, 31, 9, 0, 0, 0, london), time.Date(2026, 3, 30, 0, 0, 0, 0, london)},    // BST began on Sunday 29 March
		{time.Date(2026, 10, 25, 12, 0, 0, 0, london), time.Date(2026, 10, 19, 0, 0, 0, 0, london)}, // GMT again that Sunday
		{time.Date(2026, 11, 29, 23, 30, 0, 0, time.UTC), time.Date(2026, 11, 23, 0, 0, 0, 0, london)},
	} {
		if got := lastMonday(tc.at); !got.Equal(tc.want) {
			t.Errorf("lastMonday(%s) = %s, want %s", tc.at, got, tc.want)
		}
	}
}
