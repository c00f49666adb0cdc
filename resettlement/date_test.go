package resettlement

import (
	"testing"
	"time"
)

func TestDateString(t *testing.T) {
	for _, tc := range []struct {
		d    Date
		want string
	}{
		{Date{}, ""},
		{D(2026, 1, 2), "2026-01-02"},
		{D(2027, 12, 31), "2027-12-31"},
		{Date{999, time.March, 7}, "0999-03-07"},
		{Date{12345, time.October, 10}, "12345-10-10"},
	} {
		if got := tc.d.String(); got != tc.want {
			t.Errorf("%#v.String() = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestAddDaysKeepsTheLondonDate(t *testing.T) {
	// Across both clock changes of 2026 and a year's end.
	for _, tc := range []struct {
		d    Date
		n    int
		want Date
	}{
		{D(2026, 3, 28), 1, D(2026, 3, 29)},
		{D(2026, 3, 29), 1, D(2026, 3, 30)},
		{D(2026, 10, 24), 1, D(2026, 10, 25)},
		{D(2026, 10, 25), 1, D(2026, 10, 26)},
		{D(2026, 12, 31), 1, D(2027, 1, 1)},
		{D(2027, 1, 1), -1, D(2026, 12, 31)},
		{D(2026, 1, 31), 30, D(2026, 3, 2)},
	} {
		if got := tc.d.AddDays(tc.n); got != tc.want {
			t.Errorf("%s.AddDays(%d) = %s, want %s", tc.d, tc.n, got, tc.want)
		}
	}
}
