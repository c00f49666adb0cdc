package web

import (
	"io"
	"log/slog"
	"regexp"
	"strings"
	"testing"
)

var titleTag = regexp.MustCompile(`<title>([^<]*)</title>`)

// A browser shows a page's title in its tabs, its history and the task
// bar of a shared prison PC: the case page's names the case, never the
// person.
func TestCasePageTitleIsTheCaseReference(t *testing.T) {
	a := &site{Deps{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}}
	v := sampleCase(t)
	page := buildCasePage(caseInputs{v: v, names: map[string]string{}, teams: sampleTeams(), now: pageNow})
	for _, d := range []pageData{
		{Title: page.Name, Section: "cases", Data: page}, // as renderCase gives it
		{Title: page.Name, Section: "cases", Data: page, Summary: []summaryItem{{Href: "#x", Text: "Note is required."}}},
	} {
		html := renderPage(t, a, "case", d)
		m := titleTag.FindStringSubmatch(html)
		if m == nil {
			t.Fatal("no title")
		}
		title := m[1]
		for _, leak := range []string{v.Person.GivenName, v.Person.FamilyName, v.Person.PrisonNumber} {
			if strings.Contains(title, leak) {
				t.Errorf("the title %q shows %q", title, leak)
			}
		}
		if !strings.Contains(title, v.ID) {
			t.Errorf("the title %q does not name case %s", title, v.ID)
		}
	}
}
