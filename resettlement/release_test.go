package resettlement

import (
	"errors"
	"fmt"
	"testing"
)

func TestTargetPrecedence(t *testing.T) {
	tests := []struct {
		name   string
		dates  ReleaseDates
		want   Date
		source string
		kind   ReleaseKind
	}{
		{"confirmed over everything", ReleaseDates{Confirmed: D(2027, 1, 5), APD: D(2027, 2, 1), CRD: D(2027, 3, 1)}, D(2027, 1, 5), "confirmed", ReleaseParole},
		{"confirmed alone", ReleaseDates{Confirmed: D(2027, 1, 5)}, D(2027, 1, 5), "confirmed", ReleaseStandard},
		{"APD over HDCAD and CRD", ReleaseDates{APD: D(2027, 2, 1), HDCAD: D(2027, 1, 1), CRD: D(2027, 3, 1)}, D(2027, 2, 1), "APD", ReleaseParole},
		{"HDCAD over CRD", ReleaseDates{HDCAD: D(2027, 1, 1), HDCED: D(2026, 12, 1), CRD: D(2027, 3, 1)}, D(2027, 1, 1), "HDCAD", ReleaseHDC},
		{"the later of CRD and ARD: ARD", ReleaseDates{CRD: D(2027, 3, 1), ARD: D(2027, 4, 1)}, D(2027, 4, 1), "ARD", ReleaseStandard},
		{"the later of CRD and ARD: CRD", ReleaseDates{CRD: D(2027, 4, 1), ARD: D(2027, 3, 1)}, D(2027, 4, 1), "CRD", ReleaseStandard},
		{"after a recall the later PRRD wins over the CRD", ReleaseDates{CRD: D(2026, 11, 11), PRRD: D(2027, 6, 1)}, D(2027, 6, 1), "PRRD", ReleaseStandard},
		{"an NPD later than the PRRD wins", ReleaseDates{PRRD: D(2027, 5, 1), NPD: D(2027, 6, 1)}, D(2027, 6, 1), "NPD", ReleaseStandard},
		{"equal dates are named ARD, CRD, NPD, PRRD in that order", ReleaseDates{PRRD: D(2027, 5, 1), CRD: D(2027, 5, 1)}, D(2027, 5, 1), "CRD", ReleaseStandard},
		{"NPD alone", ReleaseDates{NPD: D(2027, 6, 1)}, D(2027, 6, 1), "NPD", ReleaseStandard},
		{"eligibility alone is no release date", ReleaseDates{HDCED: D(2027, 1, 1), PED: D(2027, 1, 1)}, Date{}, "", ReleaseStandard},
		{"expiry dates alone are no release date", ReleaseDates{SED: D(2028, 1, 1), LED: D(2028, 1, 1), TED: D(2027, 1, 1)}, Date{}, "", ReleaseStandard},
	}
	for _, tt := range tests {
		got, src, ok := tt.dates.Target()
		if got != tt.want || src != tt.source || ok != (tt.source != "") || tt.dates.Kind() != tt.kind {
			t.Errorf("%s: Target() = %s %s %v kind %s, want %s %s kind %s", tt.name, got, src, ok, tt.dates.Kind(), tt.want, tt.source, tt.kind)
		}
	}
}

