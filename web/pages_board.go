package web

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/casework"
	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/resettlement"
)

// The managers' board as a page: the board's lines (most urgent first),
// its counts per team and pathway, a chart of overdue steps over the last
// weeks, reassigning one step or many, and a CSV export.

type boardPage struct {
	Filters        *pageForm
	Establishments []option
	Teams          []option
	Staff          []option
	Pathways       []option
	Rows           []boardRow
	Total          int
	Shown          int
	Next, First    string
	OverdueSteps   int
	StalledCases   int
	TeamCounts     []countRow
	PathwayCounts  []countRow
	Chart          overdueChart
	Reassign       *pageForm
	Owners         []option
	CSV            string
	Return         string
	// Undeliverable are emails about these teams' cases that no mail
	// server would take: people who were never told.
	Undeliverable []postgres.Undeliverable
}

type boardRow struct {
	Kind, CaseID, Name, PrisonNumber, StepID, Title, Pathway string
	Owner, Severity, Due, Overdue, ToRelease, LastActivity   string
	Blocking, Stalled                                        bool
	Item, ReassignURL                                        string
}

type countRow struct {
	Name                                       string
	OverdueSteps, StalledCases, Critical, High int
}

// overdueChart is a bar chart drawn as inline SVG: one bar a week.
type overdueChart struct {
	Bars          []chartBar
	Max           int
	Width, Height int
	Baseline      int
	Gridlines     []chartLine
	Summary       string
}

type chartBar struct {
	X, Y, W, H     int
	LabelX, LabelY int
	Value          int
	Week, Short    string
	Current        bool
}

type chartLine struct {
	Y     int
	Label string
}

// boardFilterQuery keeps only the board's filters of a query.
func boardFilterQuery(q url.Values) url.Values {
	out := url.Values{}
	for _, k := range casework.BoardFilters {
		if v := q.Get(k); v != "" {
			out.Set(k, v)
		}
	}
	return out
}

func (a *site) pageBoard(w http.ResponseWriter, r *http.Request) error {
	return a.renderBoard(w, r, http.StatusOK, r.URL.Query(), nil)
}

// boardQuery reads the board's filters, saying on the error page which
// are not right.
func boardQuery(q url.Values, paged bool) (casework.BoardQuery, error) {
	bq, err := casework.ParseBoardQuery(q, paged)
	if e, ok := casework.ErrorOf(err); ok {
		return bq, casework.Errorf(e.Kind, "The board's filters are not right: "+errorText(e.Fields))
	}
	return bq, err
}

