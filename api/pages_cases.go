package api

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/resettlement"
)

// "My cases": the steps a worker owns that fall due this week, and the
// cases they own or can see, with a search by name or prison number.

type casesPage struct {
	Due      []dueRow
	DueUntil string
	Show     string // "mine" or "all"
	AllLabel string
	Search   *pageForm
	Query    string
	Items    []caseRow
	Next     *pageForm // the next page's form; nil on the last page
	Officer  bool
}

type dueRow struct {
	CaseID, Name, PrisonNumber, StepID, Title, Pathway string
	Due, DueIn, Release                                string
	Overdue, Blocking, Paused                          bool
}

type caseRow struct {
	ID, Name, PrisonNumber, Establishment, Team, Owner, Stage string
	Release, ReleaseIn, NextDue                               string
	Stalled, Paused, Overdue                                  bool
}

// weekEnd is the start of next Monday in London: the end of this week.
func weekEnd(now time.Time) time.Time {
	d := resettlement.DateOf(now)
	n := (8 - int(d.Weekday())) % 7
	if n == 0 {
		n = 7
	}
	return d.AddDays(n).At(0)
}

func (a *app) pageCases(w http.ResponseWriter, r *http.Request) {
	p := auth.FromContext(r.Context())
	show := r.URL.Query().Get("show")
	if show != "mine" && show != "all" {
		show = "all"
		if p.Staff.Role == auth.RoleOfficer {
			show = "mine"
		}
	}
	a.renderCases(w, r, http.StatusOK, show, "", "", nil)
}

func (a *app) pageCasesSearch(w http.ResponseWriter, r *http.Request) {
	if err := parsePageForm(w, r); err != nil {
		a.pageFail(w, r, err)
		return
	}
	f := r.PostForm
	show := f.Get("show")
	if show != "mine" {
		show = "all"
	}
	a.renderCases(w, r, http.StatusOK, show, strings.TrimSpace(f.Get("q")), f.Get("cursor"), nil)
}

func (a *app) renderCases(w http.ResponseWriter, r *http.Request, status int, show, q, cursor string, _ *pageForm) {
	ctx := r.Context()
	p, scope, perr := caseScope(r)
	if perr != nil {
		a.pageError(w, r, perr.status, perr.detail+" Use the API for those.")
		return
	}
	now := a.now()
	until := weekEnd(now)
	due, err := a.DB.StepsDue(ctx, scope, p.ID(), until, 100)
	if err != nil {
		a.pageFail(w, r, err)
		return
	}
	page := casesPage{Show: show, Query: q, Officer: p.Staff.Role == auth.RoleOfficer,
		DueUntil: showDate(resettlement.DateOf(until.Add(-time.Hour)))}
	page.AllLabel = "All cases in your teams"
	if len(scope.Establishments) == 1 {
		page.AllLabel = "All cases at " + scope.Establishments[0]
	}
	var dueIDs []string
	for _, d := range due {
		row := dueRow{CaseID: d.CaseID, Name: d.GivenName + " " + d.FamilyName, PrisonNumber: d.PrisonNumber, StepID: d.StepID,
			Title: d.Title, Pathway: resettlement.Pathway(d.Pathway).Title(), Due: showTime(d.Due), Blocking: d.Blocking,
			Overdue: d.Due.Before(now), Paused: d.Paused, Release: showDay(d.ReleaseDay)}
		row.DueIn = inDays(resettlement.DateOf(now).DaysUntil(resettlement.DateOf(d.Due)))
		page.Due = append(page.Due, row)
		if !slices.Contains(dueIDs, d.CaseID) {
			dueIDs = append(dueIDs, d.CaseID)
		}
	}
	detail := fmt.Sprintf("steps-due shown=%d", len(due))
	if len(dueIDs) > 0 {
		detail += " cases=" + strings.Join(dueIDs, ",")
	}
	if err := a.audit(r, "case.list", "", detail); err != nil {
		a.pageFail(w, r, err)
		return
	}

	// The list itself is the API's POST /api/v1/cases/search, run in-process:
	// the same filters, checks and audit line.
	search := CaseSearch{Q: q, Cursor: cursor, Limit: 25}
	if show == "mine" && q == "" {
		search.Owner = p.ID()
	}
	page.Search = newForm("search", "/cases/search", "q").set(url.Values{"q": {q}})
	ans := a.callAPI(r, http.MethodPost, a.searchCases, "", search, nil)
	var list CaseList
	if !ans.ok() {
		pr := ans.problem()
		if pr.Status >= 500 {
			a.pageError(w, r, pr.Status, pr.Detail)
			return
		}
		page.Search.fail(pr, nil)
		status = pr.Status
	} else if err := ans.decode(&list); err != nil {
		a.pageFail(w, r, err)
		return
	}
	names, err := a.staffNames(ctx, listOwners(list.Items))
	if err != nil {
		a.pageFail(w, r, err)
		return
	}
	for _, c := range list.Items {
		row := caseRow{ID: c.ID, Name: c.GivenName + " " + c.FamilyName, PrisonNumber: c.PrisonNumber, Establishment: c.Establishment,
			Team: c.Team, Owner: names[c.Owner], Stage: stageLabel(c.Stage), Stalled: c.Stalled, Paused: c.Paused}
		if !c.ReleaseDay.IsZero() {
			row.Release = showDate(c.ReleaseDay)
			row.ReleaseIn = inDays(resettlement.DateOf(now).DaysUntil(c.ReleaseDay))
		}
		if c.NextDue != nil {
			row.NextDue = showTime(*c.NextDue)
			row.Overdue = c.NextDue.Before(now)
		}
		page.Items = append(page.Items, row)
	}
	if list.NextCursor != "" {
		page.Next = newForm("next", "/cases/search").set(url.Values{"q": {q}, "cursor": {list.NextCursor}, "show": {show}})
	}
	title := "My cases"
	a.render(w, r, status, "cases", pageData{Title: title, Section: "cases", Summary: page.Search.summary(), Data: page})
}

