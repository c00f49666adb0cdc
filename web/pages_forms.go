package web

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/throughgate/throughgate/internal/casework"
	"github.com/throughgate/throughgate/resettlement"
)

// pageForm is one form on a page: where it posts, the idempotency key that
// makes a second submission of the same form do nothing twice, what was
// typed (shown again after an error) and the error beside each field.
//
// Inputs are named by the API's JSON field paths (person.prison_number,
// release_dates.crd), which are also the fields the service's errors
// name, so each error lands beside the input it is about.
type pageForm struct {
	ID     string
	Action string
	Key    string
	Values url.Values
	Errs   map[string]string
	// Problems are errors not tied to one input.
	Problems []string
	// Fields are the inputs the form has, in order, for the error summary.
	Fields []string
	// Labels name inputs in this form's words where they differ from
	// fieldLabels ("id" is a team's id on the team form).
	Labels map[string]string
}

// labelled gives inputs this form's own labels.
func (f *pageForm) labelled(labels map[string]string) *pageForm {
	f.Labels = labels
	return f
}

func (f *pageForm) label(name string) string {
	if l, ok := f.Labels[name]; ok {
		return l
	}
	return fieldLabel(name)
}

// newForm is an empty form with a fresh idempotency key: a new key for
// every form shown, so a form submitted twice (a double click, a reload)
// repeats one change, while a form corrected after an error is a new one.
func newForm(id, action string, fields ...string) *pageForm {
	return &pageForm{ID: id, Action: action, Key: randomString(), Values: url.Values{}, Errs: map[string]string{}, Fields: fields}
}

// V is what the input holds.
func (f *pageForm) V(name string) string { return f.Values.Get(name) }

// Has reports whether the input (a checkbox, or a select) holds value.
func (f *pageForm) Has(name, value string) bool {
	for _, v := range f.Values[name] {
		if v == value {
			return true
		}
	}
	return false
}

// E is the error beside the input.
func (f *pageForm) E(name string) string { return f.Errs[name] }

// AnyErr reports whether any of the inputs has an error.
func (f *pageForm) AnyErr(names ...string) bool {
	for _, n := range names {
		if f.Errs[n] != "" {
			return true
		}
	}
	return false
}

// AnyV reports whether any of the inputs holds something (a date input
// by its parts too).
func (f *pageForm) AnyV(names ...string) bool {
	for _, n := range names {
		if strings.TrimSpace(f.Values.Get(n)+f.Values.Get(n+"-day")+f.Values.Get(n+"-month")+f.Values.Get(n+"-year")) != "" {
			return true
		}
	}
	return false
}

// InError reports whether the form has any error to show.
func (f *pageForm) InError() bool { return len(f.Errs) > 0 || len(f.Problems) > 0 }

var idChars = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// FID is the element id of an input, unique on the page.
func (f *pageForm) FID(name string) string { return f.ID + "-" + idChars.ReplaceAllString(name, "-") }

// set keeps what was typed, for the form shown again after an error. Secrets
// (passwords) are never shown again.
func (f *pageForm) set(v url.Values) *pageForm {
	for k, vs := range v {
		if k == "key" || k == "password" || k == "current" {
			continue
		}
		f.Values[k] = vs
	}
	return f
}

// fail records the service's refusal: each field error beside its input
// (the field's JSON path, or the input alias maps it to), the rest above
// the form.
func (f *pageForm) fail(p *casework.Error, alias func(string) string) {
	known := map[string]bool{}
	for _, n := range f.Fields {
		known[n] = true
	}
	for _, fe := range p.Fields {
		name := fe.Field
		if alias != nil {
			name = alias(name)
		}
		label := f.label(name)
		if !known[name] {
			if fe.Field == "" || fe.Field == "body" {
				f.Problems = append(f.Problems, upperFirst(fe.Message))
			} else {
				f.Problems = append(f.Problems, sentence(f.label(fe.Field), fe.Message))
			}
			continue
		}
		if prev, ok := f.Errs[name]; ok {
			f.Errs[name] = prev + " " + sentence(label, fe.Message)
		} else {
			f.Errs[name] = sentence(label, fe.Message)
		}
	}
	if len(p.Fields) == 0 {
		f.Problems = append(f.Problems, p.Detail)
	}
}

// summary lists the form's errors for the box at the top of the page, each
// linking to its input.
func (f *pageForm) summary() []summaryItem {
	var out []summaryItem
	for _, p := range f.Problems {
		out = append(out, summaryItem{Href: "#" + f.ID, Text: p})
	}
	for _, n := range f.Fields {
		if e, ok := f.Errs[n]; ok {
			out = append(out, summaryItem{Href: "#" + f.FID(n), Text: e})
		}
	}
	return out
}