func (a *site) renderBoard(w http.ResponseWriter, r *http.Request, status int, q url.Values, failed *pageForm) error {
	p := auth.FromContext(r.Context())
	if err := casework.SeesBoard(p); err != nil {
		return err
	}
	bq, err := boardQuery(q, true)
	if err != nil {
		return err
	}
	now := a.now()
	labels, ends := overdueWeeks(now, 12)
	f, err := a.Cases.OpenBoardFile(r.Context(), p, bq, ends)
	if err != nil {
		return err
	}
	filters := boardFilterQuery(q)
	page := boardPage{Total: f.Total, CSV: "/board.csv", Return: "/board", Undeliverable: f.Undeliverable}
	if len(filters) > 0 {
		page.CSV += "?" + filters.Encode()
		page.Return += "?" + filters.Encode()
	}
	page.Filters = newForm("filters", "/board", casework.BoardFilters...).set(filters)
	boardOptions(f, &page)
	staffName := map[string]string{}
	for _, s := range f.Staff {
		staffName[s.ID] = s.Name
	}
	teamName := map[string]string{}
	for _, t := range f.Teams {
		teamName[t.ID] = t.Name
	}

	// This page of the board: pages follow one another by keyset, so the
	// way back is to the first page.
	page.Shown = len(f.Items)
	if f.NextCursor != "" {
		nq := url.Values{}
		for k, v := range filters {
			nq[k] = v
		}
		nq.Set("cursor", f.NextCursor)
		page.Next = "/board?" + nq.Encode()
	}
	if bq.After != nil {
		page.First = "/board"
		if len(filters) > 0 {
			page.First += "?" + filters.Encode()
		}
	}
	for _, it := range f.Items {
		row := boardRow{Kind: it.Kind, CaseID: it.CaseID, Name: it.GivenName + " " + it.FamilyName, PrisonNumber: it.PrisonNumber,
			StepID: it.StepID, Title: it.StepTitle, Severity: it.Urgency.Severity.String(), Blocking: it.Urgency.Blocking,
			Stalled: it.Kind == casework.LineStalledCase, LastActivity: showTime(it.LastProgress)}
		if it.Pathway != "" {
			row.Pathway = it.Pathway.Title()
		}
		tn := teamName[it.Owner.Team]
		if tn == "" {
			tn = it.Owner.Team
		}
		if it.Owner.Staff != "" {
			row.Owner = staffName[it.Owner.Staff]
			if row.Owner == "" {
				row.Owner = it.Owner.Staff
			}
		} else {
			row.Owner = "Team queue: " + tn
		}
		if it.Due != nil {
			row.Due = showTime(*it.Due)
			row.Overdue = plural(it.Urgency.DaysOverdue, "day")
			if it.Urgency.DaysOverdue == 0 {
				row.Overdue = "since " + it.Due.In(resettlement.London).Format("15:04")
			}
		}
		if it.Urgency.DaysToRelease != nil {
			row.ToRelease = inDays(*it.Urgency.DaysToRelease)
		}
		if row.Stalled {
			row.Title = "No progress since " + showTime(it.LastProgress)
		} else {
			row.Item = it.CaseID + "/" + it.StepID
			row.ReassignURL = "/board/reassign/" + it.CaseID + "/" + it.StepID
			if len(filters) > 0 {
				row.ReassignURL += "?" + filters.Encode()
			}
		}
		page.Rows = append(page.Rows, row)
	}

	sum := f.Summary
	page.OverdueSteps, page.StalledCases = sum.OverdueSteps, sum.StalledCases
	for _, c := range sum.Teams {
		n := teamName[c.Key]
		if n == "" {
			n = c.Key
		}
		page.TeamCounts = append(page.TeamCounts, countRow{Name: n, OverdueSteps: c.OverdueSteps, StalledCases: c.StalledCases, Critical: c.Critical, High: c.High})
	}
	for _, c := range sum.Pathways {
		n := "No pathway"
		if c.Key != "none" {
			n = resettlement.Pathway(c.Key).Title()
		}
		page.PathwayCounts = append(page.PathwayCounts, countRow{Name: n, OverdueSteps: c.OverdueSteps, Critical: c.Critical, High: c.High})
	}
	page.Chart = drawOverdueChart(labels, f.Overdue)

	page.Reassign = newForm("reassign", "/board/reassign", "item", "owner", "note")
	if failed != nil && failed.ID == "reassign" {
		page.Reassign = failed
	}
	d := pageData{Title: "Stalled and overdue", Section: "board", Data: page}
	if failed != nil {
		d.Summary = failed.summary()
	}
	a.render(w, r, status, "board", d)
	return nil
}

// boardOptions fills the filters' and the reassign form's choices from the
// manager's teams.
func boardOptions(f casework.BoardFile, page *boardPage) {
	for _, t := range f.Teams {
		page.Teams = append(page.Teams, option{Value: t.ID, Label: t.Name})
		if !slices.ContainsFunc(page.Establishments, func(o option) bool { return o.Value == t.Establishment }) {
			page.Establishments = append(page.Establishments, option{Value: t.Establishment, Label: t.Establishment})
		}
	}
	for _, s := range f.Staff {
		page.Staff = append(page.Staff, option{Value: s.ID, Label: s.Name})
	}
	for _, pw := range resettlement.Pathways {
		page.Pathways = append(page.Pathways, option{Value: string(pw), Label: pw.Title()})
	}
	page.Owners = ownerOptions(f.Teams, f.Staff)
}

// overdueWeeks gives the instants the chart counts at: the end of each of
// the last n-1 whole weeks (Monday 00:00 London) and now, for this week so
// far, with each week's label.
func overdueWeeks(now time.Time, n int) (labels []string, ends []time.Time) {
	monday := resettlement.DateOf(weekEnd(now)).AddDays(-7)
	for i := n - 1; i >= 1; i-- {
		start := monday.AddDays(-7 * i)
		labels = append(labels, start.At(12*time.Hour).Format("2 Jan"))
		ends = append(ends, start.AddDays(7).At(0))
	}
	labels = append(labels, monday.At(12*time.Hour).Format("2 Jan"))
	ends = append(ends, now)
	return labels, ends
}