func listOwners(items []CaseListItem) []string {
	var ids []string
	for _, c := range items {
		if c.Owner != "" {
			ids = append(ids, c.Owner)
		}
	}
	return ids
}

// staffNames maps staff ids to names; an id with no name maps to itself.
func (a *app) staffNames(ctx context.Context, ids []string) (map[string]string, error) {
	names, err := a.DB.StaffNames(ctx, ids)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		if _, ok := names[id]; !ok {
			names[id] = id
		}
	}
	return names, nil
}

// scopeTeams lists the active teams whose cases the person can see.
func (a *app) scopeTeams(ctx context.Context, p *auth.Principal) ([]postgres.Team, error) {
	scope, ok := p.CaseScope()
	if !ok {
		return nil, nil
	}
	all, err := a.DB.AllTeams(ctx)
	if err != nil {
		return nil, err
	}
	var out []postgres.Team
	for _, t := range all {
		if t.Active && (scope.All || slices.Contains(scope.Establishments, t.Establishment) || slices.Contains(scope.Teams, t.ID)) {
			out = append(out, t)
		}
	}
	return out, nil
}

// ownerOptions offers each team's queue and each active member of the
// teams, as "team/staff" ("team/" for the queue).
func (a *app) ownerOptions(ctx context.Context, teams []postgres.Team) ([]option, error) {
	ids := make([]string, len(teams))
	for i, t := range teams {
		ids[i] = t.ID
	}
	staff, err := a.DB.ActiveStaffIn(ctx, ids)
	if err != nil {
		return nil, err
	}
	var out []option
	for _, t := range teams {
		out = append(out, option{Value: t.ID + "/", Label: "Team queue: " + t.Name, Group: t.Name})
		for _, s := range staff {
			if s.Team == t.ID {
				out = append(out, option{Value: t.ID + "/" + s.ID, Label: s.Name, Group: t.Name})
			}
		}
	}
	return out, nil
}

// parseOwner reads an owner select's "team/staff".
func parseOwner(v string) resettlement.Owner {
	team, staff, _ := strings.Cut(v, "/")
	return resettlement.Owner{Team: team, Staff: staff}
}

// Opening a case.

var releaseDateKeys = []string{"confirmed", "crd", "ard", "hdcad", "apd", "ped", "npd", "prrd", "hdced", "ted", "sed", "led", "tused"}

func releaseDateFields() []string {
	out := make([]string, 0, len(releaseDateKeys)+2)
	for _, k := range releaseDateKeys {
		out = append(out, "release_dates."+k)
	}
	return append(out, "release_dates.indeterminate", "release_dates")
}

func openCaseFields() []string {
	return append([]string{"person.prison_number", "person.booking", "person.given_name", "person.family_name",
		"person.date_of_birth", "person.local_authority", "establishment", "team", "owner", "received_on"}, releaseDateFields()...)
}

type openCasePage struct {
	Form           *pageForm
	Establishments []option
	Teams          []option
	Owners         []option
	Exists         string // the case this person already has open, if they may see it
}

