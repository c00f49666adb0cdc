package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/casework"
	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/resettlement"
)

// The case page: the person, the steps on a timeline against release day,
// the history with its notes, and a form for every action on the case.

type casePage struct {
	V         casework.CaseView
	Name      string
	Release   string
	ReleaseIn string
	Target    string
	Owner     string
	Team      string
	DOB       string
	Received  string
	Sentence  string // "" when not known
	NextDue   string
	Progress  string
	Overdue   int
	Timeline  []timelineItem
	OnHold    []timelineItem
	History   []historyItem
	Pathways  []pathwayRow
	Forms     caseForms
	OpenForms bool // the case can still be worked
	// Consent lists the person's consents, with their forms (pages_partner.go).
	Consent consentSection
}

type timelineItem struct {
	Marker      string // "today" for the marker of today; "" for a step
	When        string // relative to release day: "R−56"
	WhenLong    string // "56 days before release"
	Date        string
	Short       string // the due date in few characters, for the step's line
	Window      string
	Step        casework.StepView
	Owner       string
	Overdue     bool
	DaysOverdue int
	Severity    string
	Release     bool // the release step itself
	Acts        []option
	Act         *pageForm
	Assign      *pageForm
	Open        bool
	// Partners is the page to send a partner a link, for a step waiting
	// on another agency (pages_partner.go).
	Partners string
}

type historyItem struct {
	At, By, Text, Note string
}

type pathwayRow struct {
	Pathway resettlement.Pathway
	Status  resettlement.PathwayStatus
}

type caseForms struct {
	Assign, Assessment, Dates, Reset, Transfer, Pause, Resume, Close *pageForm
	Owners, Teams, DateReasons, CloseReasons, SkipReasons            []option
	PauseReasons, ResetReasons                                       []option
	PathwayStatuses                                                  []option
	Pathways                                                         []resettlement.Pathway
	Outcomes                                                         []outcomeField
	Open                                                             string // id of the form in error
}

type outcomeField struct{ Name, Label string }

var outcomeFields = []outcomeField{
	{"accommodation_night_one", "Accommodation on night one"}, {"accommodation_12_weeks", "Accommodation at 12 weeks"},
	{"gp_registered", "Registered with a GP"}, {"id_obtained", "ID obtained"}, {"bank_account", "Bank account"},
	{"benefits_in_payment", "Benefits in payment"}, {"employment_or_training", "In employment or training"},
	{"engaged_with_probation", "Engaged with probation"},
}

var actLabels = map[resettlement.StepAction]string{
	resettlement.ActionStart: "Started", resettlement.ActionComplete: "Done",
	resettlement.ActionWaiting: "Waiting on another agency (say which)", resettlement.ActionNotNeeded: "Not needed (say why)",
	resettlement.ActionDecline: "The person declined (say why)", resettlement.ActionReopen: "Reopen (say why)",
	resettlement.ActionNote: "Only add a note",
}

// stepActions lists what can be done to a step in its state, as the domain
// allows it (resettlement.Case.ActOnStep).
func stepActions(s resettlement.Step) []option {
	var acts []resettlement.StepAction
	open := s.Status.Open()
	if s.Status == resettlement.StepNotStarted || s.Status == resettlement.StepWaiting {
		acts = append(acts, resettlement.ActionStart)
	}
	if open {
		acts = append(acts, resettlement.ActionComplete)
		if s.Status != resettlement.StepWaiting {
			acts = append(acts, resettlement.ActionWaiting)
		}
		if s.ID != resettlement.StepRelease {
			acts = append(acts, resettlement.ActionNotNeeded, resettlement.ActionDecline)
		}
	} else if s.ID != resettlement.StepRelease && s.Kind != resettlement.KindIdentify {
		acts = append(acts, resettlement.ActionReopen)
	}
	acts = append(acts, resettlement.ActionNote)
	out := make([]option, len(acts))
	for i, a := range acts {
		label := actLabels[a]
		if a == resettlement.ActionComplete && s.ID == resettlement.StepRelease {
			label = "Released today"
		}
		out[i] = option{Value: string(a), Label: label}
	}
	return out
}

func assessmentFields() []string {
	out := []string{"needs"}
	for _, p := range resettlement.Pathways {
		out = append(out, "needs."+string(p))
	}
	return append(out, "skip", "note")
}

