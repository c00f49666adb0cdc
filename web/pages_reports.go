package web

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/casework"
	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/resettlement"
)

// The outcomes report (managers and heads of service) and the case list's
// CSV export.

var measureLabels = map[string]string{
	"accommodation_night_one": "Accommodation on night one", "accommodation_12_weeks": "Accommodation at 12 weeks",
	"gp_registered": "Registered with a GP", "id_obtained": "ID obtained", "bank_account": "Bank account",
	"benefits_in_payment": "Benefits in payment",
}

type outcomesPage struct {
	Filters  *pageForm
	Teams    []option
	Months   []option
	Measures []string
	Rows     []outcomeRow
	Total    outcomeRow
	Chart    rateChart
	CSV      string
	Period   string
}

type outcomeRow struct {
	Establishment, Month string
	Released             int
	Cells                []outcomeCell
}

type outcomeCell struct {
	Yes, No, Unknown int
	Rate             string // "75%" of those released; "–" when nobody was
	Percent          int
}

// rateChart is a horizontal bar chart of rates, drawn as inline SVG.
type rateChart struct {
	Width, Height, Left, Right int
	Bars                       []rateBar
	Gridlines                  []chartLine
	Summary                    string
}

type rateBar struct {
	Label            string
	X, Y, W, H       int
	LabelY, ValueX   int
	Value            string
	Yes, Released, P int
}

func cellOf(c postgres.OutcomeCount, released int) outcomeCell {
	out := outcomeCell{Yes: c.Yes, No: c.No, Unknown: released - c.Yes - c.No, Rate: "–"}
	if released > 0 {
		out.Percent = (c.Yes*100 + released/2) / released
		out.Rate = strconv.Itoa(out.Percent) + "%"
	}
	return out
}

func rowOf(r postgres.OutcomeRow) outcomeRow {
	row := outcomeRow{Establishment: r.Establishment, Released: r.Released}
	if !r.Month.IsZero() {
		row.Month = r.Month.Format("January 2006")
	}
	for _, c := range r.Counts {
		row.Cells = append(row.Cells, cellOf(c, r.Released))
	}
	return row
}

// drawRates lays out one bar a measure: the share of people released who
// had it, 0 to 100%.
func drawRates(total outcomeRow) rateChart {
	c := rateChart{Width: 640, Left: 200, Right: 60}
	barH, gap, top := 24, 14, 10
	span := c.Width - c.Left - c.Right
	var parts []string
	for i, m := range postgres.OutcomeMeasures {
		cell := total.Cells[i]
		y := top + i*(barH+gap)
		b := rateBar{Label: measureLabels[m], X: c.Left, Y: y, H: barH, W: cell.Percent * span / 100, LabelY: y + barH/2,
			Value: cell.Rate, Yes: cell.Yes, Released: total.Released, P: cell.Percent}
		b.ValueX = c.Left + b.W + 6
		c.Bars = append(c.Bars, b)
		label := b.Label
		if len(label) > 1 && strings.ToLower(label[1:2]) == label[1:2] { // "ID obtained" keeps its capitals
			label = strings.ToLower(label[:1]) + label[1:]
		}
		parts = append(parts, fmt.Sprintf("%s %s", label, cell.Rate))
	}
	c.Height = top + len(c.Bars)*(barH+gap) + 20
	for _, v := range []int{25, 50, 75, 100} {
		c.Gridlines = append(c.Gridlines, chartLine{Y: c.Left + v*span/100, Label: strconv.Itoa(v) + "%"})
	}
	if total.Released == 0 {
		c.Summary = "Nobody was released in this period."
	} else {
		c.Summary = fmt.Sprintf("Of %s released: %s.", plural(total.Released, "person"), strings.Join(parts, ", "))
	}
	return c
}

// monthOptions offers the last five years of months, newest first, as
// "2026-03".
func monthOptions(now time.Time) []option {
	var out []option
	d := resettlement.DateOf(now)
	m := resettlement.Date{Year: d.Year, Month: d.Month, Day: 1}
	for range 60 {
		out = append(out, option{Value: fmt.Sprintf("%04d-%02d", m.Year, int(m.Month)), Label: m.At(12 * time.Hour).Format("January 2006")})
		m = m.AddDays(-1)
		m.Day = 1
	}
	return out
}

