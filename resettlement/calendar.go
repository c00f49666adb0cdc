package resettlement

import "time"

// Calendar knows which days are working days in England and Wales: Monday to
// Friday, less bank holidays.
//
// Bank holidays follow fixed rules (computed below for any year) plus one-off
// changes that Parliament announces a few months ahead — a royal wedding, a
// jubilee, a state funeral. Those live in the oneOff and moved tables.
// Update path: when gov.uk/bank-holidays announces a new one-off, add it to
// oneOff (or a moved date to moved) with the reason, and add the year's row to
// the table test in calendar_test.go, which checks every year against the
// published list.
type Calendar struct{}

// EnglandAndWales is the calendar every rule in this package uses.
var EnglandAndWales Calendar

// oneOff are extra bank holidays declared by proclamation.
var oneOff = []struct {
	day    Date
	reason string
}{
	{D(1999, 12, 31), "Millennium"},
	{D(2002, 6, 3), "Golden Jubilee"},
	{D(2011, 4, 29), "Royal wedding"},
	{D(2012, 6, 5), "Diamond Jubilee"},
	{D(2022, 6, 3), "Platinum Jubilee"},
	{D(2022, 9, 19), "State funeral of Queen Elizabeth II"},
	{D(2023, 5, 8), "Coronation of King Charles III"},
}

// moved are regular bank holidays that were moved to another day that year.
var moved = map[Date]Date{
	D(1995, 5, 1):  D(1995, 5, 8), // VE day 50th anniversary
	D(2002, 5, 27): D(2002, 6, 4), // Golden Jubilee
	D(2012, 5, 28): D(2012, 6, 4), // Diamond Jubilee
	D(2020, 5, 4):  D(2020, 5, 8), // VE day 75th anniversary
	D(2022, 5, 30): D(2022, 6, 2), // Platinum Jubilee
}

// BankHolidays returns the England and Wales bank holidays of a year, in date order.
func (Calendar) BankHolidays(year int) []Date {
	easter := easterSunday(year)
	days := []Date{
		substitute(D(year, time.January, 1)),
		easter.AddDays(-2), // Good Friday
		easter.AddDays(1),  // Easter Monday
		nthWeekday(year, time.May, time.Monday, 1),
		lastWeekday(year, time.May, time.Monday),
		lastWeekday(year, time.August, time.Monday),
	}
	days = append(days, christmas(year)...)
	for i, d := range days {
		if to, ok := moved[d]; ok {
			days[i] = to
		}
	}
	for _, o := range oneOff {
		if o.day.Year == year {
			days = append(days, o.day)
		}
	}
	sortDates(days)
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
// worked out once at start: working-day arithmetic asks about every day it
// steps over, and the managers' board does that for thousands of steps.
// It is never written after init, so workflows may read it.
const tableFrom, tableTo = 1990, 2100

var holidayTable = func() map[Date]bool {
	m := map[Date]bool{}
	for y := tableFrom; y <= tableTo; y++ {
		for _, d := range EnglandAndWales.BankHolidays(y) {
			m[d] = true
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

// christmas returns Christmas Day and Boxing Day, or their substitute days.
func christmas(year int) []Date {
	xmas, boxing := D(year, time.December, 25), D(year, time.December, 26)
	switch xmas.Weekday() {
	case time.Friday: // Boxing Day is a Saturday
		return []Date{xmas, D(year, time.December, 28)}
	case time.Saturday:
		return []Date{D(year, time.December, 27), D(year, time.December, 28)}
	case time.Sunday:
		return []Date{boxing, D(year, time.December, 27)}
	}
	return []Date{xmas, boxing}
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

func sortDates(ds []Date) {
	for i := 1; i < len(ds); i++ {
		for j := i; j > 0 && ds[j].Before(ds[j-1]); j-- {
			ds[j], ds[j-1] = ds[j-1], ds[j]
		}
	}
}