func closeFields() []string {
	out := []string{"reason"}
	for _, o := range outcomeFields {
		out = append(out, "outcome."+o.Name)
	}
	return append(out, "note")
}

func (a *site) pageCase(w http.ResponseWriter, r *http.Request) error {
	return a.renderCase(w, r, http.StatusOK, nil)
}

// renderCase shows the case page; failed, when set, is the form whose
// submission was refused, shown open with its errors.
func (a *site) renderCase(w http.ResponseWriter, r *http.Request, status int, failed *pageForm) error {
	p := auth.FromContext(r.Context())
	f, err := a.Cases.OpenCaseFile(r.Context(), p, chi.URLParam(r, "caseID"))
	if err != nil {
		return err
	}
	fs := caseOptions(f)
	page := buildCasePage(caseInputs{v: f.View, entries: f.Entries, names: f.Names, teams: f.Teams, options: fs, now: a.now(), failed: failed})
	if page.Consent, err = a.caseConsents(r, f.View.ID, page.OpenForms, failed); err != nil {
		return err
	}
	d := pageData{Title: page.Name, Section: "cases", Data: page}
	if failed != nil {
		d.Summary = failed.summary()
	}
	a.render(w, r, status, "case", d)
	return nil
}

// caseInputs is what the case page is built from.
type caseInputs struct {
	v       casework.CaseView
	entries []postgres.TimelineEntry
	names   map[string]string // staff id to name
	teams   []postgres.Team
	options caseForms // the forms' choices
	now     time.Time
	failed  *pageForm
}