// drawOverdueChart lays the bars out in a 640 by 240 box.
func drawOverdueChart(labels []string, counts []int) overdueChart {
	c := overdueChart{Width: 640, Height: 240, Baseline: 200}
	top := 24
	c.Max = 0
	for _, n := range counts {
		c.Max = max(c.Max, n)
	}
	scaleMax := niceMax(c.Max)
	slot := (c.Width - 40) / max(len(counts), 1)
	for i, n := range counts {
		h := 0
		if scaleMax > 0 {
			h = n * (c.Baseline - top) / scaleMax
		}
		b := chartBar{X: 40 + i*slot + slot/6, W: slot * 2 / 3, H: h, Y: c.Baseline - h, Value: n,
			Week: "week beginning " + labels[i], Short: labels[i], Current: i == len(counts)-1}
		b.LabelX = b.X + b.W/2
		b.LabelY = b.Y - 6
		if b.Current {
			b.Week += " (so far)"
		}
		c.Bars = append(c.Bars, b)
	}
	if scaleMax > 0 {
		step := scaleMax
		switch {
		case scaleMax >= 5 && scaleMax%5 == 0:
			step = scaleMax / 5
		case scaleMax%2 == 0:
			step = scaleMax / 2
		}
		for v := step; v <= scaleMax; v += step {
			c.Gridlines = append(c.Gridlines, chartLine{Y: c.Baseline - v*(c.Baseline-top)/scaleMax, Label: strconv.Itoa(v)})
		}
	}
	if len(counts) > 0 {
		first, last := counts[0], counts[len(counts)-1]
		c.Summary = fmt.Sprintf("Overdue steps at the end of each of the last %d weeks: %d in the week beginning %s, %d now; the most was %d.",
			len(counts), first, labels[0], last, c.Max)
	}
	return c
}

// niceMax rounds a chart's top up to 2, 5 or 10 times a power of ten.
func niceMax(n int) int {
	if n <= 0 {
		return 0
	}
	step := 1
	for {
		for _, m := range []int{1, 2, 5} {
			if m*step >= n {
				return m * step
			}
		}
		step *= 10
	}
}

// Reassigning: one step from its own page, or many by ticking them on the
// board. Both are casework.Service.Reassign, as POST /api/v1/board/reassign is.

type reassignPage struct {
	Name, PrisonNumber string
	Step               casework.StepView
	Owner              string
	Due                string
	Form               *pageForm
	Owners             []option
	Return             string
	CaseURL            string
	Item               string
}

func (a *site) pageReassignOne(w http.ResponseWriter, r *http.Request) error {
	return a.renderReassignOne(w, r, http.StatusOK, nil)
}

func (a *site) renderReassignOne(w http.ResponseWriter, r *http.Request, status int, failed *pageForm) error {
	caseID, stepID := chi.URLParam(r, "caseID"), chi.URLParam(r, "stepID")
	f, err := a.Cases.OpenStepFile(r.Context(), auth.FromContext(r.Context()), caseID, stepID)
	if err != nil {
		return err
	}
	v, s := f.View, f.Step
	page := reassignPage{Name: v.Person.GivenName + " " + v.Person.FamilyName, PrisonNumber: v.Person.PrisonNumber, Step: s,
		CaseURL: "/cases/" + caseID, Return: "/board", Item: caseID + "/" + stepID}
	if q := boardFilterQuery(r.URL.Query()); len(q) > 0 {
		page.Return += "?" + q.Encode()
	}
	if s.Owner.Staff != "" {
		page.Owner = f.Names[s.Owner.Staff]
	} else {
		page.Owner = "the " + s.Owner.Team + " team queue"
	}
	if !s.Due.IsZero() {
		page.Due = showTime(s.Due)
	}
	page.Owners = ownerOptions(f.Teams, f.Owners)
	page.Form = newForm("reassign", "/board/reassign", "owner", "note")
	page.Form.Values.Set("owner", s.Owner.Team+"/"+s.Owner.Staff)
	if failed != nil {
		page.Form = failed
	}
	d := pageData{Title: "Reassign a step", Section: "board", Data: page}
	if failed != nil {
		d.Summary = failed.summary()
	}
	a.render(w, r, status, "reassign", d)
	return nil
}

