package resettlement

import (
	"bytes"
	_ "embed" // for bankHolidaysJSON
	"encoding/json"
	"fmt"
	"time"
)

// bankHolidaysJSON is a copy of the GOV.UK bank-holidays feed,
// https://www.gov.uk/bank-holidays.json, in the feed's format with all three
// divisions (england-and-wales, scotland, northern-ireland), though only
// england-and-wales is read. It holds 2019–2027. It is bank-holidays.json,
// byte for byte (git blob 2885411e68866d5c0c20164c03b791bf4c7895d8), at
// commit 0b1a5772eeb65c0474e35c64bafc353f5e54c540 of
// github.com/dmossop/bank-holidays-data, whose scheduled job fetched the
// feed on 6 July 2025 and wrote it out with Python's json.dump(indent=2):
// hence the indentation and the \u2019 escapes; every value is the feed's.
// The same job's next copy (17 August 2025) holds only 2024–2027, with the
// same days and titles for those years. To replace it, follow README.md,
// "Bank holidays".
//
//go:embed bank-holidays.json
var bankHolidaysJSON []byte

// embeddedFeed is bankHolidaysJSON parsed, once, at package initialisation;
// nothing writes it afterwards (see holidayTable).
var embeddedFeed = func() holidayFeed {
	f, err := parseHolidayFeed(bankHolidaysJSON)
	if err != nil {
		// The file is compiled in, and every test of this package would
		// stop here, so this cannot happen short of a broken build.
		panic("resettlement: bank-holidays.json: " + err.Error())
	}
	return f
}()

// EmbeddedHolidayFeed returns a copy of the bank-holidays feed compiled into
// the binary, the old side of CompareHolidays for `throughgate holidays check`.
func EmbeddedHolidayFeed() []byte { return bytes.Clone(bankHolidaysJSON) }

// englandAndWales is the feed's key and division name the calendar reads.
const englandAndWales = "england-and-wales"

// feedJSON is the shape of https://www.gov.uk/bank-holidays.json: one entry
// per division, keyed by its name. Fields GOV.UK may add later are ignored.
type feedJSON map[string]struct {
	Division string `json:"division"`
	Events   []struct {
		Title   string `json:"title"`
		Date    string `json:"date"`
		Notes   string `json:"notes"`
		Bunting bool   `json:"bunting"`
	} `json:"events"`
}

// holidayFeed is the england-and-wales division of a feed, checked: the
// whole years it holds, and each year's holidays in date order.
type holidayFeed struct {
	from, to int
	byYear   map[int][]namedDay
}

// year returns the bank holidays of a year as a calendar built on f sees
// them: the feed's for the years it holds, the rules' for any other year.
// Callers must not modify the slice.
func (f holidayFeed) year(y int) []namedDay {
	if f.holds(y) {
		return f.byYear[y]
	}
	return ruleHolidays(y)
}

// holds reports whether y is one of the feed's years.
func (f holidayFeed) holds(y int) bool { return y >= f.from && y <= f.to }

// parseHolidayFeed reads a feed and checks what the calendar relies on:
// inside the feed's years the feed is the only truth, so a year it holds must
// be whole. Every year since 1974 has had a bank holiday in January (New
// Year's Day or its substitute, by 3 January) and one in December (Boxing Day
// or its substitute), so a year without either is a truncated or broken feed,
// not a year without holidays.
func parseHolidayFeed(data []byte) (holidayFeed, error) {
	var raw feedJSON
	if err := json.Unmarshal(data, &raw); err != nil {
		return holidayFeed{}, fmt.Errorf("not the JSON of https://www.gov.uk/bank-holidays.json: %w", err)
	}
	div, ok := raw[englandAndWales]
	if !ok {
		return holidayFeed{}, fmt.Errorf("no %q division", englandAndWales)
	}
	if div.Division != englandAndWales {
		return holidayFeed{}, fmt.Errorf("the %q entry names its division %q", englandAndWales, div.Division)
	}
	if len(div.Events) == 0 {
		return holidayFeed{}, fmt.Errorf("the %q division has no events", englandAndWales)
	}
	f := holidayFeed{byYear: map[int][]namedDay{}}
	seen := map[Date]string{}
	for i, e := range div.Events {
		d, err := ParseDate(e.Date)
		if err != nil {
			return holidayFeed{}, fmt.Errorf("%s event %d (%q): %w", englandAndWales, i+1, e.Title, err)
		}
		if e.Title == "" {
			return holidayFeed{}, fmt.Errorf("%s event %d (%s) has no title", englandAndWales, i+1, d)
		}
		if other, dup := seen[d]; dup {
			return holidayFeed{}, fmt.Errorf("%s lists %s twice (%q and %q)", englandAndWales, d, other, e.Title)
		}
		seen[d] = e.Title
		if i == 0 || d.Year < f.from {
			f.from = d.Year
		}
		if i == 0 || d.Year > f.to {
			f.to = d.Year
		}
		f.byYear[d.Year] = append(f.byYear[d.Year], namedDay{d, e.Title})
	}
	for y := f.from; y <= f.to; y++ {
		days := f.byYear[y]
		sortByDay(days)
		if len(days) == 0 || days[0].day.Month != time.January || days[len(days)-1].day.Month != time.December {
			return holidayFeed{}, fmt.Errorf("%s does not hold the whole of %d (no holiday in January or in December): "+
				"the feed must hold whole years from %d to %d", englandAndWales, y, f.from, f.to)
		}
	}
	return f, nil
}

