package web

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/httprate"

	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/casework"
	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/resettlement"
)

// The pages' templates and their helpers, without a database: every page is
// rendered from sample data and checked for what assistive technology
// needs (one h1, unique ids, a label for every control, error links that
// lead somewhere).

var pageNow = time.Date(2026, 3, 10, 10, 30, 0, 0, resettlement.London)

func sampleCase(t *testing.T) casework.CaseView {
	t.Helper()
	policy := resettlement.DefaultPolicy()
	c, err := resettlement.Open(resettlement.OpenCase{CaseID: "k3m9x2p7qa", Establishment: "PVI", Team: "pvi-resettlement",
		Owner: "officer-1", ReceivedOn: resettlement.D(2026, 2, 1), Dates: resettlement.ReleaseDates{CRD: resettlement.D(2026, 4, 30)},
		Adult: true, Policy: &policy}, pageNow.Add(-30*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	v := casework.CaseView{ID: c.ID, Person: postgres.Person{PrisonNumber: "A1234BC", Booking: "1", GivenName: "Sam", FamilyName: "Example",
		DateOfBirth: resettlement.D(1990, 5, 17), LocalAuthority: "Islington"}, Establishment: c.Establishment, Team: c.Team,
		Owner: c.Owner, Stage: string(c.Stage(pageNow)), ReceivedOn: c.ReceivedOn, ReleaseDates: c.Dates, Pathways: c.Pathways,
		LastProgress: c.LastProgress, Live: true}
	v.ReleaseDay, _ = c.ReleaseDay()
	for _, s := range c.Steps {
		v.Steps = append(v.Steps, casework.StepView{Step: s, Overdue: s.Overdue(pageNow), Urgency: c.StepUrgency(s, pageNow)})
	}
	return v
}

func sampleTeams() []postgres.Team {
	return []postgres.Team{{ID: "pvi-resettlement", Name: "Pentonville resettlement", Establishment: "PVI", Active: true},
		{ID: "bxi-resettlement", Name: "Brixton resettlement", Establishment: "BXI", Active: true}}
}

func sampleOwners() []option {
	return []option{{Value: "pvi-resettlement/", Label: "Team queue: Pentonville resettlement"},
		{Value: "pvi-resettlement/officer-1", Label: "Olu Officer"}}
}

var (
	idAttr    = regexp.MustCompile(`\sid="([^"]+)"`)
	forAttr   = regexp.MustCompile(`<label[^>]*\sfor="([^"]+)"`)
	controls  = regexp.MustCompile(`<(input|select|textarea)\b[^>]*>`)
	hrefFrag  = regexp.MustCompile(`href="#([^"]+)"`)
	h1s       = regexp.MustCompile(`<h1[\s>]`)
	typeAttr  = regexp.MustCompile(`\stype="([^"]+)"`)
	describer = regexp.MustCompile(`aria-describedby="([^"]+)"`)
)

// checkPage checks the structure of a rendered page.
func checkPage(t *testing.T, name, html string) {
	t.Helper()
	if strings.Contains(html, "ZgotmplZ") || strings.Contains(html, "<no value>") {
		t.Errorf("%s: a value did not render: %s", name, html)
	}
	if n := len(h1s.FindAllString(html, -1)); n != 1 {
		t.Errorf("%s: %d h1 headings, want 1", name, n)
	}
	for _, must := range []string{`<html lang="en-GB" class="govuk-template">`, `<main class="govuk-main-wrapper`, `id="main"`, `<meta name="viewport"`,
		`class="govuk-skip-link skip" href="#main"`, `govuk-frontend.min.css`} {
		if !strings.Contains(html, must) {
			t.Errorf("%s: no %s", name, must)
		}
	}
	ids := map[string]int{}
	for _, m := range idAttr.FindAllStringSubmatch(html, -1) {
		ids[m[1]]++
	}
	for id, n := range ids {
		if n > 1 {
			t.Errorf("%s: id %q is used %d times", name, id, n)
		}
	}
	labelled := map[string]bool{}
	for _, m := range forAttr.FindAllStringSubmatch(html, -1) {
		labelled[m[1]] = true
		if ids[m[1]] == 0 {
			t.Errorf("%s: a label is for %q, which no element has", name, m[1])
		}
	}
	for _, c := range controls.FindAllString(html, -1) {
		if ty := typeAttr.FindStringSubmatch(c); ty != nil && (ty[1] == "hidden" || ty[1] == "submit") {
			continue
		}
		id := idAttr.FindStringSubmatch(c)
		if id == nil || !labelled[id[1]] {
			t.Errorf("%s: a control has no label: %s", name, c)
		}
	}
	for _, m := range hrefFrag.FindAllStringSubmatch(html, -1) {
		if ids[m[1]] == 0 {
			t.Errorf("%s: a link goes to #%s, which is not on the page", name, m[1])
		}
	}
	for _, m := range describer.FindAllStringSubmatch(html, -1) {
		for _, id := range strings.Fields(m[1]) {
			if ids[id] == 0 {
				t.Errorf("%s: aria-describedby names %q, which is not on the page", name, id)
			}
		}
	}
}

func renderPage(t *testing.T, a *site, name string, d pageData) string {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	p := &auth.Principal{Staff: postgres.Staff{ID: "manager-1", Name: "Mo Manager", Role: auth.RoleManager}}
	r = r.WithContext(auth.WithPrincipal(r.Context(), p))
	w := httptest.NewRecorder()
	a.render(w, r, http.StatusOK, name, d)
	if w.Code != http.StatusOK {
		t.Fatalf("%s: %d %s", name, w.Code, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" || w.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("%s: Content-Type %q, Cache-Control %q", name, ct, w.Header().Get("Cache-Control"))
	}
	return w.Body.String()
}

func TestPagesRender(t *testing.T) {
	a := &site{Deps{Mailbox: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}}
	v := sampleCase(t)

	// The open-case form, refused by the service's checks: each error lands
	// beside an input of the form.
	bad := url.Values{"person.prison_number": {"12345"}, "person.given_name": {"<b>"}, "person.date_of_birth": {"2030-01-01"},
		"received_on": {"2026-03-01"}, "establishment": {"PVI"}, "team": {"pvi-resettlement"},
		"release_dates.sed": {"2026-03-05"}, "release_dates.crd": {"2026-04-30"}}
	req, errs := openRequest(bad)
	if len(errs) > 0 {
		t.Fatalf("the form's dates were not read: %v", errs)
	}
	pe := req.Check(pageNow)
	e, ok := casework.ErrorOf(pe)
	if !ok {
		t.Fatal("the bad form was accepted")
	}
	open := newForm("open", "/cases/new", openCaseFields()...).set(bad)
	open.fail(e, nil)
	if len(open.Problems) > 0 || len(open.Errs) < 4 {
		t.Errorf("errors not placed beside inputs: %v / %v", open.Problems, open.Errs)
	}
	for _, f := range []string{"person.prison_number", "person.given_name", "person.family_name", "person.date_of_birth"} {
		if open.E(f) == "" {
			t.Errorf("no error beside %s: %v", f, open.Errs)
		}
	}
	html := renderPage(t, a, "open", pageData{Title: "Open a case", Summary: open.summary(), Data: openCasePage{Form: open,
		Establishments: []option{{Value: "PVI", Label: "PVI"}}, Teams: []option{{Value: "pvi-resettlement", Label: "Pentonville"}},
		Owners: []option{{Value: "", Label: "Nobody"}}}})
	checkPage(t, "open", html)
	for _, want := range []string{`govuk-input--error`, `govuk-error-summary`, "Prison number must be a letter, four digits and two letters", `value="12345"`, "There is a problem"} {
		if !strings.Contains(html, want) {
			t.Errorf("open: no %q", want)
		}
	}

	// The case page, with one step's form refused for want of a note.
	failed := newForm("act-housing-referral", "/cases/k3m9x2p7qa/steps/housing-referral/act", "action", "note").set(url.Values{"action": {"decline"}})
	failed.fail(casework.FieldsError(resettlement.Errors{{Field: "note", Message: "a note is required to decline a step"}}), nil)
	var fs caseForms
	fs.Owners, fs.Teams = sampleOwners(), []option{{Value: "bxi-resettlement", Label: "Brixton resettlement (BXI)"}}
	entries := []postgres.TimelineEntry{{Event: resettlement.Event{Seq: 1, At: pageNow.Add(-time.Hour), By: "officer-1", Kind: "opened", Text: "Case opened"}},
		{Event: resettlement.Event{Seq: 2, At: pageNow, By: "officer-1", Kind: "note", Text: "Note added"}, Note: "Spoke to <the council>."}}
	page := buildCasePage(caseInputs{v: v, entries: entries, names: map[string]string{"officer-1": "Olu Officer"}, teams: sampleTeams(),
		options: fs, now: pageNow, failed: failed})
	if page.Timeline[0].Step.ID != "identify" || !slices.ContainsFunc(page.Timeline, func(it timelineItem) bool { return it.Marker == "today" }) {
		t.Errorf("timeline %+v", page.Timeline[:2])
	}
	for i := 1; i < len(page.Timeline); i++ {
		x, y := page.Timeline[i-1], page.Timeline[i]
		if x.Marker == "" && y.Marker == "" && y.Step.Due.Before(x.Step.Due) {
			t.Errorf("%s is after %s but due before it", y.Step.ID, x.Step.ID)
		}
	}
	html = renderPage(t, a, "case", pageData{Title: page.Name, Summary: failed.summary(), Data: page})
	checkPage(t, "case", html)
	for _, want := range []string{"Sam Example", "A1234BC", "R−", "Blocks release", "Overdue", "Note: a note is required to decline a step.",
		"Spoke to &lt;the council&gt;.", `<details class="tg-step__details" open>`, "Transfer to another prison", "Record the needs assessment"} {
		if !strings.Contains(html, want) {
			t.Errorf("case: no %q", want)
		}
	}
	if strings.Count(html, `name="key"`) < 20 {
		t.Errorf("case: forms without an idempotency key")
	}

	// The board, with its chart.
	labels, ends := overdueWeeks(pageNow, 12)
	if len(labels) != 12 || len(ends) != 12 || !ends[11].Equal(pageNow) {
		t.Fatalf("weeks %v %v", labels, ends)
	}
	board := boardPage{Filters: newForm("filters", "/board", "establishment", "team", "owner", "pathway"), Teams: []option{{Value: "pvi-resettlement", Label: "Pentonville"}},
		Staff: []option{{Value: "officer-1", Label: "Olu Officer"}}, Pathways: []option{{Value: "health", Label: "Health"}},
		Establishments: []option{{Value: "PVI", Label: "PVI"}}, Total: 2, Shown: 2, OverdueSteps: 1, StalledCases: 1,
		TeamCounts: []countRow{{Name: "Pentonville", OverdueSteps: 1, StalledCases: 1}}, PathwayCounts: []countRow{{Name: "Accommodation", OverdueSteps: 1}},
		Chart: drawOverdueChart(labels, []int{0, 1, 2, 3, 4, 5, 6, 7, 3, 2, 1, 1}), Reassign: newForm("reassign", "/board/reassign", "item", "owner", "note"),
		Owners: sampleOwners(), CSV: "/board.csv", Return: "/board",
		Rows: []boardRow{{Kind: "overdue-step", CaseID: "k3m9x2p7qa", Name: "Sam Example", PrisonNumber: "A1234BC", StepID: "housing-referral",
			Title: "Housing: duty to refer", Severity: "critical", Owner: "Olu Officer", Overdue: "3 days", ToRelease: "in 5 days",
			Item: "k3m9x2p7qa/housing-referral", ReassignURL: "/board/reassign/k3m9x2p7qa/housing-referral"},
			{Kind: "stalled-case", CaseID: "a2b3c4d5e6", Name: "Alex Other", Stalled: true, Title: "No progress since", Severity: "high"}}}
	html = renderPage(t, a, "board", pageData{Title: "Board", Data: board})
	checkPage(t, "board", html)
	for _, want := range []string{`role="img"`, "<title id=\"chart-title\">", `value="k3m9x2p7qa/housing-referral"`, "Download as CSV", "sev-critical"} {
		if !strings.Contains(html, want) {
			t.Errorf("board: no %q", want)
		}
	}

	for name, d := range map[string]pageData{
		"signin":   {Title: "Sign in", Data: signInPage{Form: newForm("sign-in", "/sign-in", "login", "password"), Next: "/cases", OIDC: true}},
		"error":    {Title: "Not Found", Data: "There is no such case."},
		"reassign": {Title: "Reassign", Data: reassignPage{Name: "Sam Example", Step: v.Steps[3], Form: newForm("reassign", "/board/reassign", "owner", "note"), Owners: sampleOwners(), Return: "/board", Item: "k3m9x2p7qa/housing-referral"}},
		"cases": {Title: "My cases", Data: casesPage{Show: "mine", AllLabel: "All cases at PVI", Officer: true, Search: newForm("search", "/cases/search", "q"),
			Due:   []dueRow{{CaseID: "k3m9x2p7qa", Name: "Sam Example", StepID: "gp-registration", Title: "GP registration", Overdue: true}},
			Items: []caseRow{{ID: "k3m9x2p7qa", Name: "Sam Example", Stage: "Assessment"}},
			Next:  newForm("next", "/cases/search").set(url.Values{"cursor": {"abc"}})}},
	} {
		html := renderPage(t, a, name, d)
		checkPage(t, name, html)
		if name == "signin" && !strings.Contains(html, `href="/auth/oidc/login">Sign in with OpenID Connect`) {
			t.Error("signin: no OpenID Connect button though OIDC is set up")
		}
		if !strings.Contains(html, `href="/dev/mail"`) {
			t.Errorf("%s: no link to the development mailbox", name)
		}
	}
}

// Every action the case page offers for a step is one the domain accepts
// in that step's state.
func TestStepActionsAreAllowed(t *testing.T) {
	policy := resettlement.DefaultPolicy()
	c, err := resettlement.Open(resettlement.OpenCase{CaseID: "k3m9x2p7qa", Establishment: "PVI", Team: "pvi-resettlement",
		ReceivedOn: resettlement.D(2026, 2, 1), Dates: resettlement.ReleaseDates{CRD: resettlement.D(2026, 6, 30)}, Policy: &policy}, pageNow)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.ActOnStep(resettlement.ActOnStep{Meta: resettlement.Meta{RequestID: "w", By: "officer-1", NoteID: 1}, StepID: "bank-account", Action: "waiting"}, pageNow); err != nil {
		t.Fatal(err)
	}
	for _, s := range c.Steps {
		for _, o := range stepActions(s) {
			if s.ID == "release" && o.Value == "complete" {
				continue // allowed only near release day
			}
			d := c.Clone()
			err := d.ActOnStep(resettlement.ActOnStep{Meta: resettlement.Meta{RequestID: "x", By: "officer-1", NoteID: 1}, StepID: s.ID,
				Action: resettlement.StepAction(o.Value)}, pageNow)
			if err != nil {
				t.Errorf("%s (%s) offers %s, which the domain refuses: %v", s.ID, s.Status, o.Value, err)
			}
		}
	}
}

func TestPageHelpers(t *testing.T) {
	for p, ok := range map[string]bool{"/cases": true, "/cases/abc123": true, "/board": true, "//evil.example": false,
		"https://evil.example": false, "/cases/../x": false, "/sign-in": false, "/x?y=1": false, "": false, `/\evil`: false} {
		if safeLocalPath(p) != ok {
			t.Errorf("safeLocalPath(%q) = %v", p, !ok)
		}
	}
	r := resettlement.D(2026, 5, 1)
	for _, c := range []struct {
		d    resettlement.Date
		want string
	}{{resettlement.D(2026, 3, 6), "R−56"}, {r, "R"}, {resettlement.D(2026, 5, 8), "R+7"}, {resettlement.Date{}, ""}} {
		if got := relRelease(c.d, r); got != c.want {
			t.Errorf("relRelease(%s) = %q, want %q", c.d, got, c.want)
		}
	}
	for _, c := range []struct{ label, msg, want string }{
		{"Prison number", "must be a prison number: a letter, four digits", "Prison number must be a letter, four digits."},
		{"Team", "is not an active team", "Team is not an active team."},
		{"Note", "a note is required to decline a step", "Note: a note is required to decline a step."},
	} {
		if got := sentence(c.label, c.msg); got != c.want {
			t.Errorf("sentence(%q, %q) = %q", c.label, c.msg, got)
		}
	}
	// The end of the week is the start of the next Monday in London.
	for _, c := range []struct{ now, want time.Time }{
		{time.Date(2026, 3, 10, 10, 0, 0, 0, resettlement.London), time.Date(2026, 3, 16, 0, 0, 0, 0, resettlement.London)},
		{time.Date(2026, 3, 15, 23, 0, 0, 0, resettlement.London), time.Date(2026, 3, 16, 0, 0, 0, 0, resettlement.London)},
		{time.Date(2026, 3, 16, 0, 30, 0, 0, resettlement.London), time.Date(2026, 3, 23, 0, 0, 0, 0, resettlement.London)},
	} {
		if got := weekEnd(c.now); !got.Equal(c.want) {
			t.Errorf("weekEnd(%s) = %s, want %s", c.now, got, c.want)
		}
	}
	_, ends := overdueWeeks(pageNow, 3)
	if !ends[0].Equal(time.Date(2026, 3, 2, 0, 0, 0, 0, resettlement.London)) || !ends[1].Equal(time.Date(2026, 3, 9, 0, 0, 0, 0, resettlement.London)) {
		t.Errorf("week ends %v", ends)
	}
	for n, want := range map[int]int{0: 0, 1: 1, 2: 2, 3: 5, 7: 10, 11: 20, 40: 50, 120: 200} {
		if got := niceMax(n); got != want {
			t.Errorf("niceMax(%d) = %d, want %d", n, got, want)
		}
	}
	ch := drawOverdueChart([]string{"a", "b"}, []int{0, 4})
	if ch.Bars[0].H != 0 || ch.Bars[1].H != 4*(ch.Baseline-24)/5 || ch.Bars[1].Value != 4 || !ch.Bars[1].Current {
		t.Errorf("chart bars %+v", ch.Bars)
	}
	if len(ch.Gridlines) != 5 {
		t.Errorf("gridlines %+v", ch.Gridlines)
	}
	if o := parseOwner("pvi-resettlement/officer-1"); o.Team != "pvi-resettlement" || o.Staff != "officer-1" {
		t.Errorf("owner %+v", o)
	}
	if o := parseOwner("pvi-resettlement/"); o.Team != "pvi-resettlement" || o.Staff != "" {
		t.Errorf("queue %+v", o)
	}
}

// A form's dates are read into the service's request; one that is not a
// date is named by its input, and nothing is sent.
func TestOpenRequestNamesBadDates(t *testing.T) {
	f := url.Values{"person.date_of_birth": {"17/05/1990"}, "received_on": {"2026-02-01"},
		"release_dates.crd": {"2026-13-01"}, "release_dates.sed": {"2027-01-01"}, "person.prison_number": {" a1234bc "}}
	req, errs := openRequest(f)
	var fields []string
	for _, e := range errs {
		fields = append(fields, e.Field)
	}
	if strings.Join(fields, ",") != "person.date_of_birth,release_dates.crd" {
		t.Errorf("fields at fault %v", fields)
	}
	if req.ReceivedOn.String() != "2026-02-01" || req.Dates.SED.String() != "2027-01-01" || req.Person.PrisonNumber != "A1234BC" {
		t.Errorf("read %+v", req)
	}
}

// The sign-in form shares the API's rate limit and answers its refusal
// with a page.
func TestSignInRateLimitAnswersWithAPage(t *testing.T) {
	a := &site{Deps{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}}
	limit := httprate.LimitBy(1, time.Minute, func(*http.Request) (string, error) { return "one", nil },
		httprate.WithLimitHandler(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "Too many sign-in attempts from this address.", http.StatusTooManyRequests)
		}))
	h := htmlRateLimit(limit, a)(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "signed in") }))
	for i, want := range []int{http.StatusOK, http.StatusTooManyRequests} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/sign-in", nil).WithContext(context.Background()))
		if w.Code != want {
			t.Fatalf("attempt %d: %d", i+1, w.Code)
		}
		if want == http.StatusTooManyRequests && (!strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") ||
			!strings.Contains(w.Body.String(), "Too many sign-in attempts")) {
			t.Errorf("refusal: %s %s", w.Header().Get("Content-Type"), w.Body)
		}
	}
}
