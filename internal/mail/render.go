package mail

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"net/url"
	"slices"
	"strings"
	texttemplate "text/template"
	"time"
	_ "time/tzdata" // Europe/London must not depend on the host having zoneinfo (distroless images do not)
)

// Alert is what one reminder or escalation email says. It deliberately holds
// no personal data about the person in custody (no name, prison number, date
// of birth or offence): email leaves our control, so it carries only the case
// reference and a link, and the reader signs in to see the rest.
type Alert struct {
	Kind           string    `json:"kind"`            // "reminder" | "escalation" | "notice"
	Level          int       `json:"level,omitempty"` // escalation level 1 (team manager) or 2 (head of service); 0 otherwise
	CaseRef        string    `json:"case_ref"`        // short case reference shown to people, e.g. "1042"
	StepTitle      string    `json:"step_title"`      // e.g. "Housing: duty to refer"; empty for a notice about the whole case
	Headline       string    `json:"headline"`        // a notice's lead, e.g. "Steps waiting in the team queue"
	Steps          []string  `json:"steps,omitempty"` // a notice's list of steps concerned
	Due            time.Time `json:"due"`             // due date, shown as "Mon 7 Dec 2026" in Europe/London; optional for a notice
	DaysOverdue    int       `json:"days_overdue"`    // 0 if not overdue
	DaysToRelease  int       `json:"days_to_release"` // may be negative after release
	ReleaseUnknown bool      `json:"release_unknown"` // no release date is set (cancelled or not yet calculated)
	Severity       string    `json:"severity"`        // "low", "medium", "high", "critical"
	Action         string    `json:"action"`          // what to do, one sentence
	CaseURL        string    `json:"case_url"`        // link to the case page
	RecipientName  string    `json:"recipient_name"`
}

// Digest is a day's summary for one recipient, as the outbox stores it.
type Digest struct {
	RecipientName string    `json:"recipient_name"`
	Day           time.Time `json:"day"`
	Items         []Alert   `json:"items"`
	// Assigned are the steps and cases given to the recipient since their
	// last summary, held for it (assignment emails of a digest reader).
	Assigned []Assigned `json:"assigned,omitempty"`
}

// DigestItem is one line of a daily digest.
type DigestItem = Alert

// Alert kinds. A notice tells a manager or team about the case as a whole:
// steps waiting in the queue, a stalled case, a transfer.
const (
	KindReminder   = "reminder"
	KindEscalation = "escalation"
	KindNotice     = "notice"
)

// ErrEmptyDigest is returned by RenderDigest for no items: an email that
// says "nothing to do" every day teaches people to ignore the ones that
// matter.
var ErrEmptyDigest = errors.New("mail: digest has no items")

//go:embed templates/*.tmpl
var templateFS embed.FS

var (
	textTemplates = texttemplate.Must(texttemplate.New("").Funcs(texttemplate.FuncMap{"inc": inc}).
			ParseFS(templateFS, "templates/*.txt.tmpl"))
	htmlTemplates = htmltemplate.Must(htmltemplate.New("").Funcs(htmltemplate.FuncMap{"inc": inc}).
			ParseFS(templateFS, "templates/*.html.tmpl"))
	london = mustLoadLocation("Europe/London")
)

func inc(i int) int { return i + 1 }