func (a *app) openCaseOptions(ctx context.Context, p *auth.Principal) (openCasePage, error) {
	teams, err := a.scopeTeams(ctx, p)
	if err != nil {
		return openCasePage{}, err
	}
	var page openCasePage
	for _, t := range teams {
		if !slices.ContainsFunc(page.Establishments, func(o option) bool { return o.Value == t.Establishment }) {
			page.Establishments = append(page.Establishments, option{Value: t.Establishment, Label: t.Establishment})
		}
		page.Teams = append(page.Teams, option{Value: t.ID, Label: t.Name + " (" + t.Establishment + ")"})
	}
	owners, err := a.ownerOptions(ctx, teams)
	if err != nil {
		return page, err
	}
	page.Owners = []option{{Value: "", Label: "Nobody yet: the team's queue"}}
	for _, o := range owners {
		if _, staff, _ := strings.Cut(o.Value, "/"); staff != "" {
			page.Owners = append(page.Owners, option{Value: staff, Label: o.Label + " (" + o.Group + ")"})
		}
	}
	return page, nil
}

func (a *app) pageOpenCase(w http.ResponseWriter, r *http.Request) {
	p, _, perr := caseScope(r)
	if perr != nil {
		a.pageError(w, r, perr.status, perr.detail)
		return
	}
	page, err := a.openCaseOptions(r.Context(), p)
	if err != nil {
		a.pageFail(w, r, err)
		return
	}
	page.Form = newForm("open", "/cases/new", openCaseFields()...)
	v := page.Form.Values
	v.Set("received_on", resettlement.DateOf(a.now()).String())
	v.Set("person.booking", "1")
	if p.Staff.Team != "" {
		if t, err := a.DB.Team(r.Context(), p.Staff.Team); err == nil && t.Active {
			v.Set("team", t.ID)
			v.Set("establishment", t.Establishment)
		}
	}
	if p.Staff.Role == auth.RoleOfficer {
		v.Set("owner", p.ID())
	}
	a.render(w, r, http.StatusOK, "open", pageData{Title: "Open a case", Section: "open", Data: page})
}

// openCaseBody turns the form into the body of POST /api/v1/cases. Dates
// go as the text typed, so the API's own decoding says what is wrong.
func openCaseBody(f url.Values) map[string]any {
	pn := strings.ToUpper(strings.Join(strings.Fields(f.Get("person.prison_number")), ""))
	person := map[string]any{"prison_number": pn, "booking": strings.TrimSpace(f.Get("person.booking")),
		"given_name": strings.TrimSpace(f.Get("person.given_name")), "family_name": strings.TrimSpace(f.Get("person.family_name")),
		"local_authority": strings.TrimSpace(f.Get("person.local_authority"))}
	if v := strings.TrimSpace(f.Get("person.date_of_birth")); v != "" {
		person["date_of_birth"] = v
	}
	body := map[string]any{"person": person, "establishment": f.Get("establishment"), "team": f.Get("team"),
		"release_dates": releaseDatesBody(f)}
	if v := f.Get("owner"); v != "" {
		body["owner"] = v
	}
	if v := strings.TrimSpace(f.Get("received_on")); v != "" {
		body["received_on"] = v
	}
	return body
}

func releaseDatesBody(f url.Values) map[string]any {
	m := map[string]any{}
	for _, k := range releaseDateKeys {
		if v := strings.TrimSpace(f.Get("release_dates." + k)); v != "" {
			m[k] = v
		}
	}
	if f.Get("release_dates.indeterminate") == "true" {
		m["indeterminate"] = true
	}
	return m
}

func (a *app) pageOpenCasePost(w http.ResponseWriter, r *http.Request) {
	p, _, perr := caseScope(r)
	if perr != nil {
		a.pageError(w, r, perr.status, perr.detail)
		return
	}
	if err := parsePageForm(w, r); err != nil {
		a.pageFail(w, r, err)
		return
	}
	f := r.PostForm
	ans := a.callAPI(r, http.MethodPost, a.openCase, f.Get("key"), openCaseBody(f), nil)
	if ans.ok() {
		id := path.Base(ans.Header.Get("Location"))
		msg := "Case opened. Its steps are planned against the release date."
		if ans.Status == http.StatusOK {
			msg = "This case was already opened by this form."
		}
		a.redirectWith(w, r, "/cases/"+id, msg)
		return
	}
	pr := ans.problem()
	if pr.Status >= 500 && pr.Status != http.StatusServiceUnavailable {
		a.pageError(w, r, pr.Status, pr.Detail)
		return
	}
	page, err := a.openCaseOptions(r.Context(), p)
	if err != nil {
		a.pageFail(w, r, err)
		return
	}
	page.Form = newForm("open", "/cases/new", openCaseFields()...).set(f)
	page.Form.fail(pr, nil)
	page.Exists = pr.CaseID
	a.render(w, r, pr.Status, "open", pageData{Title: "Open a case", Section: "open", Summary: page.Form.summary(), Data: page})
}
