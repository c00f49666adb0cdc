package resettlement

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// event is one england-and-wales event of a feed written for a test.
type event struct{ date, title string }

// feedOf writes a feed in the GOV.UK format holding the given events, plus a
// scotland division that the comparison must ignore.
func feedOf(t *testing.T, events ...event) []byte {
	t.Helper()
	type ev struct {
		Title   string `json:"title"`
		Date    string `json:"date"`
		Notes   string `json:"notes"`
		Bunting bool   `json:"bunting"`
	}
	type division struct {
		Division string `json:"division"`
		Events   []ev   `json:"events"`
	}
	ew := division{Division: "england-and-wales", Events: []ev{}}
	for _, e := range events {
		ew.Events = append(ew.Events, ev{Title: e.title, Date: e.date, Bunting: true})
	}
	b, err := json.Marshal(map[string]division{
		"england-and-wales": ew,
		"scotland":          {Division: "scotland", Events: []ev{{Title: "St Andrew’s Day", Date: "2027-11-30"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The GOV.UK England and Wales lists for 2026, 2027 and 2028, typed by hand
// (2028 as published in 2026, before any one-off for that year).
var (
	ew2026 = []event{
		{"2026-01-01", "New Year’s Day"}, {"2026-04-03", "Good Friday"}, {"2026-04-06", "Easter Monday"},
		{"2026-05-04", "Early May bank holiday"}, {"2026-05-25", "Spring bank holiday"}, {"2026-08-31", "Summer bank holiday"},
		{"2026-12-25", "Christmas Day"}, {"2026-12-28", "Boxing Day"},
	}
	ew2027 = []event{
		{"2027-01-01", "New Year’s Day"}, {"2027-03-26", "Good Friday"}, {"2027-03-29", "Easter Monday"},
		{"2027-05-03", "Early May bank holiday"}, {"2027-05-31", "Spring bank holiday"}, {"2027-08-30", "Summer bank holiday"},
		{"2027-12-27", "Christmas Day"}, {"2027-12-28", "Boxing Day"},
	}
	ew2028 = []event{
		{"2028-01-03", "New Year’s Day"}, {"2028-04-14", "Good Friday"}, {"2028-04-17", "Easter Monday"},
		{"2028-05-01", "Early May bank holiday"}, {"2028-05-29", "Spring bank holiday"}, {"2028-08-28", "Summer bank holiday"},
		{"2028-12-25", "Christmas Day"}, {"2028-12-26", "Boxing Day"},
	}
)

// join concatenates event lists, replacing or dropping as edit says: edit
// maps a date to its new title, or to "" to drop it.
func join(edit map[string]string, lists ...[]event) []event {
	var out []event
	for _, l := range lists {
		for _, e := range l {
			if title, ok := edit[e.date]; ok {
				if title == "" {
					continue
				}
				e.title = title
			}
			out = append(out, e)
		}
	}
	return out
}

func TestCompareHolidays(t *testing.T) {
	tests := []struct {
		name     string
		old, new []event
		want     []HolidayChange
	}{
		{"same feed", ew2027, ew2027, nil},
		{
			"a holiday added in a year both hold",
			ew2027, join(nil, ew2027, []event{{"2027-06-07", "Extra bank holiday"}}),
			[]HolidayChange{{Date: D(2027, 6, 7), Kind: HolidayAdded, NewTitle: "Extra bank holiday"}},
		},
		{
			"a holiday removed",
			ew2027, join(map[string]string{"2027-08-30": ""}, ew2027),
			[]HolidayChange{{Date: D(2027, 8, 30), Kind: HolidayRemoved, OldTitle: "Summer bank holiday"}},
		},
		{
			"a holiday renamed",
			ew2027, join(map[string]string{"2027-12-28": "Boxing Day (substitute day)"}, ew2027),
			[]HolidayChange{{Date: D(2027, 12, 28), Kind: HolidayRenamed, OldTitle: "Boxing Day", NewTitle: "Boxing Day (substitute day)"}},
		},
		{
			"the next year published as the rules have it: nothing changes",
			ew2027, join(nil, ew2027, ew2028), nil,
		},
		{
			"a one-off proclaimed beyond the old feed",
			ew2027, join(nil, ew2027, ew2028, []event{{"2028-06-05", "Bank holiday for a royal occasion"}}),
			[]HolidayChange{{Date: D(2028, 6, 5), Kind: HolidayAdded, NewTitle: "Bank holiday for a royal occasion", OldByRules: true}},
		},
		{
			"a holiday moved beyond the old feed",
			ew2027, join(map[string]string{"2028-05-01": ""}, ew2027, ew2028, []event{{"2028-05-08", "Early May bank holiday (VE day)"}}),
			[]HolidayChange{
				{Date: D(2028, 5, 1), Kind: HolidayRemoved, OldTitle: "Early May bank holiday", OldByRules: true},
				{Date: D(2028, 5, 8), Kind: HolidayAdded, NewTitle: "Early May bank holiday (VE day)", OldByRules: true},
			},
		},
		{
			"titles are not compared with the rules'",
			ew2027, join(map[string]string{"2028-01-03": "New Year’s Day (substitute day)"}, ew2027, ew2028), nil,
		},
		{
			"a newer feed drops a year the rules get right: nothing changes",
			join(nil, ew2026, ew2027), ew2027, nil,
		},
		{
			"a newer feed drops a year with a day the rules do not know",
			join(nil, ew2026, []event{{"2026-06-15", "Bank holiday for a royal occasion"}}, ew2027), ew2027,
			[]HolidayChange{{Date: D(2026, 6, 15), Kind: HolidayRemoved, OldTitle: "Bank holiday for a royal occasion", NewByRules: true}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CompareHolidays(feedOf(t, tt.old...), feedOf(t, tt.new...))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Changes, tt.want) {
				t.Errorf("changes:\n got %+v\nwant %+v", got.Changes, tt.want)
			}
		})
	}
}

func TestCompareHolidaysReportsYears(t *testing.T) {
	got, err := CompareHolidays(feedOf(t, join(nil, ew2026, ew2027)...), feedOf(t, join(nil, ew2027, ew2028)...))
	if err != nil {
		t.Fatal(err)
	}
	if got.OldFrom != 2026 || got.OldTo != 2027 || got.NewFrom != 2027 || got.NewTo != 2028 {
		t.Errorf("years: old %d–%d, new %d–%d; want 2026–2027 and 2027–2028", got.OldFrom, got.OldTo, got.NewFrom, got.NewTo)
	}
}

func TestCompareHolidaysRejectsBadFeeds(t *testing.T) {
	good := feedOf(t, ew2027...)
	tests := []struct {
		name string
		feed []byte
		want string // in the error
	}{
		{"not JSON", []byte("<html>Bank holidays</html>"), "not the JSON"},
		{"an empty file", nil, "not the JSON"},
		{"no england-and-wales", []byte(`{"scotland":{"division":"scotland","events":[]}}`), `no "england-and-wales" division`},
		{"the wrong division name", []byte(`{"england-and-wales":{"division":"scotland","events":[]}}`), `names its division "scotland"`},
		{"no events", feedOf(t), "has no events"},
		{"a date that does not exist", feedOf(t, join(nil, ew2027, []event{{"2027-02-30", "Leap"}})...), `"2027-02-30" is not a date`},
		{"a date in another form", feedOf(t, join(nil, ew2027, []event{{"30/08/2027", "Summer"}})...), "is not a date"},
		{"an untitled holiday", feedOf(t, join(nil, ew2027, []event{{"2027-06-07", ""}})...), "has no title"},
		{"a date twice", feedOf(t, join(nil, ew2027, []event{{"2027-12-28", "Another"}})...), "lists 2027-12-28 twice"},
		{"a year missing", feedOf(t, join(nil, ew2026, ew2028)...), "does not hold the whole of 2027"},
		{"a year that starts part way", feedOf(t, join(map[string]string{"2027-01-01": ""}, ew2027)...), "does not hold the whole of 2027"},
		{"a year that stops part way", feedOf(t, join(map[string]string{"2028-12-25": "", "2028-12-26": ""}, ew2027, ew2028)...), "does not hold the whole of 2028"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := CompareHolidays(good, tt.feed)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "new feed: ") {
				t.Errorf("error %v, want one starting %q and containing %q", err, "new feed: ", tt.want)
			}
			if _, err := CompareHolidays(tt.feed, good); err == nil || !strings.HasPrefix(err.Error(), "old feed: ") {
				t.Errorf("as the old feed: error %v, want one starting %q", err, "old feed: ")
			}
		})
	}
}

// TestCompareTheVendoredFeed runs the comparison on real data: the vendored
// feed against itself, and against the same feed with its earlier years
// dropped, as GOV.UK did in August 2025 (2019–2027 became 2024–2027). The
// rules agree with the feed in the dropped years, so neither changes a day.
func TestCompareTheVendoredFeed(t *testing.T) {
	feed := EmbeddedHolidayFeed()
	same, err := CompareHolidays(feed, feed)
	if err != nil {
		t.Fatal(err)
	}
	if len(same.Changes) != 0 {
		t.Errorf("the vendored feed against itself: %v", same.Changes)
	}
	_, from, to := vendoredFeed(t)
	if same.OldFrom != from || same.OldTo != to {
		t.Errorf("years %d–%d, the file holds %d–%d", same.OldFrom, same.OldTo, from, to)
	}

	var raw map[string]struct {
		Division string            `json:"division"`
		Events   []json.RawMessage `json:"events"`
	}
	if err := json.Unmarshal(feed, &raw); err != nil {
		t.Fatal(err)
	}
	cut := from + (to-from+1)/2
	ew := raw["england-and-wales"]
	var kept []json.RawMessage
	for _, e := range ew.Events {
		var ev struct{ Date string }
		if err := json.Unmarshal(e, &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Date >= D(cut, 1, 1).String() {
			kept = append(kept, e)
		}
	}
	ew.Events = kept
	raw["england-and-wales"] = ew
	trimmed, err := json.Marshal(raw)
	if err != nil {
		t.Fatal(err)
	}
	got, err := CompareHolidays(feed, trimmed)
	if err != nil {
		t.Fatal(err)
	}
	if got.NewFrom != cut || len(got.Changes) != 0 {
		t.Errorf("the feed from %d on: new years from %d, changes %v", cut, got.NewFrom, got.Changes)
	}
}

func TestHolidayChangeString(t *testing.T) {
	tests := []struct {
		c    HolidayChange
		want string
	}{
		{HolidayChange{Date: D(2027, 6, 7), Kind: HolidayAdded, NewTitle: "Extra"},
			`2027-06-07 added   "Extra"`},
		{HolidayChange{Date: D(2027, 8, 30), Kind: HolidayRemoved, OldTitle: "Summer bank holiday"},
			`2027-08-30 removed "Summer bank holiday"`},
		{HolidayChange{Date: D(2027, 12, 28), Kind: HolidayRenamed, OldTitle: "Boxing Day", NewTitle: "Boxing Day (substitute day)"},
			`2027-12-28 renamed "Boxing Day" -> "Boxing Day (substitute day)"`},
		{HolidayChange{Date: D(2028, 6, 5), Kind: HolidayAdded, NewTitle: "Coronation", OldByRules: true},
			`2028-06-05 added   "Coronation" (the old feed does not hold 2028: the old calendar took it from the rules)`},
		{HolidayChange{Date: D(2026, 6, 15), Kind: HolidayRemoved, OldTitle: "Jubilee", NewByRules: true},
			`2026-06-15 removed "Jubilee" (the new feed does not hold 2026: the new calendar would take it from the rules)`},
	}
	for _, tt := range tests {
		if got := tt.c.String(); got != tt.want {
			t.Errorf("got  %s\nwant %s", got, tt.want)
		}
	}
}

// TestFeedIsTheOnlyTruthInItsYears: the vendored feed and the rules agree,
// so the calendar's own tests cannot tell which one it read. A feed that
// disagrees with the rules can: inside its years its days are taken as they
// are, even against the rules; outside them the rules decide.
func TestFeedIsTheOnlyTruthInItsYears(t *testing.T) {
	f, err := parseHolidayFeed(feedOf(t, join(map[string]string{"2027-08-30": ""}, ew2027, []event{{"2027-06-07", "Extra"}})...))
	if err != nil {
		t.Fatal(err)
	}
	has := func(days []namedDay, d Date) bool {
		for _, h := range days {
			if h.day == d {
				return true
			}
		}
		return false
	}
	if y := f.year(2027); !has(y, D(2027, 6, 7)) || has(y, D(2027, 8, 30)) || len(y) != 8 {
		t.Errorf("2027 from the feed: %v; want its 8 days, 7 June and not 30 August", y)
	}
	if y := f.year(2028); !has(y, D(2028, 8, 28)) || len(y) != 8 {
		t.Errorf("2028, outside the feed: %v; want the rules' 8 days", y)
	}
	if y := f.year(2026); !has(y, D(2026, 12, 28)) || len(y) != 8 {
		t.Errorf("2026, outside the feed: %v; want the rules' 8 days", y)
	}
}