// sentence joins a label and an API message into one sentence:
// "Prison number must be …", "Received on: the release date cannot …".
func sentence(label, msg string) string {
	msg = strings.TrimSpace(msg)
	// "must be a prison number: a letter, …" under "Prison number"
	if rest, ok := strings.CutPrefix(msg, "must be a "+strings.ToLower(label)+": "); ok {
		msg = "must be " + rest
	}
	for _, verb := range []string{"is ", "must ", "cannot ", "works ", "has ", "are "} {
		if strings.HasPrefix(msg, verb) {
			return label + " " + strings.TrimSuffix(msg, ".") + "."
		}
	}
	return label + ": " + strings.TrimSuffix(msg, ".") + "."
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// fieldLabels name the inputs in the words of the form.
var fieldLabels = map[string]string{
	"login": "Email address or staff id", "password": "Password", "q": "Name or prison number",
	"person.prison_number": "Prison number", "person.booking": "Booking number",
	"person.given_name": "Given name", "person.family_name": "Family name",
	"person.date_of_birth": "Date of birth", "person.local_authority": "Local authority",
	"establishment": "Establishment", "team": "Team", "owner": "Owner", "received_on": "Received into custody on", "sentence_date": "Sentence date",
	"release_dates": "Release dates", "release_dates.confirmed": "Confirmed release date",
	"release_dates.crd": "Conditional release date (CRD)", "release_dates.ard": "Automatic release date (ARD)",
	"release_dates.ped": "Parole eligibility date (PED)", "release_dates.npd": "Non-parole date (NPD)",
	"release_dates.prrd": "Post-recall release date (PRRD)", "release_dates.hdced": "HDC eligibility date (HDCED)",
	"release_dates.hdcad": "HDC actual date (HDCAD)", "release_dates.apd": "Actual parole date (APD)",
	"release_dates.ted": "Tariff expiry date (TED)", "release_dates.sed": "Sentence expiry date (SED)",
	"release_dates.led": "Licence expiry date (LED)", "release_dates.tused": "Top-up supervision expiry date (TUSED)",
	"release_dates.indeterminate": "Indeterminate sentence",
	"action":                      "What happened", "note": "Note", "reason": "Reason", "to_team": "Receiving team",
	"skip": "Reason to skip the assessment", "needs": "Pathway needs", "item": "Steps", "items": "Steps",
	"owner.staff": "Owner", "owner.team": "Team",
	"notify": "How you are emailed", "muted": "Emails to turn off", "away_until": "Away until", "current": "Current password",
	"name": "Name", "expires_in_days": "Days until it expires", "id": "Staff id", "email": "Email address", "role": "Role",
	"establishment_code": "Establishment", "manager": "Team manager", "head": "Head of service", "actor": "Person",
	"case_id": "Case reference", "from": "From", "to": "To", "status": "Status",
}

func fieldLabel(name string) string {
	if l, ok := fieldLabels[name]; ok {
		return l
	}
	if p, ok := strings.CutPrefix(name, "needs."); ok {
		return resettlement.Pathway(p).Title()
	}
	if o, ok := strings.CutPrefix(name, "outcome."); ok {
		for _, x := range outcomeFields {
			if x.Name == o {
				return x.Label
			}
		}
	}
	return name
}

// option is one choice of a select.
type option struct {
	Value, Label string
	Group        string // the team of an owner, in a select
	Hint         string // said under a radio or checkbox
}

// fieldSpec is what the input partials render: a label, an optional hint,
// the error and the input, tied together for assistive technology.
type fieldSpec struct {
	Form                                  *pageForm
	Name, Label, Hint, Type, Auto, Class  string
	Inputmode, Spellcheck, Autocapitalize string
	Options                               []option
	Rows                                  int
	Required                              bool
	// Small and Inline are GOV.UK's smaller and side-by-side radios and
	// checkboxes; Birthday asks the browser to fill a date of birth.
	Small, Inline, Birthday bool
	// LabelClass sizes a label that is also the page's question.
	LabelClass string
}

// newField builds a fieldSpec from a form, the input's name and label, and
// options written "key=value": type (text, date, password, select,
// textarea, checkbox), hint, auto (autocomplete), class, inputmode, rows,
// spellcheck, caps (autocapitalize), required.
func newField(f *pageForm, name, label string, opts ...string) fieldSpec {
	s := fieldSpec{Form: f, Name: name, Label: label, Type: "text"}
	for _, o := range opts {
		k, v, _ := strings.Cut(o, "=")
		switch k {
		case "type":
			s.Type = v
		case "hint":
			s.Hint = v
		case "auto":
			s.Auto = v
		case "class":
			s.Class = v
		case "inputmode":
			s.Inputmode = v
		case "spellcheck":
			s.Spellcheck = v
		case "caps":
			s.Autocapitalize = v
		case "rows":
			s.Rows, _ = strconv.Atoi(v)
		case "required":
			s.Required = true
		case "small":
			s.Small = true
		case "inline":
			s.Inline = true
		case "bday":
			s.Birthday = true
		case "label":
			s.LabelClass = "govuk-label--" + v
		}
	}
	if s.Type == "textarea" && s.Rows == 0 {
		s.Rows = 3
	}
	return s
}

// InputClass is the GOV.UK width of an input, from the field's class
// (w-10, w-code, w-date) or its type.
func (s fieldSpec) InputClass() string {
	switch {
	case strings.Contains(s.Class, "w-code"):
		return "govuk-input--width-10 govuk-input--extra-letter-spacing"
	case strings.Contains(s.Class, "w-10"), strings.Contains(s.Class, "w-date"), s.Type == "date":
		return "govuk-input--width-10"
	case s.Type == "password":
		return "govuk-!-width-two-thirds"
	}
	return ""
}

// datePart is one of the day, month and year of a date input: what was
// typed into it, or else that part of the date the field holds.
func (s fieldSpec) datePart(part string, i int) string {
	if vs, ok := s.Form.Values[s.Name+"-"+part]; ok && len(vs) > 0 {
		return vs[0]
	}
	d, err := resettlement.ParseDate(s.Value())
	if err != nil || d.IsZero() {
		return ""
	}
	return strconv.Itoa([]int{d.Day, int(d.Month), d.Year}[i])
}

// Day, Month and Year are the parts of a date input.
func (s fieldSpec) Day() string   { return s.datePart("day", 0) }
func (s fieldSpec) Month() string { return s.datePart("month", 1) }
func (s fieldSpec) Year() string  { return s.datePart("year", 2) }

// Opts gives a select its choices.
func (s fieldSpec) Opts(o []option) fieldSpec { s.Options = o; return s }

// ID is the input's element id.
func (s fieldSpec) ID() string { return s.Form.FID(s.Name) }

// Err is the input's error.
func (s fieldSpec) Err() string { return s.Form.E(s.Name) }

// Value is what the input holds.
func (s fieldSpec) Value() string { return s.Form.V(s.Name) }

// Describedby lists the hint's and the error's ids.
func (s fieldSpec) Describedby() string {
	var ids []string
	if s.Hint != "" {
		ids = append(ids, s.ID()+"-hint")
	}
	if s.Err() != "" {
		ids = append(ids, s.ID()+"-error")
	}
	return strings.Join(ids, " ")
}

// formError is the failure to show on the form: the service's refusal, or
// nil when the page should show the error page instead (nothing to fix on
// the form: the case is out of sight, or the fault is ours).
func formError(err error) *casework.Error {
	e, ok := casework.ErrorOf(err)
	if !ok || e.Kind == casework.NotFound {
		return nil
	}
	return e
}

// releaseDateKeys are the release dates a form has, in the API's names.
var releaseDateKeys = []string{"confirmed", "crd", "ard", "hdcad", "apd", "ped", "npd", "prrd", "hdced", "ted", "sed", "led", "tused"}

// formDate reads a date typed into an input: as day, month and year
// (NAME-day, NAME-month, NAME-year, GOV.UK's date input) or as one
// YYYY-MM-DD (NAME), naming the input when it is not a date.
func formDate(f url.Values, name string, errs *resettlement.Errors) resettlement.Date {
	v := strings.TrimSpace(f.Get(name))
	day, month, year := strings.TrimSpace(f.Get(name+"-day")), strings.TrimSpace(f.Get(name+"-month")), strings.TrimSpace(f.Get(name+"-year"))
	if v == "" && day+month+year != "" {
		var missing []string
		for _, p := range []struct{ part, v string }{{"day", day}, {"month", month}, {"year", year}} {
			if p.v == "" {
				missing = append(missing, p.part)
			}
		}
		if len(missing) > 0 {
			errs.Add(name, "must include a "+strings.Join(missing, " and a "))
			return resettlement.Date{}
		}
		d, derr := strconv.Atoi(day)
		m, merr := strconv.Atoi(month)
		y, yerr := strconv.Atoi(year)
		if derr != nil || merr != nil || yerr != nil || len(year) != 4 {
			errs.Add(name, "must be a real date, such as 27 3 2026")
			return resettlement.Date{}
		}
		v = fmt.Sprintf("%04d-%02d-%02d", y, m, d)
	}
	if v == "" {
		return resettlement.Date{}
	}
	d, err := resettlement.ParseDate(v)
	if err != nil {
		if day+month+year != "" {
			errs.Add(name, "must be a real date, such as 27 3 2026")
		} else {
			errs.Add(name, "must be a date in the form YYYY-MM-DD")
		}
	}
	return d
}

// formReleaseDates reads the release-date inputs (release_dates.crd, …).
func formReleaseDates(f url.Values, errs *resettlement.Errors) resettlement.ReleaseDates {
	var d resettlement.ReleaseDates
	dst := []*resettlement.Date{&d.Confirmed, &d.CRD, &d.ARD, &d.HDCAD, &d.APD, &d.PED, &d.NPD, &d.PRRD, &d.HDCED, &d.TED, &d.SED, &d.LED, &d.TUSED}
	for i, k := range releaseDateKeys {
		*dst[i] = formDate(f, "release_dates."+k, errs)
	}
	d.Indeterminate = f.Get("release_dates.indeterminate") == "true"
	return d
}
