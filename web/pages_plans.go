package web

import (
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/casework"
	"github.com/throughgate/throughgate/resettlement"
)

// Checking a change before it is made: a change of release dates (what
// if the dates were these?) and a reset for a recall or a new sentence.
// The case page's form posts to a check, which shows what the change
// would do to the plan (casework.Service.PreviewReleaseDates and
// PreviewReset: the domain on a copy of the case) with a form to confirm
// it, carrying what was typed, or to go back and change it. Nothing is
// saved until it is confirmed; bad input is shown on the case page, beside
// the fields, as any refused form is.

type planCheckPage struct {
	Kind         string // "dates" or "reset"
	CaseID       string
	Name         string
	PrisonNumber string
	Reason       string
	Release      ruleView
	Before       ruleView
	Moves        []moveRow
	Cancelled    []planRow
	Plan         []planRow
	Overdue      int // steps that would be overdue
	Graced       int // steps given the grace period
	Confirm      *pageForm
	Hidden       []hiddenField
	Edit         string // where "change" posts the values back to
}

type hiddenField struct{ Name, Value string }

// ruleView is a release day and the rule that set it, in words.
type ruleView struct {
	Known bool
	Day   string
	Rule  []string
}

type moveRow struct {
	ID, Title, Was, Now, By string
	Overdue, Graced, OnHold bool
	Blocking, WasOnHold     bool
}

type planRow struct {
	ID, Title, Due, When, Status string
	Overdue, Graced, Blocking    bool
}

var sourceNames = map[string]string{
	"confirmed": "the confirmed release date", "APD": "the actual parole date (APD)", "HDCAD": "the HDC actual date (HDCAD)",
	"ARD": "the automatic release date (ARD)", "CRD": "the conditional release date (CRD)", "NPD": "the non-parole date (NPD)",
	"PRRD": "the post-recall release date (PRRD)", "released": "the day the release was recorded",
}

// explain puts a release day's rule into words.
func explain(r casework.ReleaseDayRule) ruleView {
	if !r.Known {
		return ruleView{Rule: []string{"No release date is known: the steps planned from release day go on hold."}}
	}
	v := ruleView{Known: true, Day: showDate(r.Day)}
	src := sourceNames[r.Source]
	if src == "" {
		src = r.Source
	}
	if r.Source == "released" {
		v.Rule = append(v.Rule, "The release was recorded on this day.")
		return v
	}
	target := "The plan is built on " + src + ", " + showDate(r.Target) + "."
	if slices.Contains([]string{"ARD", "CRD", "NPD", "PRRD"}, r.Source) {
		target = "The plan is built on " + src + ", " + showDate(r.Target) + ": with no confirmed, parole or HDC date, the latest of ARD, CRD, NPD and PRRD."
	}
	v.Rule = append(v.Rule, target)
	if !r.Weekend.IsZero() {
		v.Rule = append(v.Rule, "It falls on a weekend or bank holiday, so the release is on the working day before, "+showDate(r.Weekend)+
			" (Criminal Justice Act 1961, section 23(3)).")
	}
	if r.Early {
		v.Rule = append(v.Rule, "The day after that is not a working day, so the release moves earlier, to "+showDate(r.Day)+
			": the nearest working day followed by another, at most two working days earlier (section 23(3B), Offenders (Day of Release from Detention) Act 2023).")
	}
	if r.Weekend.IsZero() && !r.Early {
		v.Rule = append(v.Rule, "It is a working day followed by another, so the release is on it.")
	}
	if r.FirstRules {
		v.Rule = append(v.Rule, "This case runs under the date rules it opened with, which give "+showDate(r.Day)+".")
	}
	return v
}

// shortDate writes a due date for a step's one line: "3 Mar", with the
// year when it is not this year's.
func shortDate(d, today resettlement.Date) string {
	if d.IsZero() {
		return ""
	}
	if d.Year == today.Year {
		return d.At(0).Format("2 Jan")
	}
	return d.At(0).Format("2 Jan 2006")
}

// statusTag is the GOV.UK tag colour of a step's status.
func statusTag(s resettlement.StepStatus) string {
	switch s {
	case resettlement.StepDone:
		return "govuk-tag--green"
	case resettlement.StepInProgress:
		return "govuk-tag--light-blue"
	case resettlement.StepWaiting:
		return "govuk-tag--purple"
	case resettlement.StepNotStarted:
		return "govuk-tag--blue"
	}
	return "govuk-tag--grey"
}

// actionHeadSpec heads a case action's details.
type actionHeadSpec struct {
	ID, Label string
	Open      bool
}

// hiddenOf carries the values of a checked form to its confirmation.
func hiddenOf(f url.Values) []hiddenField {
	var out []hiddenField
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k == "key" {
			continue
		}
		for _, v := range f[k] {
			out = append(out, hiddenField{Name: k, Value: v})
		}
	}
	return out
}

// mergeErrors adds to the form's reading errors the service's errors on
// other fields, so every problem is named at once.
func mergeErrors(read resettlement.Errors, err error) error {
	if len(read) == 0 {
		return err
	}
	out := slices.Clone(read)
	if e, ok := casework.ErrorOf(err); ok {
		for _, fe := range e.Fields {
			if !slices.ContainsFunc(read, func(r resettlement.FieldError) bool { return r.Field == fe.Field }) {
				out = append(out, fe)
			}
		}
	}
	return casework.FieldsError(out)
}

