package api

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
	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/resettlement"
)

// The managers' board as a page: the API's board (boardItems, most urgent
// first), its counts per team and pathway, a chart of overdue steps over
// the last weeks, reassigning one step or many, and a CSV export.

type boardPage struct {
	Filters        *pageForm
	Establishments []option
	Teams          []option
	Staff          []option
	Pathways       []option
	Rows           []boardRow
	Total          int
	From, To       int
	Next, Prev     string
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
	for _, k := range []string{"establishment", "team", "owner", "pathway"} {
		if v := q.Get(k); v != "" {
			out.Set(k, v)
		}
	}
	return out
}

func (a *app) pageBoard(w http.ResponseWriter, r *http.Request) {
	a.renderBoard(w, r, http.StatusOK, r.URL.Query(), nil)
}

func (a *app) renderBoard(w http.ResponseWriter, r *http.Request, status int, q url.Values, failed *pageForm) {
	ctx := r.Context()
	p, scope, perr := boardScope(r)
	if perr != nil {
		a.pageError(w, r, perr.status, perr.detail)
		return
	}
	bq, qp := readBoardQuery(q, true)
	if qp != nil {
		a.pageError(w, r, qp.status, "The board's filters are not right: "+Problem{Errors: qp.fields}.errorText())
		return
	}
	items, err := a.boardItems(r, scope, bq)
	if err != nil {
		a.pageFail(w, r, err)
		return
	}
	filters := boardFilterQuery(q)
	page := boardPage{Total: len(items), CSV: "/board.csv", Return: "/board"}
	if page.Undeliverable, err = a.DB.UndeliverableEmails(ctx, scope.Teams); err != nil {
		a.pageFail(w, r, err)
		return
	}
	if len(filters) > 0 {
		page.CSV += "?" + filters.Encode()
		page.Return += "?" + filters.Encode()
	}
	page.Filters = newForm("filters", "/board", "establishment", "team", "owner", "pathway").set(filters)
	if err := a.boardOptions(r, p, &page); err != nil {
		a.pageFail(w, r, err)
		return
	}
	staffName := map[string]string{}
	for _, s := range page.Staff {
		staffName[s.Value] = s.Label
	}
	var ids []string
	for _, it := range items {
		ids = append(ids, it.Owner.Staff)
	}
	names, err := a.staffNames(ctx, slices.DeleteFunc(ids, func(s string) bool { return s == "" }))
	if err != nil {
		a.pageFail(w, r, err)
		return
	}
	teamName := map[string]string{}
	for _, t := range page.Teams {
		teamName[t.Value] = t.Label
	}

	// This page of the board.
	now := a.now()
	end := min(bq.offset+bq.limit, len(items))
	shown := items[min(bq.offset, len(items)):end]
	page.From, page.To = min(bq.offset+1, len(items)), end
	if end < len(items) {
		nq := url.Values{}
		for k, v := range filters {
			nq[k] = v
		}
		nq.Set("cursor", fmt.Sprintf("o%d", end))
		page.Next = "/board?" + nq.Encode()
	}
	if bq.offset > 0 {
		pq := url.Values{}
		for k, v := range filters {
			pq[k] = v
		}
		if prev := bq.offset - bq.limit; prev > 0 {
			pq.Set("cursor", fmt.Sprintf("o%d", prev))
		}
		page.Prev = "/board?" + pq.Encode()
	}
	var caseIDs []string
	for _, it := range shown {
		row := boardRow{Kind: it.Kind, CaseID: it.CaseID, Name: it.GivenName + " " + it.FamilyName, PrisonNumber: it.PrisonNumber,
			StepID: it.StepID, Title: it.StepTitle, Severity: it.Urgency.Severity.String(), Blocking: it.Urgency.Blocking,
			Stalled: it.Kind == "stalled-case", LastActivity: showTime(it.LastProgress)}
		if it.Pathway != "" {
			row.Pathway = it.Pathway.Title()
		}
		tn := teamName[it.Owner.Team]
		if tn == "" {
			tn = it.Owner.Team
		}
		if it.Owner.Staff != "" {
			row.Owner = names[it.Owner.Staff]
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
		if len(caseIDs) == 0 || caseIDs[len(caseIDs)-1] != it.CaseID {
			caseIDs = append(caseIDs, it.CaseID)
		}
	}
	if err := a.audit(r, "board.view", "", fmt.Sprintf("page shown=%d cases=%s", len(shown), strings.Join(caseIDs, ","))); err != nil {
		a.pageFail(w, r, err)
		return
	}

	// The counts are the API's GET /api/v1/board/summary, run in-process.
	ans := a.callAPI(r, http.MethodGet, a.getBoardSummary, "", nil, filters)
	var sum BoardSummary
	if !ans.ok() || ans.decode(&sum) != nil {
		a.pageError(w, r, ans.Status, ans.problem().Detail)
		return
	}
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

	labels, ends := overdueWeeks(now, 12)
	counts, err := a.DB.OverdueAt(ctx, postgres.OverdueFilter{Scope: scope, Establishment: bq.establishment, Team: bq.team,
		Owner: bq.owner, Pathway: string(bq.pathway)}, ends)
	if err != nil {
		a.pageFail(w, r, err)
		return
	}
	page.Chart = drawOverdueChart(labels, counts)

	page.Reassign = newForm("reassign", "/board/reassign", "item", "owner", "note")
	if failed != nil && failed.ID == "reassign" {
		page.Reassign = failed
	}
	d := pageData{Title: "Stalled and overdue", Section: "board", Data: page}
	if failed != nil {
		d.Summary = failed.summary()
	}
	a.render(w, r, status, "board", d)
}

func (p Problem) errorText() string {
	var parts []string
	for _, e := range p.Errors {
		parts = append(parts, sentence(fieldLabel(e.Field), e.Message))
	}
	return strings.Join(parts, " ")
}

// boardOptions fills the filters' and the reassign form's choices from the
// manager's teams.
func (a *app) boardOptions(r *http.Request, p *auth.Principal, page *boardPage) error {
	teams, err := a.scopeTeams(r.Context(), p)
	if err != nil {
		return err
	}
	ids := make([]string, len(teams))
	for i, t := range teams {
		ids[i] = t.ID
		page.Teams = append(page.Teams, option{Value: t.ID, Label: t.Name})
		if !slices.ContainsFunc(page.Establishments, func(o option) bool { return o.Value == t.Establishment }) {
			page.Establishments = append(page.Establishments, option{Value: t.Establishment, Label: t.Establishment})
		}
	}
	staff, err := a.DB.ActiveStaffIn(r.Context(), ids)
	if err != nil {
		return err
	}
	for _, s := range staff {
		page.Staff = append(page.Staff, option{Value: s.ID, Label: s.Name})
	}
	for _, pw := range resettlement.Pathways {
		page.Pathways = append(page.Pathways, option{Value: string(pw), Label: pw.Title()})
	}
	page.Owners, err = a.ownerOptions(r.Context(), teams)
	return err
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
// board. Both are the API's POST /api/v1/board/reassign, run in-process.

type reassignPage struct {
	Name, PrisonNumber string
	Step               StepView
	Owner              string
	Due                string
	Form               *pageForm
	Owners             []option
	Return             string
	CaseURL            string
	Item               string
}

func (a *app) pageReassignOne(w http.ResponseWriter, r *http.Request) {
	a.renderReassignOne(w, r, http.StatusOK, nil)
}

func (a *app) renderReassignOne(w http.ResponseWriter, r *http.Request, status int, failed *pageForm) {
	p, _, perr := boardScope(r)
	if perr != nil {
		a.pageError(w, r, perr.status, perr.detail)
		return
	}
	caseID, stepID := chi.URLParam(r, "caseID"), chi.URLParam(r, "stepID")
	if _, err := a.caseAccess(r, caseID); err != nil {
		a.pageFail(w, r, err)
		return
	}
	v, err := a.caseView(r.Context(), caseID)
	if err != nil {
		a.pageFail(w, r, err)
		return
	}
	i := slices.IndexFunc(v.Steps, func(s StepView) bool { return s.ID == stepID })
	if i < 0 {
		a.pageError(w, r, http.StatusNotFound, "The case has no such step.")
		return
	}
	if err := a.audit(r, "case.view", caseID, "page reassign step="+stepID); err != nil {
		a.pageFail(w, r, err)
		return
	}
	s := v.Steps[i]
	page := reassignPage{Name: v.Person.GivenName + " " + v.Person.FamilyName, PrisonNumber: v.Person.PrisonNumber, Step: s,
		CaseURL: "/cases/" + caseID, Return: "/board", Item: caseID + "/" + stepID}
	if f := boardFilterQuery(r.URL.Query()); len(f) > 0 {
		page.Return += "?" + f.Encode()
	}
	if s.Owner.Staff != "" {
		names, err := a.staffNames(r.Context(), []string{s.Owner.Staff})
		if err != nil {
			a.pageFail(w, r, err)
			return
		}
		page.Owner = names[s.Owner.Staff]
	} else {
		page.Owner = "the " + s.Owner.Team + " team queue"
	}
	if !s.Due.IsZero() {
		page.Due = showTime(s.Due)
	}
	teams, err := a.scopeTeams(r.Context(), p)
	if err != nil {
		a.pageFail(w, r, err)
		return
	}
	if page.Owners, err = a.ownerOptions(r.Context(), teams); err != nil {
		a.pageFail(w, r, err)
		return
	}
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
}

func (a *app) pageReassign(w http.ResponseWriter, r *http.Request) {
	if err := parsePageForm(w, r); err != nil {
		a.pageFail(w, r, err)
		return
	}
	f := r.PostForm
	back := "/board"
	if u, err := url.Parse(f.Get("return")); err == nil && u.Path == "/board" {
		if q := boardFilterQuery(u.Query()); len(q) > 0 {
			if _, p := readBoardQuery(q, false); p == nil {
				back += "?" + q.Encode()
			}
		}
	}
	owner, note := parseOwner(f.Get("owner")), noteOf(f)
	var body ReassignBody
	var bad []string
	for _, it := range f["item"] {
		c, s, ok := strings.Cut(it, "/")
		if !ok || !resettlement.ValidID(c) || !resettlement.ValidID(s) {
			bad = append(bad, it)
			continue
		}
		body.Items = append(body.Items, ReassignItem{CaseID: c, StepID: s, Owner: owner, Note: note})
	}
	one := f.Get("from") == "one"
	fail := func(status int, form *pageForm) {
		if one && len(body.Items) == 1 {
			rctx := chi.RouteContext(r.Context())
			rctx.URLParams.Add("caseID", body.Items[0].CaseID)
			rctx.URLParams.Add("stepID", body.Items[0].StepID)
			q := url.Values{}
			if u, err := url.Parse(back); err == nil {
				q = u.Query()
			}
			r.URL.RawQuery = q.Encode()
			a.renderReassignOne(w, r, status, form)
			return
		}
		u, _ := url.Parse(back)
		a.renderBoard(w, r, status, u.Query(), form)
	}
	form := newForm("reassign", "/board/reassign", "item", "owner", "note").set(f)
	if len(bad) > 0 {
		form.Errs["item"] = "Steps: choose the steps from the board."
		fail(http.StatusUnprocessableEntity, form)
		return
	}
	if len(body.Items) == 0 {
		form.Errs["item"] = "Tick at least one step to reassign."
		fail(http.StatusUnprocessableEntity, form)
		return
	}
	ans := a.callAPI(r, http.MethodPost, a.bulkReassign, f.Get("key"), body, nil)
	if !ans.ok() {
		pr := ans.problem()
		if pr.Status >= 500 && pr.Status != http.StatusServiceUnavailable {
			a.pageError(w, r, pr.Status, pr.Detail)
			return
		}
		form.fail(pr, func(field string) string {
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
		fail(pr.Status, form)
		return
	}
	var res ReassignResults
	if err := ans.decode(&res); err != nil {
		a.pageFail(w, r, err)
		return
	}
	done, failedN := 0, 0
	var why []string
	for _, x := range res.Results {
		if x.Status == http.StatusOK {
			done++
			continue
		}
		failedN++
		if x.Problem != nil {
			msg := x.Problem.Detail
			if len(x.Problem.Errors) > 0 {
				msg = x.Problem.errorText()
			}
			if !slices.Contains(why, msg) {
				why = append(why, msg)
			}
		}
	}
	if done == 0 && failedN > 0 {
		form.Problems = append(form.Problems, "No step was reassigned: "+strings.Join(why, " "))
		fail(http.StatusConflict, form)
		return
	}
	msg := "Reassigned " + plural(done, "step") + ". Reminders now go to the new owner."
	if failedN > 0 {
		msg += " " + plural(failedN, "step") + " could not be: " + strings.Join(why, " ")
	}
	a.redirectWith(w, r, back, msg)
}

// pageBoardCSV exports the whole board, with the page's filters, as CSV.
func (a *app) pageBoardCSV(w http.ResponseWriter, r *http.Request) {
	_, scope, perr := boardScope(r)
	if perr != nil {
		a.pageError(w, r, perr.status, perr.detail)
		return
	}
	q := boardFilterQuery(r.URL.Query())
	bq, qp := readBoardQuery(q, false)
	if qp != nil {
		a.pageError(w, r, qp.status, "The board's filters are not right: "+Problem{Errors: qp.fields}.errorText())
		return
	}
	items, err := a.boardItems(r, scope, bq)
	if err != nil {
		a.pageFail(w, r, err)
		return
	}
	var ids []string
	for _, it := range items {
		if !slices.Contains(ids, it.CaseID) {
			ids = append(ids, it.CaseID)
		}
	}
	if err := a.audit(r, "board.export", "", fmt.Sprintf("rows=%d cases=%s", len(items), strings.Join(ids, ","))); err != nil {
		a.pageFail(w, r, err)
		return
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
		_ = cw.Write([]string{it.Urgency.Severity.String(), it.Kind, it.CaseID, csvSafe(it.PrisonNumber), csvSafe(it.GivenName),
			csvSafe(it.FamilyName), it.Establishment, it.Team, it.StepID, csvSafe(it.StepTitle), string(it.Pathway), it.Owner.Staff,
			it.Owner.Team, due, strconv.Itoa(it.Urgency.DaysOverdue), toRelease, strconv.FormatBool(it.Urgency.Blocking),
			it.LastProgress.UTC().Format(time.RFC3339)})
	}
	cw.Flush()
}
