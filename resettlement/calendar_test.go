package resettlement

import (
	"encoding/json"
	"os"
	"slices"
	"testing"
	"time"
)

// The published England and Wales lists, typed from gov.uk/bank-holidays by
// hand, independently of the vendored feed (bank-holidays.json): they catch
// a wrong or damaged copy of the feed. They hold the one-off and moved days
// (VE day moved to 8 May 2020; the Platinum Jubilee 2–3 June 2022; the state
// funeral on 19 September 2022; the coronation on 8 May 2023) and the
// Christmas substitutes of 2020, 2021, 2022, 2026 and 2027.
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

// vendoredFeed reads the england-and-wales division of bank-holidays.json
// on its own, with encoding/json into a local struct, so that the tests of
// the calendar do not go through the code that builds it (parseHolidayFeed).
func vendoredFeed(t *testing.T) (days map[Date]string, from, to int) {
	t.Helper()
	data, err := os.ReadFile("bank-holidays.json")
	if err != nil {
		t.Fatal(err)
	}
	var feed map[string]struct {
		Division string `json:"division"`
		Events   []struct {
			Title string `json:"title"`
			Date  string `json:"date"`
		} `json:"events"`
	}
	if err := json.Unmarshal(data, &feed); err != nil {
		t.Fatal(err)
	}
	events := feed["england-and-wales"].Events
	if len(events) == 0 {
		t.Fatal("bank-holidays.json has no england-and-wales events")
	}
	days = map[Date]string{}
	for i, e := range events {
		tm, err := time.Parse(time.DateOnly, e.Date)
		if err != nil {
			t.Fatal(err)
		}
		d := D(tm.Year(), tm.Month(), tm.Day())
		days[d] = e.Title
		if i == 0 || d.Year < from {
			from = d.Year
		}
		if i == 0 || d.Year > to {
			to = d.Year
		}
	}
	return days, from, to
}

// TestCalendarMatchesTheFeed: inside the vendored feed's years the feed is
// the only truth, so every day of every year it holds is a bank holiday if
// and only if the feed lists it.
func TestCalendarMatchesTheFeed(t *testing.T) {
	feed, from, to := vendoredFeed(t)
	if embeddedFeed.from != from || embeddedFeed.to != to {
		t.Errorf("the calendar holds the feed for %d–%d, the file holds %d–%d", embeddedFeed.from, embeddedFeed.to, from, to)
	}
	n := 0
	for d := D(from, 1, 1); d.Year <= to; d = d.AddDays(1) {
		_, want := feed[d]
		if got := EnglandAndWales.IsBankHoliday(d); got != want {
			t.Errorf("IsBankHoliday(%s) = %v, the feed says %v", d, got, want)
		}
		if want {
			n++
		}
	}
	if n != len(feed) {
		t.Errorf("checked %d holidays, the feed lists %d", n, len(feed))
	}
}

// TestRulesAgreeWithTheFeed checks the rules against the feed in every year
// the feed holds, so that the years the rules fill in (outside the feed) can
// be trusted: the regular rules differ from the feed only on days the oneOff
// and moved tables list, and with those tables they give the feed's days
// exactly. When a new feed proclaims a one-off or moves a holiday, this
// fails until the day is added to oneOff or moved in calendar.go; that keeps
// the day known when a later feed no longer holds its year.
func TestRulesAgreeWithTheFeed(t *testing.T) {
	feed, from, to := vendoredFeed(t)
	isOneOff := func(d Date) bool {
		return slices.ContainsFunc(oneOff, func(o namedDay) bool { return o.day == d })
	}
	isMoveTarget := func(d Date) bool {
		for _, target := range moved {
			if target == d {
				return true
			}
		}
		return false
	}
	for y := from; y <= to; y++ {
		var want []Date
		for d := range feed {
			if d.Year == y {
				want = append(want, d)
			}
		}
		slices.SortFunc(want, func(a, b Date) int { return a.noon().Compare(b.noon()) })
		var got []Date
		for _, h := range ruleHolidays(y) {
			got = append(got, h.day)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%d: the rules give %v, the feed %v", y, got, want)
		}
		regular := map[Date]bool{}
		for _, h := range regularHolidays(y) {
			regular[h.day] = true
			if _, ok := feed[h.day]; !ok {
				if _, listed := moved[h.day]; !listed {
					t.Errorf("%d: the rules give %s (%s), which the feed does not list and moved does not move", y, h.day, h.title)
				}
			}
		}
		for _, d := range want {
			if !regular[d] && !isOneOff(d) && !isMoveTarget(d) {
				t.Errorf("%d: the feed lists %s (%s), which is neither a regular holiday nor in oneOff or moved", y, d, feed[d])
			}
		}
	}
}

// TestHolidayTableMatchesTheRules: outside the feed's years the table holds
// exactly what the rules give, day by day, and past the table (before 1990,
// after 2100) IsBankHoliday asks the rules directly.
func TestHolidayTableMatchesTheRules(t *testing.T) {
	_, from, to := vendoredFeed(t)
	for y := tableFrom; y <= tableTo; y++ {
		if y >= from && y <= to {
			continue
		}
		want := map[Date]bool{}
		for _, h := range ruleHolidays(y) {
			want[h.day] = true
		}
		if len(want) < 8 {
			t.Errorf("%d: the rules give only %d holidays", y, len(want))
		}
		for d := D(y, 1, 1); d.Year == y; d = d.AddDays(1) {
			if holidayTable[d] != want[d] {
				t.Errorf("%s: table says %v, rules %v", d, holidayTable[d], want[d])
			}
		}
	}
	for _, y := range []int{tableFrom - 1, tableTo + 1} {
		for _, h := range ruleHolidays(y) {
			if !EnglandAndWales.IsBankHoliday(h.day) {
				t.Errorf("IsBankHoliday(%s) = false outside the table; the rules give %s", h.day, h.title)
			}
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