// HolidayChangeKind says how a day's bank holiday differs between two feeds.
type HolidayChangeKind string

const (
	HolidayAdded   HolidayChangeKind = "added"   // a bank holiday only with the new feed
	HolidayRemoved HolidayChangeKind = "removed" // a bank holiday only with the old feed
	HolidayRenamed HolidayChangeKind = "renamed" // a bank holiday in both feeds, under another title
)

// HolidayChange is one day on which the England and Wales calendar built on
// one feed differs from the calendar built on another. Each side is what
// that calendar would say: the feed for its own years, the rules for the
// others — so a change in a year after the old feed's last is where the new
// feed disagrees with what the rules gave until now.
type HolidayChange struct {
	Date Date
	Kind HolidayChangeKind
	// OldTitle and NewTitle are the day's title on each side, "" where that
	// side has no bank holiday on Date.
	OldTitle, NewTitle string
	// OldByRules and NewByRules say that side took the day's year from the
	// rules, the feed not holding it.
	OldByRules, NewByRules bool
}

// String is one line for `throughgate holidays check`.
func (c HolidayChange) String() string {
	var s string
	switch c.Kind {
	case HolidayAdded:
		s = fmt.Sprintf("%s added   %q", c.Date, c.NewTitle)
	case HolidayRemoved:
		s = fmt.Sprintf("%s removed %q", c.Date, c.OldTitle)
	default:
		s = fmt.Sprintf("%s renamed %q -> %q", c.Date, c.OldTitle, c.NewTitle)
	}
	switch {
	case c.OldByRules:
		s += fmt.Sprintf(" (the old feed does not hold %d: the old calendar took it from the rules)", c.Date.Year)
	case c.NewByRules:
		s += fmt.Sprintf(" (the new feed does not hold %d: the new calendar would take it from the rules)", c.Date.Year)
	}
	return s
}

// HolidayComparison is what replacing one feed with another would change.
type HolidayComparison struct {
	// OldFrom..OldTo and NewFrom..NewTo are the years each feed holds.
	OldFrom, OldTo, NewFrom, NewTo int
	// Changes are in date order.
	Changes []HolidayChange
}

// CompareHolidays reports, for the england-and-wales division, every day on
// which a calendar built on newFeed would differ from one built on oldFeed:
// dates added, removed and renamed where both feeds hold the year, and, in
// years only one of them holds, where that feed disagrees with the rules the
// other calendar would use. Years neither feed holds come from the rules on
// both sides and cannot differ. It reads nothing but its arguments.
func CompareHolidays(oldFeed, newFeed []byte) (HolidayComparison, error) {
	o, err := parseHolidayFeed(oldFeed)
	if err != nil {
		return HolidayComparison{}, fmt.Errorf("old feed: %w", err)
	}
	n, err := parseHolidayFeed(newFeed)
	if err != nil {
		return HolidayComparison{}, fmt.Errorf("new feed: %w", err)
	}
	return compareFeeds(o, n), nil
}

func compareFeeds(o, n holidayFeed) HolidayComparison {
	cmp := HolidayComparison{OldFrom: o.from, OldTo: o.to, NewFrom: n.from, NewTo: n.to}
	for y := min(o.from, n.from); y <= max(o.to, n.to); y++ {
		oldByRules, newByRules := !o.holds(y), !n.holds(y)
		olds, news := o.year(y), n.year(y)
		// Both lists are in date order: walk them together.
		i, j := 0, 0
		for i < len(olds) || j < len(news) {
			c := HolidayChange{OldByRules: oldByRules, NewByRules: newByRules}
			switch {
			case j == len(news) || i < len(olds) && olds[i].day.Before(news[j].day):
				c.Date, c.Kind, c.OldTitle = olds[i].day, HolidayRemoved, olds[i].title
				i++
			case i == len(olds) || news[j].day.Before(olds[i].day):
				c.Date, c.Kind, c.NewTitle = news[j].day, HolidayAdded, news[j].title
				j++
			default:
				c.Date, c.Kind, c.OldTitle, c.NewTitle = olds[i].day, HolidayRenamed, olds[i].title, news[j].title
				i, j = i+1, j+1
				// The rules' titles are ours, not GOV.UK's: only two
				// feeds' titles are compared.
				if c.OldTitle == c.NewTitle || oldByRules || newByRules {
					continue
				}
			}
			cmp.Changes = append(cmp.Changes, c)
		}
	}
	return cmp
}