// buildCasePage lays the case page out: the forms (each with a fresh
// idempotency key, the failed one with what was typed and its errors), the
// steps in order of their due dates with today among them, and the history
// newest first.
func buildCasePage(in caseInputs) casePage {
	v, names, failed := in.v, in.names, in.failed
	id := v.ID
	teamName := map[string]string{}
	for _, t := range in.teams {
		teamName[t.ID] = t.Name
	}
	ownerLabel := func(o resettlement.Owner) string {
		tn := teamName[o.Team]
		if tn == "" {
			tn = o.Team
		}
		if o.Staff == "" {
			return "Team queue: " + tn
		}
		return names[o.Staff] + " (" + tn + ")"
	}

	now := in.now
	today := resettlement.DateOf(now)
	page := casePage{V: v, Name: v.Person.GivenName + " " + v.Person.FamilyName, Team: teamName[v.Team],
		DOB: showDate(v.Person.DateOfBirth), Received: showDate(v.ReceivedOn), Sentence: showDate(v.SentenceDate), Progress: showTime(v.LastProgress),
		OpenForms: v.ClosedAt == nil && v.Closure == nil && v.Stage != string(resettlement.StageClosed)}
	if v.Owner != "" {
		page.Owner = names[v.Owner]
	}
	if !v.ReleaseDay.IsZero() {
		page.Release = showDate(v.ReleaseDay)
		page.ReleaseIn = inDays(today.DaysUntil(v.ReleaseDay))
		if t, src, ok := v.ReleaseDates.Target(); ok {
			page.Target = src + " " + showDate(t)
		}
	}
	if v.NextDue != nil {
		page.NextDue = showTime(*v.NextDue)
	}

	// Forms, each with a fresh idempotency key; the one in error keeps
	// what was typed.
	base := "/cases/" + id
	page.Forms = in.options
	fs := &page.Forms
	fs.Assign = newForm("case-assign", base+"/assign", "owner", "note")
	fs.Assessment = newForm("assessment", base+"/assessment", assessmentFields()...)
	fs.Dates = datesForm(base)
	fs.Reset = resetForm(base)
	fs.Transfer = newForm("transfer", base+"/transfer", "to_team", "note")
	fs.Pause = newForm("pause", base+"/pause", "reason", "note")
	fs.Resume = newForm("resume", base+"/resume", "note")
	fs.Close = newForm("close", base+"/close", closeFields()...)
	if v.Owner != "" {
		fs.Assign.Values.Set("owner", v.Team+"/"+v.Owner)
	}
	for _, k := range releaseDateKeys {
		fs.Dates.Values.Set("release_dates."+k, releaseDate(v.ReleaseDates, k).String())
	}
	if v.ReleaseDates.Indeterminate {
		fs.Dates.Values.Set("release_dates.indeterminate", "true")
	}
	fs.Dates.Values.Set("sentence_date", v.SentenceDate.String())
	if failed != nil {
		fs.Open = failed.ID
		for _, f := range []**pageForm{&fs.Assign, &fs.Assessment, &fs.Dates, &fs.Reset, &fs.Transfer, &fs.Pause, &fs.Resume, &fs.Close} {
			if (*f).ID == failed.ID {
				*f = failed
			}
		}
	}
	// The steps in order of their due dates, with today marked among them.
	items := make([]timelineItem, 0, len(v.Steps)+1)
	for _, s := range v.Steps {
		it := timelineItem{Step: s, Owner: ownerLabel(s.Owner), Overdue: s.Overdue, DaysOverdue: s.Urgency.DaysOverdue,
			Release: s.ID == resettlement.StepRelease, Severity: s.Urgency.Severity.String()}
		if s.Overdue {
			page.Overdue++
		}
		if !s.DueDate.IsZero() {
			it.Date = showDate(s.DueDate)
			it.Short = shortDate(s.DueDate, today)
			it.When = relRelease(s.DueDate, v.ReleaseDay)
			if n := v.ReleaseDay.DaysUntil(s.DueDate); !v.ReleaseDay.IsZero() {
				switch {
				case n < 0:
					it.WhenLong = plural(-n, "day") + " before release"
				case n > 0:
					it.WhenLong = plural(n, "day") + " after release"
				default:
					it.WhenLong = "release day"
				}
			}
		}
		if !s.From.IsZero() && s.Status.Open() {
			it.Window = "Can start from " + showDate(s.From)
		}
		if page.OpenForms {
			if s.Status == resettlement.StepWaiting {
				it.Partners = partnerPagePath(id, s.ID)
			}
			it.Acts = stepActions(s.Step)
			it.Act = newForm("act-"+s.ID, base+"/steps/"+s.ID+"/act", "action", "note")
			it.Assign = newForm("assign-"+s.ID, base+"/steps/"+s.ID+"/assign", "owner", "note")
			it.Assign.Values.Set("owner", s.Owner.Team+"/"+s.Owner.Staff)
			if failed != nil && failed.ID == it.Act.ID {
				it.Act, it.Open = failed, true
			}
			if failed != nil && failed.ID == it.Assign.ID {
				it.Assign, it.Open = failed, true
			}
		}
		if s.OnHold() {
			page.OnHold = append(page.OnHold, it)
		} else {
			items = append(items, it)
		}
	}
	slices.SortStableFunc(items, func(x, y timelineItem) int { return x.Step.Due.Compare(y.Step.Due) })
	at := slices.IndexFunc(items, func(it timelineItem) bool { return !it.Step.DueDate.Before(today) })
	if at < 0 {
		at = len(items)
	}
	items = slices.Insert(items, at, timelineItem{Marker: "today", Date: showDate(today), When: relRelease(today, v.ReleaseDay)})
	page.Timeline = items

	for i := len(in.entries) - 1; i >= 0; i-- {
		e := in.entries[i]
		by := "Throughgate"
		if e.By != "" {
			by = names[e.By]
		}
		page.History = append(page.History, historyItem{At: showTime(e.At), By: by, Text: e.Text, Note: e.Note})
	}
	for _, pw := range v.Pathways {
		page.Pathways = append(page.Pathways, pathwayRow{Pathway: pw.Pathway, Status: pw.Status})
	}
	return page
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	if word == "person" {
		return fmt.Sprintf("%d people", n)
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func releaseDate(d resettlement.ReleaseDates, key string) resettlement.Date {
	switch key {
	case "confirmed":
		return d.Confirmed
	case "crd":
		return d.CRD
	case "ard":
		return d.ARD
	case "ped":
		return d.PED
	case "npd":
		return d.NPD
	case "prrd":
		return d.PRRD
	case "hdced":
		return d.HDCED
	case "hdcad":
		return d.HDCAD
	case "apd":
		return d.APD
	case "ted":
		return d.TED
	case "sed":
		return d.SED
	case "led":
		return d.LED
	case "tused":
		return d.TUSED
	}
	return resettlement.Date{}
}

// caseOptions fills the choices of the case's forms: who a step or the
// case can go to (the teams at the case's prison and the person's own),
// and where it can be transferred.
func caseOptions(f casework.CaseFile) caseForms {
	var fs caseForms
	for _, t := range f.Transfer {
		fs.Teams = append(fs.Teams, option{Value: t.ID, Label: t.Name + " (" + t.Establishment + ")"})
	}
	fs.Owners = ownerOptions(f.InReach, f.Owners)
	for _, reason := range resettlement.ReleaseDateReasons {
		fs.DateReasons = append(fs.DateReasons, option{Value: reason, Label: upperFirst(strings.ReplaceAll(reason, "-", " "))})
	}
	for _, reason := range resettlement.PauseReasons {
		fs.PauseReasons = append(fs.PauseReasons, option{Value: string(reason), Label: reason.Title()})
	}
	for _, reason := range resettlement.CloseReasons {
		fs.CloseReasons = append(fs.CloseReasons, option{Value: string(reason), Label: upperFirst(strings.ReplaceAll(string(reason), "-", " "))})
	}
	for _, s := range resettlement.SkipReasons {
		label := upperFirst(strings.ReplaceAll(string(s), "-", " "))
		fs.SkipReasons = append(fs.SkipReasons, option{Value: string(s), Label: strings.Replace(label, "oasys", "OASys", 1)})
	}
	for _, s := range resettlement.PathwayStatuses {
		fs.PathwayStatuses = append(fs.PathwayStatuses, option{Value: string(s), Label: s.Title()})
	}
	for _, reason := range resettlement.ResetReasons {
		o := option{Value: string(reason), Label: "Recalled to prison after release", Hint: "The release dates are those of the recall: usually a post-recall release date (PRRD)."}
		if reason == resettlement.ResetNewSentence {
			o = option{Value: string(reason), Label: "Back in custody on a new sentence", Hint: "The release dates are those of the new sentence."}
		}
		fs.ResetReasons = append(fs.ResetReasons, o)
	}
	fs.Pathways = resettlement.Pathways
	fs.Outcomes = outcomeFields
	return fs
}

// Actions. Each reads its form into the service's command and has
// casework.Service.Act check, apply and audit it under the form's
// idempotency key, then redirects back to the case (or to the case list
// when the action took the case out of the person's sight, as a transfer
// to another prison does for an officer).

type caseAction struct {
	form func(r *http.Request) *pageForm
	// command reads the form into the service's command, naming the inputs
	// that cannot be read.
	command func(r *http.Request, f url.Values) (casework.Command, resettlement.Errors)
	alias   func(string) string
	done    func(f url.Values) string
	anchor  func(r *http.Request) string
}

func (a *site) runCaseAction(w http.ResponseWriter, r *http.Request, act caseAction) error {
	if err := parsePageForm(w, r); err != nil {
		return err
	}
	f := r.PostForm
	ctx, p, id := r.Context(), auth.FromContext(r.Context()), chi.URLParam(r, "caseID")
	cmd, errs := act.command(r, f)
	var err error
	if len(errs) > 0 {
		err = a.Cases.Access(ctx, p, id) // a stranger learns nothing from the form
		if err == nil {
			err = casework.FieldsError(errs)
		}
	} else {
		_, err = a.Cases.Act(ctx, p, id, f.Get("key"), cmd)
	}
	if err == nil {
		to := "/cases/" + id
		if act.anchor != nil {
			to += act.anchor(r)
		}
		if in, err := a.Cases.InScope(ctx, p, id); err == nil && !in {
			to = "/cases"
		}
		a.redirectWith(w, r, to, act.done(f))
		return nil
	}
	e := formError(err)
	if e == nil {
		return err
	}
	form := act.form(r).set(f)
	form.fail(e, act.alias)
	return a.renderCase(w, r, casework.Status(err), form)
}

func noteOf(f url.Values) string { return strings.TrimSpace(f.Get("note")) }

var actDone = map[resettlement.StepAction]string{
	resettlement.ActionStart: "Step started.", resettlement.ActionComplete: "Step done.", resettlement.ActionReopen: "Step reopened.",
	resettlement.ActionNotNeeded: "Step marked not needed.", resettlement.ActionWaiting: "Step marked as waiting on another agency.",
	resettlement.ActionDecline: "Step marked as declined by the person.", resettlement.ActionNote: "Note added.",
}

func stepAnchor(r *http.Request) string { return "#step-" + chi.URLParam(r, "stepID") }

func ownerAlias(f string) string {
	if f == "owner.staff" || f == "owner.team" {
		return "owner"
	}
	return f
}

func (a *site) pageStepAct(w http.ResponseWriter, r *http.Request) error {
	return a.runCaseAction(w, r, caseAction{
		form: func(r *http.Request) *pageForm {
			s := chi.URLParam(r, "stepID")
			return newForm("act-"+s, r.URL.Path, "action", "note")
		},
		command: func(r *http.Request, f url.Values) (casework.Command, resettlement.Errors) {
			return casework.ActOnStep{StepID: chi.URLParam(r, "stepID"), Action: resettlement.StepAction(f.Get("action")), Note: noteOf(f)}, nil
		},
		alias: func(f string) string {
			if f == "step_id" {
				return ""
			}
			return f
		},
		done: func(f url.Values) string {
			if m, ok := actDone[resettlement.StepAction(f.Get("action"))]; ok {
				return m
			}
			return "Step updated."
		},
		anchor: stepAnchor,
	})
}

func (a *site) pageStepAssign(w http.ResponseWriter, r *http.Request) error {
	return a.runCaseAction(w, r, caseAction{
		form: func(r *http.Request) *pageForm {
			return newForm("assign-"+chi.URLParam(r, "stepID"), r.URL.Path, "owner", "note")
		},
		command: func(r *http.Request, f url.Values) (casework.Command, resettlement.Errors) {
			return casework.Assign{StepID: chi.URLParam(r, "stepID"), Owner: parseOwner(f.Get("owner")), Note: noteOf(f)}, nil
		},
		alias:  ownerAlias,
		done:   func(url.Values) string { return "Step reassigned. Reminders now go to its new owner." },
		anchor: stepAnchor,
	})
}

func (a *site) pageCaseAssign(w http.ResponseWriter, r *http.Request) error {
	return a.runCaseAction(w, r, caseAction{
		form: func(r *http.Request) *pageForm { return newForm("case-assign", r.URL.Path, "owner", "note") },
		command: func(_ *http.Request, f url.Values) (casework.Command, resettlement.Errors) {
			return casework.Assign{Owner: parseOwner(f.Get("owner")), Note: noteOf(f)}, nil
		},
		alias: ownerAlias,
		done:  func(url.Values) string { return "Case reassigned, with the open steps its owner held." },
	})
}

func (a *site) pageAssessment(w http.ResponseWriter, r *http.Request) error {
	var asked []resettlement.Pathway // the pathways in the order sent, to place errors
	return a.runCaseAction(w, r, caseAction{
		form: func(r *http.Request) *pageForm { return newForm("assessment", r.URL.Path, assessmentFields()...) },
		command: func(_ *http.Request, f url.Values) (casework.Command, resettlement.Errors) {
			c := casework.RecordAssessment{Skip: resettlement.SkipReason(f.Get("skip")), Note: noteOf(f)}
			for _, p := range resettlement.Pathways {
				if s := f.Get("needs." + string(p)); s != "" {
					c.Needs = append(c.Needs, resettlement.PathwayNeed{Pathway: p, Status: resettlement.PathwayStatus(s)})
					asked = append(asked, p)
				}
			}
			return c, nil
		},
		alias: func(f string) string {
			var i int
			if _, err := fmt.Sscanf(f, "needs[%d]", &i); err == nil && i >= 0 && i < len(asked) {
				return "needs." + string(asked[i])
			}
			return f
		},
		done:   func(url.Values) string { return "Needs assessment recorded." },
		anchor: func(*http.Request) string { return "#pathways" },
	})
}

// datesForm and resetForm are the case page's forms that ask for dates:
// each posts to a check (the preview) before the change is confirmed.
func datesForm(base string) *pageForm {
	return newForm("dates", base+"/release-dates/check", append(releaseDateFields(), "sentence_date", "reason", "note")...)
}

func resetForm(base string) *pageForm {
	return newForm("reset", base+"/reset/check", append([]string{"reason", "received_on", "sentence_date"}, append(releaseDateFields(), "note")...)...)
}

// datesCommand and resetCommand read the forms into the service's commands.
func datesCommand(f url.Values) (casework.ChangeReleaseDates, resettlement.Errors) {
	var errs resettlement.Errors
	c := casework.ChangeReleaseDates{ReleaseDates: formReleaseDates(f, &errs), SentenceDate: formDate(f, "sentence_date", &errs),
		Reason: f.Get("reason"), Note: noteOf(f)}
	return c, errs
}

func resetCommand(f url.Values) (casework.Reset, resettlement.Errors) {
	var errs resettlement.Errors
	c := casework.Reset{Reason: resettlement.ResetReason(f.Get("reason")), ReceivedOn: formDate(f, "received_on", &errs),
		SentenceDate: formDate(f, "sentence_date", &errs), ReleaseDates: formReleaseDates(f, &errs), Note: noteOf(f)}
	return c, errs
}

func (a *site) pageReleaseDates(w http.ResponseWriter, r *http.Request) error {
	return a.runCaseAction(w, r, caseAction{
		form: func(r *http.Request) *pageForm { return datesForm("/cases/" + chi.URLParam(r, "caseID")) },
		command: func(_ *http.Request, f url.Values) (casework.Command, resettlement.Errors) {
			return datesCommand(f)
		},
		done: func(url.Values) string { return "Release dates changed. Every step's due date has moved with them." },
	})
}

func (a *site) pageReset(w http.ResponseWriter, r *http.Request) error {
	return a.runCaseAction(w, r, caseAction{
		form: func(r *http.Request) *pageForm { return resetForm("/cases/" + chi.URLParam(r, "caseID")) },
		command: func(_ *http.Request, f url.Values) (casework.Command, resettlement.Errors) {
			return resetCommand(f)
		},
		done: func(f url.Values) string {
			return "The case has started again with a new plan. The steps of the old one are cancelled."
		},
	})
}

func (a *site) pageTransfer(w http.ResponseWriter, r *http.Request) error {
	var to string
	return a.runCaseAction(w, r, caseAction{
		form: func(r *http.Request) *pageForm { return newForm("transfer", r.URL.Path, "to_team", "note") },
		command: func(r *http.Request, f url.Values) (casework.Command, resettlement.Errors) {
			// The receiving team names the prison it works at.
			if t, err := a.Cases.Team(r.Context(), f.Get("to_team")); err == nil {
				to = t.Establishment
			}
			return casework.Transfer{To: to, ToTeam: f.Get("to_team"), Note: noteOf(f)}, nil
		},
		alias: func(f string) string {
			if f == "to" {
				return "to_team"
			}
			return f
		},
		done: func(url.Values) string {
			return "Case transferred to " + to + ". Its open steps are in the receiving team's queue, with a handover step for them."
		},
	})
}

func (a *site) pagePause(w http.ResponseWriter, r *http.Request) error {
	return a.runCaseAction(w, r, caseAction{
		form: func(r *http.Request) *pageForm { return newForm("pause", r.URL.Path, "reason", "note") },
		command: func(_ *http.Request, f url.Values) (casework.Command, resettlement.Errors) {
			return casework.Pause{Reason: resettlement.PauseReason(f.Get("reason")), Note: noteOf(f)}, nil
		},
		done: func(url.Values) string { return "Case paused: no reminders or escalations until it is resumed." },
	})
}

func (a *site) pageResume(w http.ResponseWriter, r *http.Request) error {
	return a.runCaseAction(w, r, caseAction{
		form: func(r *http.Request) *pageForm { return newForm("resume", r.URL.Path, "note") },
		command: func(_ *http.Request, f url.Values) (casework.Command, resettlement.Errors) {
			return casework.Resume{Note: noteOf(f)}, nil
		},
		done: func(url.Values) string { return "Case resumed." },
	})
}

func (a *site) pageClose(w http.ResponseWriter, r *http.Request) error {
	return a.runCaseAction(w, r, caseAction{
		form: func(r *http.Request) *pageForm { return newForm("close", r.URL.Path, closeFields()...) },
		command: func(_ *http.Request, f url.Values) (casework.Command, resettlement.Errors) {
			c := casework.Close{Reason: resettlement.CloseReason(f.Get("reason")), Note: noteOf(f)}
			said := map[string]bool{}
			for _, o := range outcomeFields {
				switch f.Get("outcome." + o.Name) {
				case "yes":
					said[o.Name] = true
				case "no":
					said[o.Name] = false
				}
			}
			// The outcome's JSON names are the inputs' names.
			b, _ := json.Marshal(said)
			_ = json.Unmarshal(b, &c.Outcome)
			return c, nil
		},
		done: func(url.Values) string { return "Case closed." },
	})
}
