package web

import (
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

// InError reports whether the form has any error to show.
func (f *pageForm) InError() bool { return len(f.Errs) > 0 || len(f.Problems) > 0 }

var idChars = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// FID is the element id of an input, unique on the page.
func (f *pageForm) FID(name string) string { return f.ID + "-" + idChars.ReplaceAllString(name, "-") }

// set keeps what was typed, for the form shown again after an error. Secrets
// (passwords) are never shown again.
func (f *pageForm) set(v url.Values) *pageForm {
	for k, vs := range v {
		if k == "key" || k == "password" {
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
		label := fieldLabel(name)
		if !known[name] {
			if fe.Field == "" || fe.Field == "body" {
				f.Problems = append(f.Problems, upperFirst(fe.Message))
			} else {
				f.Problems = append(f.Problems, sentence(fieldLabel(fe.Field), fe.Message))
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
	Group        string
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
		}
	}
	if s.Type == "textarea" && s.Rows == 0 {
		s.Rows = 3
	}
	return s
}

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

// formDate reads a date typed into an input, naming the input when it is
// not one.
func formDate(f url.Values, name string, errs *resettlement.Errors) resettlement.Date {
	v := strings.TrimSpace(f.Get(name))
	if v == "" {
		return resettlement.Date{}
	}
	d, err := resettlement.ParseDate(v)
	if err != nil {
		errs.Add(name, "must be a date in the form YYYY-MM-DD")
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
