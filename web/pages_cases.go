package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/casework"
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

func (a *site) pageCases(w http.ResponseWriter, r *http.Request) error {
	p := auth.FromContext(r.Context())
	if p.IsAdmin() { // administrators see no cases: their start page is the staff list
		http.Redirect(w, r, "/admin/staff", http.StatusSeeOther)
		return nil
	}
	show := r.URL.Query().Get("show")
	if show != "mine" && show != "all" {
		show = "all"
		if p.Staff.Role == auth.RoleOfficer {
			show = "mine"
		}
	}
	return a.renderCases(w, r, http.StatusOK, show, "", "")
}

func (a *site) pageCasesSearch(w http.ResponseWriter, r *http.Request) error {
	if err := parsePageForm(w, r); err != nil {
		return err
	}
	f := r.PostForm
	show := f.Get("show")
	if show != "mine" {
		show = "all"
	}
	return a.renderCases(w, r, http.StatusOK, show, strings.TrimSpace(f.Get("q")), f.Get("cursor"))
}

func (a *site) renderCases(w http.ResponseWriter, r *http.Request, status int, show, q, cursor string) error {
	ctx, p := r.Context(), auth.FromContext(r.Context())
	if err := casework.SeesCases(p); err != nil {
		e, _ := casework.ErrorOf(err)
		a.pageError(w, r, casework.Status(err), e.Detail+" Use the API for those.")
		return nil
	}
	now := a.now()
	until := weekEnd(now)
	due, scope, err := a.Cases.StepsDue(ctx, p, until)
	if err != nil {
		return err
	}
	page := casesPage{Show: show, Query: q, Officer: p.Staff.Role == auth.RoleOfficer,
		DueUntil: showDate(resettlement.DateOf(until.Add(-time.Hour)))}
	page.AllLabel = "All cases in your teams"
	if len(scope.Establishments) == 1 {
		page.AllLabel = "All cases at " + scope.Establishments[0]
	}
	for _, d := range due {
		row := dueRow{CaseID: d.CaseID, Name: d.GivenName + " " + d.FamilyName, PrisonNumber: d.PrisonNumber, StepID: d.StepID,
			Title: d.Title, Pathway: resettlement.Pathway(d.Pathway).Title(), Due: showTime(d.Due), Blocking: d.Blocking,
			Overdue: d.Due.Before(now), Paused: d.Paused, Release: showDay(d.ReleaseDay)}
		row.DueIn = inDays(resettlement.DateOf(now).DaysUntil(resettlement.DateOf(d.Due)))
		page.Due = append(page.Due, row)
	}

	// The list itself is the API's list: the same filters, checks and audit.
	search := casework.CaseSearch{Q: q, Cursor: cursor, Limit: 25}
	if show == "mine" && q == "" {
		search.Owner = p.ID()
	}
	page.Search = newForm("search", "/cases/search", "q").set(url.Values{"q": {q}})
	list, err := a.Cases.ListCases(ctx, p, search)
	if err != nil {
		e := formError(err)
		if e == nil {
			return err
		}
		page.Search.fail(e, nil)
		status = casework.Status(err)
	}
	names, err := a.Cases.StaffNames(ctx, listOwners(list.Items))
	if err != nil {
		return err
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
	return nil
}

func listOwners(items []casework.CaseListItem) []string {
	var ids []string
	for _, c := range items {
		if c.Owner != "" {
			ids = append(ids, c.Owner)
		}
	}
	return ids
}

// ownerOptions offers each team's queue and each active member of the
// teams, as "team/staff" ("team/" for the queue).
func ownerOptions(teams []postgres.Team, staff []postgres.Staff) []option {
	var out []option
	for _, t := range teams {
		out = append(out, option{Value: t.ID + "/", Label: "Team queue: " + t.Name, Group: t.Name})
		for _, s := range staff {
			if s.Team == t.ID {
				out = append(out, option{Value: t.ID + "/" + s.ID, Label: s.Name, Group: t.Name})
			}
		}
	}
	return out
}

// parseOwner reads an owner select's "team/staff".
func parseOwner(v string) resettlement.Owner {
	team, staff, _ := strings.Cut(v, "/")
	return resettlement.Owner{Team: team, Staff: staff}
}

// Opening a case.

func releaseDateFields() []string {
	out := make([]string, 0, len(releaseDateKeys)+2)
	for _, k := range releaseDateKeys {
		out = append(out, "release_dates."+k)
	}
	return append(out, "release_dates.indeterminate", "release_dates")
}

func openCaseFields() []string {
	return append([]string{"person.prison_number", "person.booking", "person.given_name", "person.family_name",
		"person.date_of_birth", "person.local_authority", "establishment", "team", "owner", "received_on", "sentence_date"}, releaseDateFields()...)
}

type openCasePage struct {
	Form           *pageForm
	Establishments []option
	Teams          []option
	Owners         []option
	Exists         string // the case this person already has open, if they may see it
}

func (a *site) openCaseOptions(ctx context.Context, p *auth.Principal) (openCasePage, error) {
	teams, staff, err := a.Cases.Reach(ctx, p)
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
	owners := ownerOptions(teams, staff)
	page.Owners = []option{{Value: "", Label: "Nobody yet: the team's queue"}}
	for _, o := range owners {
		if _, staff, _ := strings.Cut(o.Value, "/"); staff != "" {
			page.Owners = append(page.Owners, option{Value: staff, Label: o.Label + " (" + o.Group + ")"})
		}
	}
	return page, nil
}

func (a *site) pageOpenCase(w http.ResponseWriter, r *http.Request) error {
	p := auth.FromContext(r.Context())
	if err := casework.SeesCases(p); err != nil {
		return err
	}
	page, err := a.openCaseOptions(r.Context(), p)
	if err != nil {
		return err
	}
	page.Form = newForm("open", "/cases/new", openCaseFields()...)
	v := page.Form.Values
	v.Set("received_on", resettlement.DateOf(a.now()).String())
	v.Set("person.booking", "1")
	if p.Staff.Team != "" {
		if t, err := a.Cases.Team(r.Context(), p.Staff.Team); err == nil && t.Active {
			v.Set("team", t.ID)
			v.Set("establishment", t.Establishment)
		}
	}
	if p.Staff.Role == auth.RoleOfficer {
		v.Set("owner", p.ID())
	}
	a.render(w, r, http.StatusOK, "open", pageData{Title: "Open a case", Section: "open", Data: page})
	return nil
}

// openRequest reads the form into a request to open a case, naming the
// inputs that cannot be read.
func openRequest(f url.Values) (casework.OpenRequest, resettlement.Errors) {
	var errs resettlement.Errors
	req := casework.OpenRequest{Establishment: f.Get("establishment"), Team: f.Get("team"), Owner: f.Get("owner")}
	req.Person.PrisonNumber = strings.ToUpper(strings.Join(strings.Fields(f.Get("person.prison_number")), ""))
	req.Person.Booking = strings.TrimSpace(f.Get("person.booking"))
	req.Person.GivenName = strings.TrimSpace(f.Get("person.given_name"))
	req.Person.FamilyName = strings.TrimSpace(f.Get("person.family_name"))
	req.Person.LocalAuthority = strings.TrimSpace(f.Get("person.local_authority"))
	req.Person.DateOfBirth = formDate(f, "person.date_of_birth", &errs)
	req.ReceivedOn = formDate(f, "received_on", &errs)
	req.SentenceDate = formDate(f, "sentence_date", &errs)
	req.Dates = formReleaseDates(f, &errs)
	return req, errs
}

func (a *site) pageOpenCasePost(w http.ResponseWriter, r *http.Request) error {
	p := auth.FromContext(r.Context())
	if err := casework.SeesCases(p); err != nil {
		return err
	}
	if err := parsePageForm(w, r); err != nil {
		return err
	}
	f := r.PostForm
	req, errs := openRequest(f)
	var err error
	var view casework.CaseView
	created := false
	if len(errs) > 0 {
		err = casework.FieldsError(errs)
	} else {
		view, created, err = a.Cases.OpenCase(r.Context(), p, req, f.Get("key"))
	}
	if err == nil {
		msg := "Case opened. Its steps are planned against the release date."
		if !created {
			msg = "This case was already opened by this form."
		}
		a.redirectWith(w, r, "/cases/"+view.ID, msg)
		return nil
	}
	e := formError(err)
	if e == nil {
		return err
	}
	page, oerr := a.openCaseOptions(r.Context(), p)
	if oerr != nil {
		return oerr
	}
	page.Form = newForm("open", "/cases/new", openCaseFields()...).set(f)
	page.Form.fail(e, nil)
	page.Exists = e.CaseID
	a.render(w, r, casework.Status(err), "open", pageData{Title: "Open a case", Section: "open", Summary: page.Form.summary(), Data: page})
	return nil
}