func parseMonth(v string, field string, errs *resettlement.Errors) resettlement.Date {
	if v == "" {
		return resettlement.Date{}
	}
	t, err := time.Parse("2006-01", v)
	if err != nil {
		errs.Add(field, "must be a month, such as 2026-03")
		return resettlement.Date{}
	}
	return resettlement.Date{Year: t.Year(), Month: t.Month(), Day: 1}
}

func outcomeQuery(q url.Values) (casework.OutcomeQuery, resettlement.Errors) {
	var errs resettlement.Errors
	oq := casework.OutcomeQuery{Team: q.Get("team"), From: parseMonth(q.Get("from"), "from", &errs), To: parseMonth(q.Get("to"), "to", &errs)}
	return oq, errs
}

func (a *site) outcomes(r *http.Request) (casework.OutcomeReport, url.Values, error) {
	q := r.URL.Query()
	oq, errs := outcomeQuery(q)
	keep := url.Values{}
	for _, k := range []string{"team", "from", "to"} {
		if v := q.Get(k); v != "" {
			keep.Set(k, v)
		}
	}
	if len(errs) > 0 {
		return casework.OutcomeReport{}, keep, casework.FieldsError(errs)
	}
	rep, err := a.Cases.Outcomes(r.Context(), auth.FromContext(r.Context()), oq)
	return rep, keep, err
}

func (a *site) pageOutcomes(w http.ResponseWriter, r *http.Request) error {
	p := auth.FromContext(r.Context())
	if err := casework.SeesBoard(p); err != nil {
		return err
	}
	rep, keep, err := a.outcomes(r)
	d := outcomesPage{Filters: newForm("outcome-filters", "/reports/outcomes", "team", "from", "to").set(keep),
		Months: monthOptions(a.now()), Measures: postgres.OutcomeMeasures, CSV: "/reports/outcomes.csv"}
	status := http.StatusOK
	var summary []summaryItem
	if err != nil {
		e := formError(err)
		if e == nil {
			return err
		}
		d.Filters.fail(e, nil)
		status, summary = casework.Status(err), d.Filters.summary()
		if rep.Teams == nil {
			teams, _, rerr := a.Cases.Reach(r.Context(), p)
			if rerr != nil {
				return rerr
			}
			rep.Teams = teams
		}
	} else {
		f := d.Filters.Values
		if f.Get("from") == "" {
			f.Set("from", fmt.Sprintf("%04d-%02d", rep.Query.From.Year, int(rep.Query.From.Month)))
		}
		if f.Get("to") == "" {
			f.Set("to", fmt.Sprintf("%04d-%02d", rep.Query.To.Year, int(rep.Query.To.Month)))
		}
		d.Period = rep.Query.From.At(12*time.Hour).Format("January 2006") + " to " + rep.Query.To.At(12*time.Hour).Format("January 2006")
	}
	for _, t := range rep.Teams {
		d.Teams = append(d.Teams, option{Value: t.ID, Label: t.Name + " (" + t.Establishment + ")"})
	}
	for _, row := range rep.Rows {
		d.Rows = append(d.Rows, rowOf(row))
	}
	if rep.Total.Counts != nil {
		d.Total = rowOf(rep.Total)
		d.Total.Establishment = "All"
		d.Chart = drawRates(d.Total)
	}
	if len(keep) > 0 {
		d.CSV += "?" + keep.Encode()
	}
	a.render(w, r, status, "outcomes", pageData{Title: "Outcomes of release", Section: "outcomes", Summary: summary, Data: d})
	return nil
}

