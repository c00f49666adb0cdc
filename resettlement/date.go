package resettlement

import (
	"encoding/json"
	"fmt"
	"time"
)

// Date is a civil date with no time of day or zone. Release dates and due
// dates are dates in law and practice; keeping them apart from instants stops
// a midnight in one zone from becoming the previous day in another.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// London is the zone every date in the domain is read in: prisons in England
// and Wales work to UK civil time.
var London = mustLoadLondon()

func mustLoadLondon() *time.Location {
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		// The binary embeds time/tzdata (see tzdata.go), so this cannot happen
		// short of a corrupt build.
		panic(err)
	}
	return loc
}

// D builds a Date; it normalises like time.Date (31 April is 1 May).
func D(year int, month time.Month, day int) Date {
	return DateOf(time.Date(year, month, day, 12, 0, 0, 0, time.UTC))
}

// DateOf returns the London calendar date of t.
func DateOf(t time.Time) Date {
	y, m, d := t.In(London).Date()
	return Date{y, m, d}
}

// ParseDate reads "2006-01-02".
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("%q is not a date in the form YYYY-MM-DD", s)
	}
	return Date{t.Year(), t.Month(), t.Day()}, nil
}

// IsZero reports whether d is the zero Date, which stands for "not known".
func (d Date) IsZero() bool { return d == Date{} }

func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	if d.Year < 0 || d.Year > 9999 {
		return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day)
	}
	// By hand rather than through fmt: alarm keys, board lines and every
	// JSON date are built from it, many times in each workflow task.
	b := make([]byte, 0, 10)
	b = append(b, byte('0'+d.Year/1000), byte('0'+d.Year/100%10), byte('0'+d.Year/10%10), byte('0'+d.Year%10), '-')
	b = append(b, byte('0'+int(d.Month)/10), byte('0'+int(d.Month)%10), '-')
	b = append(b, byte('0'+d.Day/10), byte('0'+d.Day%10))
	return string(b)
}

// noon is used for arithmetic: it is never near a daylight-saving jump.
func (d Date) noon() time.Time { return time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC) }

// At returns the instant at the given wall-clock time of day in London on d.
// Building it from wall-clock parts keeps 09:00 at 09:00 across a clock change.
func (d Date) At(timeOfDay time.Duration) time.Time {
	h := int(timeOfDay / time.Hour)
	m := int(timeOfDay % time.Hour / time.Minute)
	s := int(timeOfDay % time.Minute / time.Second)
	return time.Date(d.Year, d.Month, d.Day, h, m, s, 0, London)
}

// AddDays returns d moved by n calendar days.
//
// Noon UTC is noon or 13:00 in London, so its date in UTC is its London
// date: no zone lookup is needed.
func (d Date) AddDays(n int) Date {
	y, m, day := d.noon().AddDate(0, 0, n).Date()
	return Date{y, m, day}
}

// AddMonths moves d by n months, clamping to the end of a shorter month
// (31 August less six months is 28 or 29 February, not 3 March).
func (d Date) AddMonths(n int) Date {
	first := time.Date(d.Year, d.Month, 1, 12, 0, 0, 0, time.UTC).AddDate(0, n, 0)
	last := first.AddDate(0, 1, -1).Day()
	day := min(d.Day, last)
	return Date{first.Year(), first.Month(), day}
}

// Weekday returns the day of the week of d.
func (d Date) Weekday() time.Weekday { return d.noon().Weekday() }

// Before reports whether d is strictly before e.
func (d Date) Before(e Date) bool { return d.noon().Before(e.noon()) }

// After reports whether d is strictly after e.
func (d Date) After(e Date) bool { return d.noon().After(e.noon()) }

// DaysUntil returns the number of calendar days from d to e (negative if e is earlier).
func (d Date) DaysUntil(e Date) int { return int(e.noon().Sub(d.noon()).Hours() / 24) }

// MarshalJSON writes "2006-01-02", or null for the zero Date.
func (d Date) MarshalJSON() ([]byte, error) {
	if d.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(d.String())
}

// UnmarshalJSON reads "2006-01-02" or null.
func (d *Date) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*d = Date{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a date must be a string in the form YYYY-MM-DD")
	}
	if s == "" {
		*d = Date{}
		return nil
	}
	p, err := ParseDate(s)
	if err != nil {
		return err
	}
	*d = p
	return nil
}