func mustLoadLocation(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// now is the clock for "due today / in N days"; tests replace it.
var now = time.Now

// RenderAlert renders one reminder or escalation: subject, plain text and
// HTML. "Today" is the current date in Europe/London.
func RenderAlert(a Alert) (subject, text, html string, err error) {
	v, err := newAlertView(a, now())
	if err != nil {
		return "", "", "", err
	}
	name := v.Kind
	text, html, err = execute(name, v)
	if err != nil {
		return "", "", "", err
	}
	return v.Subject, text, html, nil
}

// RenderDigest renders one day's summary for a recipient who chose a digest
// instead of separate reminders. Items are grouped into overdue, due today
// and coming up, most urgent first; day is the date the digest is for.
func RenderDigest(recipientName string, items []DigestItem, day time.Time) (subject, text, html string, err error) {
	return RenderDigestOf(Digest{RecipientName: recipientName, Day: day, Items: items})
}

// RenderDigestOf renders a digest as the outbox stores it: its items as
// RenderDigest does, then what was given to the reader since the last one.
func RenderDigestOf(dg Digest) (subject, text, html string, err error) {
	recipientName, items, day := dg.RecipientName, dg.Items, dg.Day
	if len(items) == 0 && len(dg.Assigned) == 0 {
		return "", "", "", ErrEmptyDigest
	}
	views := make([]alertView, 0, len(items))
	for i, it := range items {
		v, err := newAlertView(it, day)
		if err != nil {
			return "", "", "", fmt.Errorf("digest item %d: %w", i+1, err)
		}
		views = append(views, v)
	}
	slices.SortStableFunc(views, compareUrgency)

	d := digestView{RecipientName: clean(recipientName), DayText: formatDate(day)}
	var overdue, today, upcoming []alertView
	for _, v := range views {
		switch {
		case v.DaysOverdue > 0:
			overdue = append(overdue, v)
		case v.daysToDue <= 0:
			today = append(today, v)
		default:
			upcoming = append(upcoming, v)
		}
		if v.Critical {
			d.CriticalCount++
		}
	}
	var counts []string
	for _, sec := range []struct {
		title, count string
		items        []alertView
	}{
		{"Overdue", "overdue", overdue},
		{"Due today", "due today", today},
		{"Coming up", "coming up", upcoming},
	} {
		if len(sec.items) == 0 {
			continue
		}
		d.Sections = append(d.Sections, digestSection{Title: sec.title, Items: sec.items})
		counts = append(counts, fmt.Sprintf("%d %s", len(sec.items), sec.count))
	}
	for i, a := range dg.Assigned {
		v, err := newAssignedView(a)
		if err != nil {
			return "", "", "", fmt.Errorf("digest assignment %d: %w", i+1, err)
		}
		d.Assigned = append(d.Assigned, v)
	}
	if n := len(d.Assigned); n > 0 {
		counts = append(counts, fmt.Sprintf("%d assigned to you", n))
	}
	if len(views) > 0 {
		d.SettingsURL = views[0].SettingsURL
	} else {
		d.SettingsURL = d.Assigned[0].SettingsURL
	}
	d.Counts = strings.Join(counts, ", ")
	d.Subject = fmt.Sprintf("Daily summary for %s: %s", d.DayText, d.Counts)
	if d.CriticalCount > 0 {
		d.Subject = "[Critical] " + d.Subject
	}
	text, html, err = execute("digest", d)
	if err != nil {
		return "", "", "", err
	}
	return d.Subject, text, html, nil
}

func execute(name string, data any) (text, html string, err error) {
	var tb, hb bytes.Buffer
	if err := textTemplates.ExecuteTemplate(&tb, name+".txt.tmpl", data); err != nil {
		return "", "", fmt.Errorf("mail: render %s text: %w", name, err)
	}
	if err := htmlTemplates.ExecuteTemplate(&hb, name+".html.tmpl", data); err != nil {
		return "", "", fmt.Errorf("mail: render %s html: %w", name, err)
	}
	return tb.String(), hb.String(), nil
}

type digestView struct {
	Subject       string
	SettingsURL   string
	RecipientName string
	DayText       string
	Counts        string
	CriticalCount int
	Sections      []digestSection
	Assigned      []assignedView
}

type digestSection struct {
	Title string
	Items []alertView
}

// alertView is an Alert with every phrase worked out in Go, where it can be
// table-tested, so the templates only place text.
type alertView struct {
	Subject         string
	Kind            string
	Escalation      bool
	Headline        string   // notices only
	Steps           []string // notices only
	Role            string   // "team manager" / "head of service"
	RecipientName   string
	CaseRef         string
	StepTitle       string
	Action          string
	CaseURL         string
	SettingsURL     string // where the reader turns emails off (settingsURL)
	DueText         string // "Mon 7 Dec 2026"
	DaysOverdue     int
	DaysOverdueText string // "3 days"
	Status          string // "is overdue by 3 days", "is due today", ...
	WhenLabel       string // "Overdue 3 days", "Due today", ... (as in the subject)
	ReleaseText     string // "in 9 days", "today", "3 days ago"
	Severity        string
	SeverityLabel   string
	SeverityColour  string
	Critical        bool

	daysToDue     int
	daysToRelease int
	severityRank  int
}

var severities = map[string]struct {
	rank          int
	label, colour string
}{
	"low":      {0, "Low", "#505a5f"},
	"medium":   {1, "Medium", "#1d70b8"},
	"high":     {2, "High", "#f47738"},
	"critical": {3, "Critical", "#d4351c"},
}

func newAlertView(a Alert, today time.Time) (alertView, error) {
	var v alertView
	kind := strings.ToLower(strings.TrimSpace(a.Kind))
	switch kind {
	case KindReminder:
		if a.Level != 0 {
			return v, fmt.Errorf("mail: a reminder has escalation level 0, got %d", a.Level)
		}
	case KindEscalation:
		switch a.Level {
		case 1:
			v.Role = "team manager"
		case 2:
			v.Role = "head of service"
		default:
			return v, fmt.Errorf("mail: escalation level must be 1 or 2, got %d", a.Level)
		}
		v.Escalation = true
	case KindNotice:
		if a.Level != 0 {
			return v, fmt.Errorf("mail: a notice has escalation level 0, got %d", a.Level)
		}
		v.Headline = clean(a.Headline)
		if v.Headline == "" {
			return v, errors.New("mail: a notice needs a Headline")
		}
		for _, st := range a.Steps {
			v.Steps = append(v.Steps, clean(st))
		}
	default:
		return v, fmt.Errorf("mail: alert kind must be %q, %q or %q, got %q", KindReminder, KindEscalation, KindNotice, a.Kind)
	}
	sev, ok := severities[strings.ToLower(a.Severity)]
	if !ok {
		return v, fmt.Errorf(`mail: severity must be "low", "medium", "high" or "critical", got %q`, a.Severity)
	}
	v.CaseRef, v.StepTitle, v.Action = clean(a.CaseRef), clean(a.StepTitle), clean(a.Action)
	if v.CaseRef == "" || v.StepTitle == "" && kind != KindNotice {
		return v, errors.New("mail: alert needs CaseRef and StepTitle")
	}
	if a.Due.IsZero() && kind != KindNotice {
		return v, errors.New("mail: alert needs a Due date")
	}
	if a.DaysOverdue < 0 {
		return v, fmt.Errorf("mail: DaysOverdue must not be negative, got %d", a.DaysOverdue)
	}
	u, err := url.Parse(a.CaseURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return v, fmt.Errorf("mail: CaseURL must be an absolute http(s) URL, got %q", a.CaseURL)
	}

	v.Kind = kind
	v.RecipientName = clean(a.RecipientName)
	v.CaseURL, v.SettingsURL = u.String(), settingsURL(u)
	v.Severity = strings.ToLower(a.Severity)
	v.SeverityLabel, v.SeverityColour, v.severityRank = sev.label, sev.colour, sev.rank
	v.Critical = v.Severity == "critical"
	if !a.Due.IsZero() {
		v.DueText = formatDate(a.Due)
	}
	v.DaysOverdue = a.DaysOverdue
	v.DaysOverdueText = plural(a.DaysOverdue, "day")
	v.daysToDue = civilDays(today, a.Due)
	v.daysToRelease = a.DaysToRelease

	switch {
	case a.DaysOverdue > 0:
		v.WhenLabel = "Overdue " + plural(a.DaysOverdue, "day")
		v.Status = "is overdue by " + plural(a.DaysOverdue, "day")
	case v.daysToDue <= 0:
		// Past the due date but not counted as overdue (the caller counts
		// working days, so a weekend can sit in between): still "today".
		v.WhenLabel, v.Status = "Due today", "is due today"
	case v.daysToDue == 1:
		v.WhenLabel, v.Status = "Due tomorrow", "is due tomorrow"
	default:
		v.WhenLabel = "Due in " + plural(v.daysToDue, "day")
		v.Status = "is due in " + plural(v.daysToDue, "day")
	}
	var release string
	switch d := a.DaysToRelease; {
	case a.ReleaseUnknown:
		v.ReleaseText, release = "no release date set", "no release date set"
		v.daysToRelease = 1 << 20 // sorts after every known release
	case d == 0:
		v.ReleaseText, release = "today", "release today"
	case d == 1:
		v.ReleaseText, release = "tomorrow", "release tomorrow"
	case d > 1:
		v.ReleaseText, release = "in "+plural(d, "day"), "release in "+plural(d, "day")
	case d == -1:
		v.ReleaseText, release = "yesterday", "released yesterday"
	default:
		v.ReleaseText, release = plural(-d, "day")+" ago", "released "+plural(-d, "day")+" ago"
	}

	var b strings.Builder
	if v.Critical {
		b.WriteString("[Critical] ")
	}
	switch {
	case v.Escalation && a.Level == 2:
		b.WriteString("Escalation to head of service: ")
	case v.Escalation:
		b.WriteString("Escalation: ")
	}
	if kind == KindNotice {
		fmt.Fprintf(&b, "%s: case %s — %s", v.Headline, v.CaseRef, release)
	} else {
		fmt.Fprintf(&b, "%s: %s for case %s — %s", v.WhenLabel, v.StepTitle, v.CaseRef, release)
	}
	v.Subject = b.String()
	return v, nil
}

// compareUrgency orders digest items: most severe, then nearest release,
// then longest overdue, then soonest due.
func compareUrgency(a, b alertView) int {
	if a.severityRank != b.severityRank {
		return b.severityRank - a.severityRank
	}
	if a.daysToRelease != b.daysToRelease {
		return a.daysToRelease - b.daysToRelease
	}
	if a.DaysOverdue != b.DaysOverdue {
		return b.DaysOverdue - a.DaysOverdue
	}
	if a.daysToDue != b.daysToDue {
		return a.daysToDue - b.daysToDue
	}
	return strings.Compare(a.CaseRef, b.CaseRef)
}

// SettingsPath is the page where people choose which emails they get
// (web's "Your settings"); every email that says they can turn it off links
// there.
const SettingsPath = "/account"

// settingsURL is the settings page at the public address (BASE_URL) that
// caseURL, an email's absolute link to its case (BASE_URL + "/cases/" +
// id), was made from. Deriving it, rather than carrying a second link in
// each payload, keeps the emails already queued in the outbox as they are
// and means an email never links to a different site than its case does;
// it has no query, so nothing about the case or the reader goes with it.
func settingsURL(caseURL *url.URL) string {
	base := ""
	if i := strings.LastIndex(caseURL.Path, "/cases/"); i >= 0 {
		base = caseURL.Path[:i]
	}
	u := url.URL{Scheme: caseURL.Scheme, Host: caseURL.Host, Path: strings.TrimSuffix(base, "/") + SettingsPath}
	return u.String()
}

func formatDate(t time.Time) string { return t.In(london).Format("Mon 2 Jan 2006") }

// civilDays counts calendar days from from's date to to's date, both taken
// in Europe/London, so a due date stored as midnight UTC in summer is still
// the right day.
func civilDays(from, to time.Time) int {
	day := func(t time.Time) time.Time {
		y, m, d := t.In(london).Date()
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	}
	return int(day(to).Sub(day(from)).Hours() / 24)
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// clean makes a value safe for a one-line subject and for plain text: no
// line breaks (header injection), no control characters (terminal escapes
// in a text mail client), collapsed whitespace.
func clean(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}
