package web

import (
	"io"
	"log/slog"
	"net/url"
	"strings"
	"testing"

	"github.com/throughgate/throughgate/resettlement"
)

// TestSentenceDateOnTheForms checks the open-case form reads the sentence
// date, naming it when it is not a date, and the case page shows it and
// offers it in the release-dates form.
func TestSentenceDateOnTheForms(t *testing.T) {
	form := url.Values{"person.prison_number": {"A1234BC"}, "person.booking": {"1"}, "person.given_name": {"Sam"},
		"person.family_name": {"Example"}, "person.date_of_birth": {"1990-05-17"}, "received_on": {"2026-02-01"},
		"sentence_date": {"2026-01-20"}, "establishment": {"PVI"}, "team": {"pvi-resettlement"}, "release_dates.crd": {"2026-04-30"}}
	req, errs := openRequest(form)
	if len(errs) > 0 || req.SentenceDate != resettlement.D(2026, 1, 20) {
		t.Fatalf("sentence date %s, errors %v", req.SentenceDate, errs)
	}
	if err := req.Check(pageNow); err != nil {
		t.Fatalf("a good form refused: %v", err)
	}
	form.Set("sentence_date", "yesterday")
	if _, errs := openRequest(form); len(errs) != 1 || errs[0].Field != "sentence_date" {
		t.Errorf("a sentence date that is not a date: %v", errs)
	}
	// GOV.UK's date input: day, month and year, each part named when it is
	// missing, and a day that does not exist refused.
	form.Del("sentence_date")
	for _, c := range []struct {
		d, m, y string
		want    string
	}{{"20", "1", "2026", ""}, {"20", "", "2026", "must include a month"}, {"", "", "26", "must include a day and a month"},
		{"31", "2", "2026", "must be a real date"}, {"x", "1", "2026", "must be a real date"}, {"20", "1", "26", "must be a real date"}} {
		form.Set("sentence_date-day", c.d)
		form.Set("sentence_date-month", c.m)
		form.Set("sentence_date-year", c.y)
		req, errs := openRequest(form)
		switch {
		case c.want == "" && (len(errs) > 0 || req.SentenceDate != resettlement.D(2026, 1, 20)):
			t.Errorf("%s/%s/%s: %v %v", c.d, c.m, c.y, req.SentenceDate, errs)
		case c.want != "" && (len(errs) != 1 || errs[0].Field != "sentence_date" || !strings.Contains(errs[0].Message, c.want)):
			t.Errorf("%s/%s/%s: %v, want %q", c.d, c.m, c.y, errs, c.want)
		}
	}

	a := &site{Deps{Mailbox: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}}
	v := sampleCase(t)
	page := buildCasePage(caseInputs{v: v, teams: sampleTeams(), now: pageNow})
	html := renderPage(t, a, "case", pageData{Title: page.Name, Data: page})
	if !strings.Contains(html, "Not known: days served count from reception") {
		t.Error("a case with no sentence date does not say so")
	}
	v.SentenceDate = resettlement.D(2026, 1, 20)
	page = buildCasePage(caseInputs{v: v, teams: sampleTeams(), now: pageNow})
	html = renderPage(t, a, "case", pageData{Title: page.Name, Data: page})
	checkPage(t, "case", html)
	for _, want := range []string{"Sentence date", "Tue 20 Jan 2026", `name="sentence_date-day" type="text" inputmode="numeric" value="20"`,
		`name="sentence_date-month" type="text" inputmode="numeric" value="1"`, `name="sentence_date-year" type="text" inputmode="numeric" value="2026"`} {
		if !strings.Contains(html, want) {
			t.Errorf("case page: no %q", want)
		}
	}
}
