package resettlement

import (
	"slices"
	"time"
)

// Calendar knows which days are working days in England and Wales: Monday to
// Friday, less bank holidays.
//
// The bank holidays come from the GOV.UK feed https://www.gov.uk/bank-holidays.json
// (division england-and-wales), vendored as bank-holidays.json and embedded in
// the binary (holidays.go): for every year the feed holds, the feed is the only
// truth. Years outside it, before its first year and after its last, are
// worked out by the rules below (New Year's Day, Easter, the May and August
// Mondays, Christmas and Boxing Day with their substitutes) plus the oneOff
// and moved tables. Both are read once at start into holidayTable.
// Update path: README.md, "Bank holidays"; why: docs/design.md,
// "Working days and bank holidays".
type Calendar struct{}

// EnglandAndWales is the calendar every rule in this package uses.
var EnglandAndWales Calendar

// oneOff are extra bank holidays declared by proclamation, titled as GOV.UK
// titles them where the feed has held them.
//
// oneOff and moved matter only outside the feed's years, but they keep the
// days inside it too: GOV.UK drops old years from the feed (between July and
// August 2025 it went from 2019–2027 to 2024–2027, as the snapshots in
// github.com/dmossop/bank-holidays-data show), and a year a newer feed no
// longer holds falls back to the rules. TestRulesAgreeWithTheFeed checks
// that with these tables the rules give exactly the feed's days in every
// year the feed holds.
var oneOff = []namedDay{
	{D(1999, 12, 31), "Millennium"},
	{D(2002, 6, 3), "Golden Jubilee"},
	{D(2011, 4, 29), "Royal wedding"},
	{D(2012, 6, 5), "Diamond Jubilee"},
	{D(2022, 6, 3), "Platinum Jubilee bank holiday"},
	{D(2022, 9, 19), "Bank Holiday for the State Funeral of Queen Elizabeth II"},
	{D(2023, 5, 8), "Bank holiday for the coronation of King Charles III"},
}

// moved are regular bank holidays that were moved to another day that year.
var moved = map[Date]Date{
	D(1995, 5, 1):  D(1995, 5, 8), // VE day 50th anniversary
	D(2002, 5, 27): D(2002, 6, 4), // Golden Jubilee
	D(2012, 5, 28): D(2012, 6, 4), // Diamond Jubilee
	D(2020, 5, 4):  D(2020, 5, 8), // VE day 75th anniversary
	D(2022, 5, 30): D(2022, 6, 2), // Platinum Jubilee
}

// namedDay is a bank holiday and its title, as the feed or the rules name it.
type namedDay struct {
	day   Date
	title string
}

// BankHolidays returns the England and Wales bank holidays of a year, in date
// order: the embedded feed's for the years it holds, the rules' otherwise.
func (Calendar) BankHolidays(year int) []Date {
	var days []Date
	for _, h := range embeddedFeed.year(year) {
		days = append(days, h.day)
	}
	return days
}

// IsBankHoliday reports whether d is a bank holiday in England and Wales.
func (c Calendar) IsBankHoliday(d Date) bool {
	if d.Year >= tableFrom && d.Year <= tableTo {
		return holidayTable[d]
	}
	for _, h := range c.BankHolidays(d.Year) {
		if h == d {
			return true
		}
	}
	return false
}

// holidayTable holds the bank holidays of the years any case can touch,
// worked out once at start from the embedded feed and, outside its years, the
// rules: working-day arithmetic asks about every day it steps over, and the
// managers' board does that for thousands of steps. It is built during
// package initialisation and never written afterwards, from a feed compiled
// into the binary, so workflows may read it: every worker running the same
// binary reads the same days, on every replay. A new feed means a new
// binary; what that does to running cases: docs/design.md, "Working days and
// bank holidays".
const tableFrom, tableTo = 1990, 2100

var holidayTable = func() map[Date]bool {
	m := map[Date]bool{}
	for y := tableFrom; y <= tableTo; y++ {
		for _, h := range embeddedFeed.year(y) {
			m[h.day] = true
		}
	}
	return m
}()

// IsWorkingDay reports whether d is neither a weekend nor a bank holiday.
func (c Calendar) IsWorkingDay(d Date) bool {
	wd := d.Weekday()
	return wd != time.Saturday && wd != time.Sunday && !c.IsBankHoliday(d)
}

// AddWorkingDays moves d by n working days: forward for n > 0, back for n < 0.
// With n == 0 it returns d unchanged, working day or not.
func (c Calendar) AddWorkingDays(d Date, n int) Date {
	step := 1
	if n < 0 {
		step, n = -1, -n
	}
	for n > 0 {
		d = d.AddDays(step)
		if c.IsWorkingDay(d) {
			n--
		}
	}
	return d
}

// OnOrBefore returns d if it is a working day, else the working day before it.
func (c Calendar) OnOrBefore(d Date) Date {
	for !c.IsWorkingDay(d) {
		d = d.AddDays(-1)
	}
	return d
}

// OnOrAfter returns d if it is a working day, else the working day after it.
func (c Calendar) OnOrAfter(d Date) Date {
	for !c.IsWorkingDay(d) {
		d = d.AddDays(1)
	}
	return d
}