func (a *site) pageOutcomesCSV(w http.ResponseWriter, r *http.Request) error {
	rep, _, err := a.outcomes(r)
	if err != nil {
		if e, ok := casework.ErrorOf(err); ok && len(e.Fields) > 0 {
			return casework.Errorf(e.Kind, "The report's filters are not right: "+errorText(e.Fields))
		}
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="throughgate-outcomes.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	cw := csv.NewWriter(w)
	head := []string{"establishment", "month", "released"}
	for _, m := range postgres.OutcomeMeasures {
		head = append(head, m+"_yes", m+"_no", m+"_not_recorded", m+"_rate")
	}
	_ = cw.Write(head)
	for _, row := range append(rep.Rows, rep.Total) {
		month := ""
		if !row.Month.IsZero() {
			month = row.Month.Format("2006-01")
		}
		line := []string{casework.SpreadsheetSafe(row.Establishment), month, strconv.Itoa(row.Released)}
		for _, c := range row.Counts {
			cell := cellOf(c, row.Released)
			rate := ""
			if row.Released > 0 {
				rate = strconv.FormatFloat(float64(c.Yes)/float64(row.Released), 'f', 3, 64)
			}
			line = append(line, strconv.Itoa(c.Yes), strconv.Itoa(c.No), strconv.Itoa(cell.Unknown), rate)
		}
		_ = cw.Write(line)
	}
	cw.Flush()
	return nil
}

// pageCasesCSV exports the case list as the page shows it (the person's
// own or all they can see, or a search, sent in the form: never in the
// address), every cell a spreadsheet could read as a formula defused.
func (a *site) pageCasesCSV(w http.ResponseWriter, r *http.Request) error {
	if err := parsePageForm(w, r); err != nil {
		return err
	}
	ctx, p, f := r.Context(), auth.FromContext(r.Context()), r.PostForm
	q := casework.CaseSearch{Q: strings.TrimSpace(f.Get("q"))}
	if f.Get("show") == "mine" && q.Q == "" {
		q.Owner = p.ID()
	}
	started := false
	cw := csv.NewWriter(w)
	err := a.Cases.ExportCases(ctx, p, q, func(items []casework.CaseListItem) error {
		names, err := a.Cases.StaffNames(ctx, listOwners(items))
		if err != nil {
			return err
		}
		if !started {
			started = true
			w.Header().Set("Content-Type", "text/csv; charset=utf-8")
			w.Header().Set("Content-Disposition", `attachment; filename="throughgate-cases.csv"`)
			w.Header().Set("Cache-Control", "no-store")
			_ = cw.Write([]string{"case_id", "prison_number", "given_name", "family_name", "establishment", "team", "owner", "owner_name",
				"stage", "stalled", "paused", "release_day", "next_due", "last_progress"})
		}
		for _, c := range items {
			next := ""
			if c.NextDue != nil {
				next = c.NextDue.UTC().Format(time.RFC3339)
			}
			release := ""
			if !c.ReleaseDay.IsZero() {
				release = c.ReleaseDay.String()
			}
			_ = cw.Write([]string{c.ID, casework.SpreadsheetSafe(c.PrisonNumber), casework.SpreadsheetSafe(c.GivenName),
				casework.SpreadsheetSafe(c.FamilyName), c.Establishment, c.Team, c.Owner, casework.SpreadsheetSafe(names[c.Owner]),
				c.Stage, strconv.FormatBool(c.Stalled), strconv.FormatBool(c.Paused), release, next, c.LastProgress.UTC().Format(time.RFC3339)})
		}
		cw.Flush()
		return cw.Error()
	})
	if err != nil && started {
		a.Logger.ErrorContext(ctx, "case export cut short", "err", err)
		return nil
	}
	if err != nil {
		if e, ok := casework.ErrorOf(err); ok && len(e.Fields) > 0 {
			return casework.Errorf(e.Kind, "The search is not right: "+errorText(e.Fields))
		}
		return err
	}
	if !started { // nothing in the list: the header alone
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="throughgate-cases.csv"`)
		w.Header().Set("Cache-Control", "no-store")
		_ = cw.Write([]string{"case_id", "prison_number", "given_name", "family_name", "establishment", "team", "owner", "owner_name",
			"stage", "stalled", "paused", "release_day", "next_due", "last_progress"})
		cw.Flush()
	}
	return nil
}