// TestKindFollowsThePower checks the kind of release comes from the dates
// that record a decision (APD, HDCAD, the indeterminate flag), also when a
// confirmed date is the target.
func TestKindFollowsThePower(t *testing.T) {
	tests := []struct {
		name  string
		dates ReleaseDates
		want  ReleaseKind
	}{
		{"confirmed date of a Parole Board release", ReleaseDates{Confirmed: D(2027, 1, 8), APD: D(2027, 1, 8), PED: D(2026, 12, 1)}, ReleaseParole},
		{"confirmed date of an HDC release", ReleaseDates{Confirmed: D(2027, 1, 8), HDCAD: D(2027, 1, 8), CRD: D(2027, 4, 1)}, ReleaseHDC},
		{"confirmed date of an indeterminate sentence", ReleaseDates{Confirmed: D(2027, 1, 8), APD: D(2027, 1, 8), Indeterminate: true}, ReleaseIndeterminate},
		{"confirmed date of a conditional release", ReleaseDates{Confirmed: D(2027, 1, 8), CRD: D(2027, 1, 8), HDCED: D(2026, 10, 1)}, ReleaseStandard},
		{"APD and HDCAD: parole, as the target", ReleaseDates{APD: D(2027, 2, 1), HDCAD: D(2027, 1, 1)}, ReleaseParole},
		{"HDC eligibility alone is no HDC release", ReleaseDates{HDCED: D(2026, 10, 1), CRD: D(2027, 1, 8)}, ReleaseStandard},
		{"indeterminate with no date yet", ReleaseDates{Indeterminate: true, TED: D(2027, 1, 1)}, ReleaseIndeterminate},
		{"a recall", ReleaseDates{PRRD: D(2027, 1, 8), CRD: D(2026, 6, 1)}, ReleaseStandard},
	}
	for _, tt := range tests {
		if got := tt.dates.Kind(); got != tt.want {
			t.Errorf("%s: Kind() = %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestReleaseDatesValidate(t *testing.T) {
	tests := []struct {
		name   string
		dates  ReleaseDates
		fields []string // the fields at fault, in order; none for consistent dates
	}{
		{"a consistent determinate sentence", ReleaseDates{HDCED: D(2027, 1, 1), HDCAD: D(2027, 2, 1), CRD: D(2027, 5, 1), SED: D(2028, 5, 1), LED: D(2028, 5, 1)}, nil},
		{"a consistent extended sentence", ReleaseDates{PED: D(2027, 1, 1), APD: D(2027, 3, 1), CRD: D(2028, 1, 1), SED: D(2031, 1, 1), LED: D(2031, 1, 1)}, nil},
		{"HDCAD after CRD", ReleaseDates{HDCAD: D(2027, 6, 1), CRD: D(2027, 5, 1)}, []string{"release_dates.hdcad"}},
		{"HDCAD on the CRD is not refused", ReleaseDates{HDCAD: D(2027, 5, 1), CRD: D(2027, 5, 1)}, nil},
		{"HDCED after CRD", ReleaseDates{HDCED: D(2027, 6, 1), CRD: D(2027, 5, 1)}, []string{"release_dates.hdced"}},
		{"PED after CRD", ReleaseDates{PED: D(2027, 6, 1), CRD: D(2027, 5, 1)}, []string{"release_dates.ped"}},
		{"CRD after SED", ReleaseDates{CRD: D(2028, 6, 1), SED: D(2028, 5, 1)}, []string{"release_dates.crd"}},
		{"APD after SED", ReleaseDates{APD: D(2028, 6, 1), SED: D(2028, 5, 1)}, []string{"release_dates.apd"}},
		{"PRRD after SED", ReleaseDates{PRRD: D(2028, 6, 1), SED: D(2028, 5, 1)}, []string{"release_dates.prrd"}},
		{"confirmed after SED", ReleaseDates{Confirmed: D(2028, 6, 1), CRD: D(2028, 4, 1), SED: D(2028, 5, 1)}, []string{"release_dates.confirmed"}},
		{"HDCAD before HDCED", ReleaseDates{HDCED: D(2027, 2, 1), HDCAD: D(2027, 1, 1), CRD: D(2027, 5, 1)}, []string{"release_dates.hdcad"}},
		{"APD before PED", ReleaseDates{PED: D(2027, 2, 1), APD: D(2027, 1, 1)}, []string{"release_dates.apd"}},
		{"LED before SED", ReleaseDates{CRD: D(2027, 5, 1), SED: D(2028, 5, 1), LED: D(2028, 4, 1)}, []string{"release_dates.led"}},
		{"LED before SED on an indeterminate sentence is not refused", ReleaseDates{SED: D(2028, 5, 1), LED: D(2028, 4, 1), Indeterminate: true}, nil},
		{"one date at fault is named once", ReleaseDates{HDCAD: D(2028, 6, 1), CRD: D(2028, 4, 1), SED: D(2028, 5, 1)}, []string{"release_dates.hdcad"}},
		{"every date at fault is named", ReleaseDates{HDCAD: D(2027, 6, 1), PED: D(2027, 6, 1), CRD: D(2027, 5, 1)}, []string{"release_dates.hdcad", "release_dates.ped"}},
	}
	for _, tt := range tests {
		err := tt.dates.Validate()
		fe, _ := AsFieldErrors(err)
		var got []string
		for _, f := range fe {
			got = append(got, f.Field)
		}
		if len(got) != len(tt.fields) || err != nil && len(fe) == 0 {
			t.Errorf("%s: Validate() = %v, want fields %v", tt.name, err, tt.fields)
			continue
		}
		for i := range got {
			if got[i] != tt.fields[i] {
				t.Errorf("%s: Validate() = %v, want fields %v", tt.name, err, tt.fields)
			}
		}
	}
}

func TestReleaseDay(t *testing.T) {
	cal := EnglandAndWales
	tests := []struct {
		name   string
		target Date
		kind   ReleaseKind
		adult  bool
		served int
		want   Date
	}{
		{"an ordinary Tuesday", D(2026, 12, 1), ReleaseStandard, true, 100, D(2026, 12, 1)},
		{"Friday moves to Thursday", D(2026, 12, 4), ReleaseStandard, true, 100, D(2026, 12, 3)},
		{"Saturday goes to Friday then Thursday", D(2026, 12, 5), ReleaseStandard, true, 100, D(2026, 12, 3)},
		{"Sunday goes to Friday then Thursday", D(2026, 12, 6), ReleaseStandard, true, 100, D(2026, 12, 3)},
		{"Thursday stays", D(2026, 12, 3), ReleaseStandard, true, 100, D(2026, 12, 3)},

		// Who the early release is for: everyone else gets s.23(3) only.
		{"HDC on a Friday stays", D(2026, 12, 4), ReleaseHDC, true, 100, D(2026, 12, 4)},
		{"HDC on a Sunday goes to Friday", D(2026, 12, 6), ReleaseHDC, true, 100, D(2026, 12, 4)},
		{"HDC on the Friday before a bank holiday Monday stays", D(2026, 5, 22), ReleaseHDC, true, 100, D(2026, 5, 22)},
		{"parole on a Friday stays", D(2026, 12, 4), ReleaseParole, true, 100, D(2026, 12, 4)},
		{"parole on a Saturday goes to Friday", D(2026, 12, 5), ReleaseParole, true, 100, D(2026, 12, 4)},
		{"indeterminate on a Friday stays", D(2026, 12, 4), ReleaseIndeterminate, true, 100, D(2026, 12, 4)},
		{"indeterminate on Good Friday goes to Thursday", D(2026, 4, 3), ReleaseIndeterminate, true, 100, D(2026, 4, 2)},
		{"a child on a Friday stays", D(2026, 12, 4), ReleaseStandard, false, 100, D(2026, 12, 4)},
		{"a child on Christmas Eve 2029 stays", D(2029, 12, 24), ReleaseStandard, false, 100, D(2029, 12, 24)},
		{"a child on Boxing Day 2026 (Saturday) goes to Thursday 24th", D(2026, 12, 26), ReleaseStandard, false, 100, D(2026, 12, 24)},
		{"27 days served stays", D(2026, 12, 4), ReleaseStandard, true, 27, D(2026, 12, 4)},
		{"27 days served on a Sunday goes to Friday", D(2026, 12, 6), ReleaseStandard, true, 27, D(2026, 12, 4)},
		{"exactly 28 days served moves", D(2026, 12, 4), ReleaseStandard, true, 28, D(2026, 12, 3)},

		// Easter 2026: Good Friday 3 April, Easter Monday 6 April.
		{"Thursday before Good Friday 2026", D(2026, 4, 2), ReleaseStandard, true, 100, D(2026, 4, 1)},
		{"Good Friday 2026", D(2026, 4, 3), ReleaseStandard, true, 100, D(2026, 4, 1)},
		{"Easter Monday 2026", D(2026, 4, 6), ReleaseStandard, true, 100, D(2026, 4, 1)},
		{"Tuesday after Easter 2026 stays", D(2026, 4, 7), ReleaseStandard, true, 100, D(2026, 4, 7)},
		{"Friday before the Easter 2027 weekend (Good Friday 26 March)", D(2027, 3, 26), ReleaseStandard, true, 100, D(2027, 3, 24)},

		// Fridays before a bank holiday Monday.
		{"Friday before the spring bank holiday 2026", D(2026, 5, 22), ReleaseStandard, true, 100, D(2026, 5, 21)},
		{"spring bank holiday Monday 2026", D(2026, 5, 25), ReleaseStandard, true, 100, D(2026, 5, 21)},
		{"Friday before the early May bank holiday 2026", D(2026, 5, 1), ReleaseStandard, true, 100, D(2026, 4, 30)},
		{"Friday before the summer bank holiday 2026", D(2026, 8, 28), ReleaseStandard, true, 100, D(2026, 8, 27)},
		{"Friday 1 March in a common year", D(2030, 3, 1), ReleaseStandard, true, 100, D(2030, 2, 28)},

		// calculate-release-dates-api's NonFridayReleaseServiceTest, on the
		// real 2023 calendar (its fixture swaps the names of Good Friday,
		// 7 April, and Easter Monday, 10 April; the answers are the same).
		{"MoJ: Thursday before Good Friday results in Wednesday", D(2023, 4, 6), ReleaseStandard, true, 100, D(2023, 4, 5)},
		{"MoJ: Easter Monday results in Wednesday", D(2023, 4, 10), ReleaseStandard, true, 100, D(2023, 4, 5)},
		{"MoJ: bank holiday Monday results in previous Thursday", D(2023, 5, 1), ReleaseStandard, true, 100, D(2023, 4, 27)},
		{"MoJ: Friday results in Thursday", D(2023, 10, 6), ReleaseStandard, true, 100, D(2023, 10, 5)},
		{"MoJ: Thursday stays as Thursday", D(2023, 10, 5), ReleaseStandard, true, 100, D(2023, 10, 5)},
		{"MoJ: weekend results in Thursday", D(2023, 10, 8), ReleaseStandard, true, 100, D(2023, 10, 5)},
	}
	// Christmas and New Year, 2018–2030, worked by hand from the rule:
	// s.23(3) gives the working day on or before the target; then step back
	// a working day while the next day is not a working day, at most twice.
	for _, x := range []struct {
		year int
		// release days for targets on 24, 25, 26, 27 and 28 December and on
		// 1 and 2 January of the next year
		dec24, dec25, dec26, dec27, dec28, jan1, jan2 Date
	}{
		// Christmas Tuesday, Boxing Day Wednesday; New Year Tuesday.
		{2018, D(2018, 12, 20), D(2018, 12, 20), D(2018, 12, 20), D(2018, 12, 27), D(2018, 12, 27), D(2018, 12, 27), D(2019, 1, 2)},
		// Wednesday and Thursday; New Year Wednesday. Friday 27th goes back
		// two working days, the most the Act allows, over both holidays.
		{2019, D(2019, 12, 23), D(2019, 12, 23), D(2019, 12, 23), D(2019, 12, 23), D(2019, 12, 23), D(2019, 12, 30), D(2020, 1, 2)},
		// Friday, and Boxing Day's substitute Monday 28th; New Year Friday.
		{2020, D(2020, 12, 23), D(2020, 12, 23), D(2020, 12, 23), D(2020, 12, 23), D(2020, 12, 23), D(2020, 12, 30), D(2020, 12, 30)},
		// Saturday: substitutes Monday 27th and Tuesday 28th; New Year
		// Saturday, substitute Monday 3 January.
		{2021, D(2021, 12, 23), D(2021, 12, 23), D(2021, 12, 23), D(2021, 12, 23), D(2021, 12, 23), D(2021, 12, 30), D(2021, 12, 30)},
		// Sunday: Boxing Day Monday 26th, substitute Tuesday 27th; New Year
		// Sunday, substitute Monday 2 January.
		{2022, D(2022, 12, 22), D(2022, 12, 22), D(2022, 12, 22), D(2022, 12, 22), D(2022, 12, 28), D(2022, 12, 29), D(2022, 12, 29)},
		// Monday and Tuesday; New Year Monday.
		{2023, D(2023, 12, 21), D(2023, 12, 21), D(2023, 12, 21), D(2023, 12, 27), D(2023, 12, 28), D(2023, 12, 28), D(2024, 1, 2)},
		// Wednesday and Thursday, as 2019.
		{2024, D(2024, 12, 23), D(2024, 12, 23), D(2024, 12, 23), D(2024, 12, 23), D(2024, 12, 23), D(2024, 12, 30), D(2025, 1, 2)},
		// Thursday and Friday; New Year Thursday, so Friday 2 January goes
		// back two working days to Tuesday 30 December.
		{2025, D(2025, 12, 23), D(2025, 12, 23), D(2025, 12, 23), D(2025, 12, 23), D(2025, 12, 23), D(2025, 12, 30), D(2025, 12, 30)},
		// Friday, substitute Monday 28th, as 2020.
		{2026, D(2026, 12, 23), D(2026, 12, 23), D(2026, 12, 23), D(2026, 12, 23), D(2026, 12, 23), D(2026, 12, 30), D(2026, 12, 30)},
		// Saturday, as 2021; New Year Saturday, substitute Monday 3 January.
		{2027, D(2027, 12, 23), D(2027, 12, 23), D(2027, 12, 23), D(2027, 12, 23), D(2027, 12, 23), D(2027, 12, 30), D(2027, 12, 30)},
		// Monday and Tuesday, as 2023.
		{2028, D(2028, 12, 21), D(2028, 12, 21), D(2028, 12, 21), D(2028, 12, 27), D(2028, 12, 28), D(2028, 12, 28), D(2029, 1, 2)},
		// Tuesday and Wednesday, as 2018: Monday 24th is followed by
		// Christmas, Friday 21st by the weekend, so Thursday 20th.
		{2029, D(2029, 12, 20), D(2029, 12, 20), D(2029, 12, 20), D(2029, 12, 27), D(2029, 12, 27), D(2029, 12, 27), D(2030, 1, 2)},
		// Wednesday and Thursday, as 2019.
		{2030, D(2030, 12, 23), D(2030, 12, 23), D(2030, 12, 23), D(2030, 12, 23), D(2030, 12, 23), D(2030, 12, 30), D(2031, 1, 2)},
	} {
		y := x.year
		for _, c := range []struct {
			target, want Date
		}{
			{D(y, 12, 24), x.dec24}, {D(y, 12, 25), x.dec25}, {D(y, 12, 26), x.dec26}, {D(y, 12, 27), x.dec27},
			{D(y, 12, 28), x.dec28}, {D(y+1, 1, 1), x.jan1}, {D(y+1, 1, 2), x.jan2},
		} {
			name := fmt.Sprintf("Christmas %d: due %s", y, c.target)
			tests = append(tests, struct {
				name   string
				target Date
				kind   ReleaseKind
				adult  bool
				served int
				want   Date
			}{name, c.target, ReleaseStandard, true, 100, c.want})
		}
	}
	for _, tt := range tests {
		if got := cal.ReleaseDay(tt.target, tt.kind, tt.adult, tt.served); got != tt.want {
			t.Errorf("%s: ReleaseDay(%s %s) = %s %s, want %s %s", tt.name, tt.target, tt.target.Weekday(), got, got.Weekday(), tt.want, tt.want.Weekday())
		}
	}
}

// TestReleaseDayIsTheMinistrysWalk compares ReleaseDay, for every day from
// 1991 to 2099, with calculate-release-dates-api's NonFridayReleaseService
// walk as written there (step back a day while the day or the next is not a
// working day), which has no two-day limit: a holiday the calendar gains
// that makes the Act's limit bite shows up here.
func TestReleaseDayIsTheMinistrysWalk(t *testing.T) {
	cal := EnglandAndWales
	walk := func(d Date) Date {
		for !cal.IsWorkingDay(d) || !cal.IsWorkingDay(d.AddDays(1)) {
			d = d.AddDays(-1)
		}
		return d
	}
	for d := D(1991, 1, 1); d.Before(D(2100, 1, 1)); d = d.AddDays(1) {
		got := cal.ReleaseDay(d, ReleaseStandard, true, 28)
		if want := walk(d); got != want {
			t.Errorf("due %s %s: ReleaseDay %s, the Ministry's walk %s", d, d.Weekday(), got, want)
		}
		if n := cal.WorkingDaysBetween(got, cal.OnOrBefore(d)); n < 0 || n > 2 {
			t.Errorf("due %s: ReleaseDay %s is %d working days before the s.23(3) day", d, got, n)
		}
	}
}

func TestRecallReleaseDay(t *testing.T) {
	// A recall's post-recall release date is a standard release: the
	// Friday rule applies to it (calculate-release-dates-api lists PRRD
	// among the dates it moves).
	dates := ReleaseDates{CRD: D(2026, 6, 1), PRRD: D(2026, 12, 4), SED: D(2027, 6, 1)}
	target, src, _ := dates.Target()
	if src != "PRRD" {
		t.Fatalf("target %s %s, want the PRRD", target, src)
	}
	if got := EnglandAndWales.ReleaseDay(target, dates.Kind(), true, 100); got != D(2026, 12, 3) {
		t.Errorf("a recall due on Friday 4 December 2026 leaves on %s, want Thursday 3 December", got)
	}
}

// TestServedDaysAndAdultDecideTheReleaseDay opens cases and changes their
// dates: the days served count from the sentence date (else the reception
// date), and whether the person is an adult is what the last change of
// dates said.
func TestServedDaysAndAdultDecideTheReleaseDay(t *testing.T) {
	now := at(2026, 11, 23, 10, 0)
	friday := D(2026, 12, 11)
	tests := []struct {
		name string
		open OpenCase
		want Date
	}{
		{"sentenced 20 days before a Friday target: not moved",
			OpenCase{ReceivedOn: D(2026, 11, 21), SentenceDate: D(2026, 11, 21), Adult: true, Dates: ReleaseDates{CRD: friday}}, friday},
		{"received 20 days before, sentence date unknown: not moved",
			OpenCase{ReceivedOn: D(2026, 11, 21), Adult: true, Dates: ReleaseDates{CRD: friday}}, friday},
		{"received 20 days before but sentenced 60 days before: moved",
			OpenCase{ReceivedOn: D(2026, 11, 21), SentenceDate: D(2026, 10, 12), Adult: true, Dates: ReleaseDates{CRD: friday}}, D(2026, 12, 10)},
		{"received 60 days before, sentenced 27 days before: not moved",
			OpenCase{ReceivedOn: D(2026, 10, 12), SentenceDate: D(2026, 11, 14), Adult: true, Dates: ReleaseDates{CRD: friday}}, friday},
		{"sentenced 28 days before: moved",
			OpenCase{ReceivedOn: D(2026, 10, 12), SentenceDate: D(2026, 11, 13), Adult: true, Dates: ReleaseDates{CRD: friday}}, D(2026, 12, 10)},
		{"a child at release: not moved",
			OpenCase{ReceivedOn: D(2026, 9, 1), Dates: ReleaseDates{CRD: friday}}, friday},
	}
	for _, tt := range tests {
		c := openCase(t, tt.open, now)
		if got, _ := c.ReleaseDay(); got != tt.want {
			t.Errorf("%s: release day %s %s, want %s %s", tt.name, got, got.Weekday(), tt.want, tt.want.Weekday())
		}
	}

	// An adult today whose new target is before their 18th birthday is a
	// child at release: the application service says so with Adult false.
	c := openCase(t, OpenCase{ReceivedOn: D(2026, 9, 1), Adult: true, Dates: ReleaseDates{CRD: D(2027, 3, 12)}}, now)
	if got, _ := c.ReleaseDay(); got != D(2027, 3, 11) {
		t.Fatalf("adult due Friday 12 March 2027: release day %s, want Thursday 11 March", got)
	}
	child := false
	if err := c.ChangeReleaseDates(ChangeReleaseDates{Meta: meta("d1"), Dates: ReleaseDates{CRD: friday}, Reason: "recalculation", Adult: &child}, now); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.ReleaseDay(); got != friday || c.Adult {
		t.Errorf("a child at the new target: release day %s adult %v, want %s and a child", got, c.Adult, friday)
	}
	// Only the eligibility changes: still a change.
	adult := true
	if err := c.ChangeReleaseDates(ChangeReleaseDates{Meta: meta("d2"), Dates: ReleaseDates{CRD: friday}, Reason: "correction", Adult: &adult}, now); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.ReleaseDay(); got != D(2026, 12, 10) {
		t.Errorf("adult again: release day %s, want Thursday 10 December", got)
	}
	// A sentence date given with the change replaces the case's; one left
	// out keeps it.
	if err := c.ChangeReleaseDates(ChangeReleaseDates{Meta: meta("d3"), Dates: ReleaseDates{CRD: friday}, Reason: "correction", SentenceDate: D(2026, 11, 20)}, now); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.ReleaseDay(); got != friday || c.SentenceDate != D(2026, 11, 20) {
		t.Errorf("sentenced 21 days before: release day %s sentence %s, want %s", got, c.SentenceDate, friday)
	}
	if err := c.ChangeReleaseDates(ChangeReleaseDates{Meta: meta("d4"), Dates: ReleaseDates{CRD: D(2026, 12, 18)}, Reason: "added-days"}, now); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.ReleaseDay(); got != D(2026, 12, 17) || c.SentenceDate != D(2026, 11, 20) {
		t.Errorf("sentenced 28 days before Friday 18th: release day %s sentence %s, want Thursday 17th", got, c.SentenceDate)
	}
	err := c.ChangeReleaseDates(ChangeReleaseDates{Meta: meta("d5"), Dates: ReleaseDates{CRD: D(2026, 12, 18)}, Reason: "added-days", Adult: &adult}, now)
	if !errors.Is(err, ErrConflict) {
		t.Errorf("nothing changed: %v, want a conflict", err)
	}
}

// TestDatesCheckedAlike checks opening, changing the dates and resetting
// refuse the same contradictions, each naming its field, and change nothing.
func TestDatesCheckedAlike(t *testing.T) {
	now := at(2026, 11, 23, 10, 0)
	tests := []struct {
		name     string
		received Date
		sentence Date
		dates    ReleaseDates
		field    string
	}{
		{"HDCAD after CRD", D(2026, 9, 1), Date{}, ReleaseDates{HDCAD: D(2027, 4, 1), CRD: D(2027, 3, 1)}, "release_dates.hdcad"},
		{"CRD after SED", D(2026, 9, 1), Date{}, ReleaseDates{CRD: D(2027, 3, 1), SED: D(2027, 2, 1)}, "release_dates.crd"},
		{"target before reception", D(2026, 9, 1), Date{}, ReleaseDates{CRD: D(2026, 8, 1)}, "release_dates"},
		{"sentence date in the future", D(2026, 9, 1), D(2026, 11, 24), ReleaseDates{CRD: D(2027, 3, 1)}, "sentence_date"},
		{"sentence date after the target", D(2026, 9, 1), D(2026, 10, 1), ReleaseDates{CRD: D(2026, 9, 30)}, "sentence_date"},
		{"sentence date before 1900", D(2026, 9, 1), D(1899, 12, 31), ReleaseDates{CRD: D(2027, 3, 1)}, "sentence_date"},
	}
	for _, tt := range tests {
		check := func(what string, err error) {
			t.Helper()
			fe, _ := AsFieldErrors(err)
			found := false
			for _, f := range fe {
				found = found || f.Field == tt.field
			}
			if !found {
				t.Errorf("%s, %s: %v, want an error naming %s", tt.name, what, err, tt.field)
			}
		}
		_, err := Open(OpenCase{CaseID: "c1", Establishment: "PVI", Team: "pvi-resettlement", ReceivedOn: tt.received,
			SentenceDate: tt.sentence, Dates: tt.dates}, now)
		check("opening", err)

		c := openCase(t, OpenCase{ReceivedOn: tt.received, Adult: true, Dates: ReleaseDates{CRD: D(2027, 5, 5)}}, now)
		before := c.Clone()
		err = c.ChangeReleaseDates(ChangeReleaseDates{Meta: meta("x1"), Dates: tt.dates, SentenceDate: tt.sentence, Reason: "correction"}, now)
		check("changing the dates", err)
		if c.Version != before.Version || c.Dates != before.Dates || c.SentenceDate != before.SentenceDate || len(c.Requests) != len(before.Requests) {
			t.Errorf("%s: a refused change of dates changed the case", tt.name)
		}
		err = c.Reset(Reset{Meta: meta("x2"), Reason: ResetNewSentence, ReceivedOn: tt.received, SentenceDate: tt.sentence, Dates: tt.dates}, now)
		check("resetting", err)
		if c.Version != before.Version || c.Cycle != before.Cycle || c.Dates != before.Dates {
			t.Errorf("%s: a refused reset changed the case", tt.name)
		}
	}
}

func TestResetTakesTheNewCustodysDates(t *testing.T) {
	now := at(2026, 11, 23, 10, 0)
	c := openCase(t, OpenCase{ReceivedOn: D(2026, 6, 1), SentenceDate: D(2026, 5, 20), Adult: true, Dates: ReleaseDates{CRD: D(2026, 11, 11)}}, now)
	later := at(2026, 12, 7, 10, 0)
	// Recalled on 4 December, due out again on Friday 18 December: 14
	// days, and the old sentence date is not carried into the new custody.
	if err := c.Reset(Reset{Meta: meta("r"), Reason: ResetRecall, ReceivedOn: D(2026, 12, 4), Dates: ReleaseDates{PRRD: D(2026, 12, 18)}}, later); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.ReleaseDay(); got != D(2026, 12, 18) || !c.SentenceDate.IsZero() {
		t.Errorf("after a recall served 14 days: release day %s sentence %s, want Friday 18 December and none", got, c.SentenceDate)
	}
	child := false
	if err := c.Reset(Reset{Meta: meta("r2"), Reason: ResetNewSentence, ReceivedOn: D(2026, 12, 4), SentenceDate: D(2026, 10, 1),
		Adult: &child, Dates: ReleaseDates{CRD: D(2027, 1, 8)}}, later); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.ReleaseDay(); got != D(2027, 1, 8) || c.Adult || c.SentenceDate != D(2026, 10, 1) {
		t.Errorf("a child at release: release day %s adult %v sentence %s, want Friday 8 January", got, c.Adult, c.SentenceDate)
	}
}

// TestFirstRulesKeepTheirReleaseDay checks a case that runs under the first
// date rules (plan 1) keeps their target and release day, so its deadlines
// and its workflow's history do not change under it, while a case under the
// current plan gets the rules of docs/design.md, "Release day".
func TestFirstRulesKeepTheirReleaseDay(t *testing.T) {
	now := at(2026, 11, 23, 10, 0)
	tests := []struct {
		name       string
		dates      ReleaseDates
		first, now Date
	}{
		{"Christmas Eve 2029", ReleaseDates{CRD: D(2029, 12, 24)}, D(2029, 12, 21), D(2029, 12, 20)},
		{"the first known date, not the latest", ReleaseDates{CRD: D(2027, 3, 10), ARD: D(2027, 4, 14)}, D(2027, 3, 10), D(2027, 4, 14)},
		{"a confirmed date of an HDC release", ReleaseDates{Confirmed: D(2027, 3, 12), HDCAD: D(2027, 3, 12), CRD: D(2027, 6, 1)}, D(2027, 3, 11), D(2027, 3, 12)},
	}
	for _, tt := range tests {
		old := openCase(t, OpenCase{ReceivedOn: D(2026, 9, 1), Adult: true, Dates: tt.dates, Plan: 1}, now)
		cur := openCase(t, OpenCase{ReceivedOn: D(2026, 9, 1), Adult: true, Dates: tt.dates}, now)
		if got, _ := old.ReleaseDay(); got != tt.first {
			t.Errorf("%s, plan 1: release day %s, want %s", tt.name, got, tt.first)
		}
		if got, _ := cur.ReleaseDay(); got != tt.now {
			t.Errorf("%s, plan %d: release day %s, want %s", tt.name, cur.Plan, got, tt.now)
		}
	}
}