func (a *site) pageReassign(w http.ResponseWriter, r *http.Request) error {
	if err := parsePageForm(w, r); err != nil {
		return err
	}
	f := r.PostForm
	back := "/board"
	if u, err := url.Parse(f.Get("return")); err == nil && u.Path == "/board" {
		if q := boardFilterQuery(u.Query()); len(q) > 0 {
			if _, err := casework.ParseBoardQuery(q, false); err == nil {
				back += "?" + q.Encode()
			}
		}
	}
	owner, note := parseOwner(f.Get("owner")), noteOf(f)
	var items []casework.ReassignItem
	var bad []string
	for _, it := range f["item"] {
		c, s, ok := strings.Cut(it, "/")
		if !ok || !resettlement.ValidID(c) || !resettlement.ValidID(s) {
			bad = append(bad, it)
			continue
		}
		items = append(items, casework.ReassignItem{CaseID: c, StepID: s, Owner: owner, Note: note})
	}
	one := f.Get("from") == "one"
	fail := func(status int, form *pageForm) error {
		if one && len(items) == 1 {
			rctx := chi.RouteContext(r.Context())
			rctx.URLParams.Add("caseID", items[0].CaseID)
			rctx.URLParams.Add("stepID", items[0].StepID)
			q := url.Values{}
			if u, err := url.Parse(back); err == nil {
				q = u.Query()
			}
			r.URL.RawQuery = q.Encode()
			return a.renderReassignOne(w, r, status, form)
		}
		u, _ := url.Parse(back)
		return a.renderBoard(w, r, status, u.Query(), form)
	}
	form := newForm("reassign", "/board/reassign", "item", "owner", "note").set(f)
	if len(bad) > 0 {
		form.Errs["item"] = "Steps: choose the steps from the board."
		return fail(http.StatusUnprocessableEntity, form)
	}
	if len(items) == 0 {
		form.Errs["item"] = "Tick at least one step to reassign."
		return fail(http.StatusUnprocessableEntity, form)
	}
	res, err := a.Cases.Reassign(r.Context(), auth.FromContext(r.Context()), f.Get("key"), items)
	if err != nil {
		e := formError(err)
		if e == nil {
			return err
		}
		form.fail(e, func(field string) string {
			if strings.HasSuffix(field, ".owner.staff") || strings.HasSuffix(field, ".owner.team") {
				return "owner"
			}
			if strings.HasSuffix(field, ".note") {
				return "note"
			}
			if field == "items" {
				return "item"
			}
			return field
		})
		return fail(casework.Status(err), form)
	}
	done, failedN := 0, 0
	var why []string
	for _, x := range res {
		if x.Err == nil {
			done++
			continue
		}
		failedN++
		msg := "Something went wrong on our side with this item."
		if e, ok := casework.ErrorOf(x.Err); ok {
			msg = e.Detail
			if len(e.Fields) > 0 {
				msg = errorText(e.Fields)
			}
		} else {
			a.Logger.ErrorContext(r.Context(), "bulk reassign item failed", "case", x.CaseID, "err", x.Err)
		}
		if !slices.Contains(why, msg) {
			why = append(why, msg)
		}
	}
	if done == 0 && failedN > 0 {
		form.Problems = append(form.Problems, "No step was reassigned: "+strings.Join(why, " "))
		return fail(http.StatusConflict, form)
	}
	msg := "Reassigned " + plural(done, "step") + ". Reminders now go to the new owner."
	if failedN > 0 {
		msg += " " + plural(failedN, "step") + " could not be: " + strings.Join(why, " ")
	}
	a.redirectWith(w, r, back, msg)
	return nil
}

// pageBoardCSV exports the whole board, with the page's filters, as CSV.
func (a *site) pageBoardCSV(w http.ResponseWriter, r *http.Request) error {
	bq, err := boardQuery(boardFilterQuery(r.URL.Query()), false)
	if err != nil {
		return err
	}
	items, err := a.Cases.BoardExport(r.Context(), auth.FromContext(r.Context()), bq)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="throughgate-board.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"severity", "kind", "case_id", "prison_number", "given_name", "family_name", "establishment", "team",
		"step_id", "step", "pathway", "owner_staff", "owner_team", "due", "days_overdue", "days_to_release", "blocks_release", "last_progress"})
	for _, it := range items {
		due, toRelease := "", ""
		if it.Due != nil {
			due = it.Due.UTC().Format(time.RFC3339)
		}
		if it.Urgency.DaysToRelease != nil {
			toRelease = strconv.Itoa(*it.Urgency.DaysToRelease)
		}
		_ = cw.Write([]string{it.Urgency.Severity.String(), it.Kind, it.CaseID, casework.SpreadsheetSafe(it.PrisonNumber), casework.SpreadsheetSafe(it.GivenName),
			casework.SpreadsheetSafe(it.FamilyName), it.Establishment, it.Team, it.StepID, casework.SpreadsheetSafe(it.StepTitle), string(it.Pathway), it.Owner.Staff,
			it.Owner.Team, due, strconv.Itoa(it.Urgency.DaysOverdue), toRelease, strconv.FormatBool(it.Urgency.Blocking),
			it.LastProgress.UTC().Format(time.RFC3339)})
	}
	cw.Flush()
	return nil
}