// WorkingDaysBetween counts the working days after a up to and including b;
// negative when b is before a.
func (c Calendar) WorkingDaysBetween(a, b Date) int {
	if b.Before(a) {
		return -c.WorkingDaysBetween(b, a)
	}
	n := 0
	for d := a.AddDays(1); !d.After(b); d = d.AddDays(1) {
		if c.IsWorkingDay(d) {
			n++
		}
	}
	return n
}

// Shift moves an instant by an Offset, keeping its London wall-clock time
// across day moves so that a 09:00 reminder stays at 09:00.
func (c Calendar) Shift(t time.Time, o Offset) time.Time {
	if o.Days != 0 || o.WorkingDays != 0 {
		local := t.In(London)
		d := DateOf(t).AddDays(o.Days)
		d = c.AddWorkingDays(d, o.WorkingDays)
		clock := time.Duration(local.Hour())*time.Hour + time.Duration(local.Minute())*time.Minute +
			time.Duration(local.Second())*time.Second + time.Duration(local.Nanosecond())
		t = d.At(clock)
	}
	return t.Add(o.Duration.Std())
}

// ruleHolidays returns the bank holidays the rules give for a year, in date
// order: the regular ones, moved where moved says, plus the one-offs.
func ruleHolidays(year int) []namedDay {
	days := regularHolidays(year)
	for i, h := range days {
		if to, ok := moved[h.day]; ok {
			days[i].day = to
		}
	}
	for _, o := range oneOff {
		if o.day.Year == year {
			days = append(days, o)
		}
	}
	sortByDay(days)
	return days
}

// regularHolidays returns the eight bank holidays England and Wales has every
// year, before any move or one-off, titled as the GOV.UK feed titles them.
// Easter Monday, the last Mondays of May and August, Boxing Day and the
// 27 December substitute are statutory (Banking and Financial Dealings Act
// 1971, Schedule 1 para 1); Good Friday and Christmas Day are common-law
// holidays; New Year's Day (since 1974), the early May Monday (since 1978),
// the other substitute days and every move or one-off are made by royal
// proclamation year by year (s.1(3) of the Act), which is why the feed and
// not these rules is the truth for the years it holds.
func regularHolidays(year int) []namedDay {
	easter := easterSunday(year)
	xmas, boxing := christmas(year)
	return []namedDay{
		{substitute(D(year, time.January, 1)), "New Year’s Day"},
		{easter.AddDays(-2), "Good Friday"},
		{easter.AddDays(1), "Easter Monday"},
		{nthWeekday(year, time.May, time.Monday, 1), "Early May bank holiday"},
		{lastWeekday(year, time.May, time.Monday), "Spring bank holiday"},
		{lastWeekday(year, time.August, time.Monday), "Summer bank holiday"},
		{xmas, "Christmas Day"},
		{boxing, "Boxing Day"},
	}
}

// substitute moves a fixed-date holiday that falls at a weekend to the Monday.
func substitute(d Date) Date {
	switch d.Weekday() {
	case time.Saturday:
		return d.AddDays(2)
	case time.Sunday:
		return d.AddDays(1)
	}
	return d
}

// christmas returns the days on which Christmas Day and Boxing Day are bank
// holidays: the days themselves, or their substitutes when at a weekend.
func christmas(year int) (christmasDay, boxingDay Date) {
	xmas, boxing := D(year, time.December, 25), D(year, time.December, 26)
	switch xmas.Weekday() {
	case time.Friday: // Boxing Day is a Saturday
		return xmas, D(year, time.December, 28)
	case time.Saturday:
		return D(year, time.December, 27), D(year, time.December, 28)
	case time.Sunday: // Boxing Day keeps the Monday, Christmas moves to Tuesday
		return D(year, time.December, 27), boxing
	}
	return xmas, boxing
}

func nthWeekday(year int, month time.Month, wd time.Weekday, n int) Date {
	d := D(year, month, 1)
	for d.Weekday() != wd {
		d = d.AddDays(1)
	}
	return d.AddDays(7 * (n - 1))
}

func lastWeekday(year int, month time.Month, wd time.Weekday) Date {
	d := D(year, month+1, 1).AddDays(-1)
	for d.Weekday() != wd {
		d = d.AddDays(-1)
	}
	return d
}

// easterSunday uses the anonymous Gregorian algorithm (Meeus/Jones/Butcher).
func easterSunday(year int) Date {
	a := year % 19
	b, c := year/100, year%100
	d, e := b/4, b%4
	f := (b + 8) / 25
	g := (b - f + 1) / 3
	h := (19*a + b - d - g + 15) % 30
	i, k := c/4, c%4
	l := (32 + 2*e + 2*i - h - k) % 7
	m := (a + 11*h + 22*l) / 451
	month := (h + l - 7*m + 114) / 31
	day := (h+l-7*m+114)%31 + 1
	return D(year, time.Month(month), day)
}

// sortByDay puts holidays in date order.
func sortByDay(days []namedDay) {
	slices.SortStableFunc(days, func(a, b namedDay) int { return a.day.noon().Compare(b.day.noon()) })
}