// checkFailed shows the case page with the form open, what was typed kept
// and each error beside its field; false when the failure is for the error
// page.
func (a *site) checkFailed(w http.ResponseWriter, r *http.Request, form *pageForm, f url.Values, err error) error {
	e := formError(err)
	if e == nil {
		return err
	}
	form.set(f)
	form.fail(e, nil)
	return a.renderCase(w, r, casework.Status(err), form)
}

func (a *site) pageDatesCheck(w http.ResponseWriter, r *http.Request) error {
	if err := parsePageForm(w, r); err != nil {
		return err
	}
	f, id := r.PostForm, chi.URLParam(r, "caseID")
	cmd, read := datesCommand(f)
	prev, err := a.Cases.PreviewReleaseDates(r.Context(), auth.FromContext(r.Context()), id, cmd)
	if err = mergeErrors(read, err); err != nil {
		return a.checkFailed(w, r, datesForm("/cases/"+id), f, err)
	}
	page := planCheck("dates", id, prev, f)
	page.Confirm = newForm("confirm-dates", "/cases/"+id+"/release-dates")
	page.Edit = "/cases/" + id + "/release-dates/edit"
	page.Reason = upperFirst(strings.ReplaceAll(cmd.Reason, "-", " "))
	for _, m := range prev.Moves {
		row := moveRow{ID: m.Step.ID, Title: m.Step.Title, Was: showDate(m.Was), Now: showDate(m.Step.DueDate), Overdue: m.Overdue,
			Graced: m.Graced, OnHold: m.OnHold, Blocking: m.Step.Blocking, WasOnHold: m.Was.IsZero()}
		if !m.Was.IsZero() && !m.Step.DueDate.IsZero() {
			switch n := m.Was.DaysUntil(m.Step.DueDate); {
			case n > 0:
				row.By = plural(n, "day") + " later"
			case n < 0:
				row.By = plural(-n, "day") + " earlier"
			default:
				row.By = "same day, new time"
			}
		}
		if m.Overdue {
			page.Overdue++
		}
		if m.Graced {
			page.Graced++
		}
		page.Moves = append(page.Moves, row)
	}
	a.render(w, r, http.StatusOK, "plan-check", pageData{Title: "Check the change to the release dates", Section: "cases", Data: page})
	return nil
}

func (a *site) pageResetCheck(w http.ResponseWriter, r *http.Request) error {
	if err := parsePageForm(w, r); err != nil {
		return err
	}
	f, id := r.PostForm, chi.URLParam(r, "caseID")
	cmd, read := resetCommand(f)
	prev, err := a.Cases.PreviewReset(r.Context(), auth.FromContext(r.Context()), id, cmd)
	if err = mergeErrors(read, err); err != nil {
		return a.checkFailed(w, r, resetForm("/cases/"+id), f, err)
	}
	page := planCheck("reset", id, prev, f)
	page.Confirm = newForm("confirm-reset", "/cases/"+id+"/reset")
	page.Edit = "/cases/" + id + "/reset/edit"
	page.Reason = "Recalled to prison after release"
	if cmd.Reason == resettlement.ResetNewSentence {
		page.Reason = "Back in custody on a new sentence"
	}
	for _, s := range prev.Cancelled {
		page.Cancelled = append(page.Cancelled, planRow{ID: s.ID, Title: s.Title, Due: showDate(s.DueDate), Status: statusLabel(s.Status), Blocking: s.Blocking})
	}
	release := prev.Release.Day
	for _, s := range prev.Plan {
		row := planRow{ID: s.ID, Title: s.Title, Due: showDate(s.DueDate), When: relRelease(s.DueDate, release), Status: statusLabel(s.Status),
			Overdue: s.Overdue, Graced: s.Graced && s.Status.Open(), Blocking: s.Blocking}
		if s.DueDate.IsZero() {
			row.Due = "On hold until a release date is known"
		}
		if row.Overdue {
			page.Overdue++
		}
		if row.Graced {
			page.Graced++
		}
		page.Plan = append(page.Plan, row)
	}
	a.render(w, r, http.StatusOK, "plan-check", pageData{Title: "Check the new plan", Section: "cases", Data: page})
	return nil
}

func planCheck(kind, id string, prev casework.PlanPreview, f url.Values) planCheckPage {
	return planCheckPage{Kind: kind, CaseID: id, Name: prev.Person.GivenName + " " + prev.Person.FamilyName,
		PrisonNumber: prev.Person.PrisonNumber, Release: explain(prev.Release), Before: explain(prev.Before), Hidden: hiddenOf(f)}
}

// pageDatesEdit and pageResetEdit go back from a check to the case page,
// the form open with what was typed.
func (a *site) pageDatesEdit(w http.ResponseWriter, r *http.Request) error {
	return a.editAgain(w, r, datesForm("/cases/"+chi.URLParam(r, "caseID")))
}

func (a *site) pageResetEdit(w http.ResponseWriter, r *http.Request) error {
	return a.editAgain(w, r, resetForm("/cases/"+chi.URLParam(r, "caseID")))
}

func (a *site) editAgain(w http.ResponseWriter, r *http.Request, form *pageForm) error {
	if err := parsePageForm(w, r); err != nil {
		return err
	}
	form.set(r.PostForm)
	return a.renderCase(w, r, http.StatusOK, form)
}
