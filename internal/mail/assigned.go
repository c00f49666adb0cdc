package mail

import (
	"errors"
	"fmt"
	"net/url"
	"time"
)

// Kinds of the emails of issue 13, as the outbox's kind column names them
// (the template has the same name). A person may turn KindAssigned off.
const (
	KindAssigned        = "assigned"
	KindPartnerLink     = "partner-link"
	KindPartnerAnswered = "partner-answered"
)

// Assigned tells a member of staff that a step, or a whole case, was given
// to them (issue 13). Like every email it names the case by its reference
// and links to it, and says nothing about the person in custody.
type Assigned struct {
	RecipientName string `json:"recipient_name"`
	CaseRef       string `json:"case_ref"`
	// StepTitle is the step given; "" when the whole case was.
	StepTitle string `json:"step_title,omitempty"`
	// Steps are the open steps that went with a case, by title.
	Steps []string  `json:"steps,omitempty"`
	Due   time.Time `json:"due,omitzero"` // the step's due date; zero when on hold
	// By names who gave it ("" for Throughgate itself, such as on an event).
	By      string    `json:"by,omitempty"`
	At      time.Time `json:"at"`
	CaseURL string    `json:"case_url"`
}

type assignedView struct {
	Subject       string
	RecipientName string
	CaseRef       string
	StepTitle     string
	Steps         []string
	DueText       string
	By            string
	When          string
	Lead          string
	CaseURL       string
	SettingsURL   string
}

// newAssignedView works out every phrase of an assignment email.
func newAssignedView(a Assigned) (assignedView, error) {
	v := assignedView{RecipientName: clean(a.RecipientName), CaseRef: clean(a.CaseRef), StepTitle: clean(a.StepTitle),
		By: clean(a.By)}
	if v.CaseRef == "" {
		return v, errors.New("mail: an assignment needs CaseRef")
	}
	if a.At.IsZero() {
		return v, errors.New("mail: an assignment needs At")
	}
	u, err := url.Parse(a.CaseURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return v, fmt.Errorf("mail: CaseURL must be an absolute http(s) URL, got %q", a.CaseURL)
	}
	v.CaseURL, v.SettingsURL = u.String(), settingsURL(u)
	v.When = formatDate(a.At) + " at " + clock(a.At)
	for _, s := range a.Steps {
		v.Steps = append(v.Steps, clean(s))
	}
	if !a.Due.IsZero() {
		v.DueText = formatDate(a.Due)
	}
	by := "Throughgate"
	if v.By != "" {
		by = v.By
	}
	if v.StepTitle != "" {
		v.Subject = fmt.Sprintf("Assigned to you: %s for case %s", v.StepTitle, v.CaseRef)
		if v.DueText != "" {
			v.Subject += " — due " + v.DueText
		}
		v.Lead = fmt.Sprintf("%s gave you the step %q of case %s.", by, v.StepTitle, v.CaseRef)
	} else {
		v.Subject = fmt.Sprintf("Case %s assigned to you", v.CaseRef)
		v.Lead = fmt.Sprintf("%s gave you case %s.", by, v.CaseRef)
		if len(v.Steps) > 0 {
			v.Lead += fmt.Sprintf(" %s went with it.", plural(len(v.Steps), "open step"))
		}
	}
	return v, nil
}

// RenderAssigned renders an assignment email.
func RenderAssigned(a Assigned) (subject, text, html string, err error) {
	v, err := newAssignedView(a)
	if err != nil {
		return "", "", "", err
	}
	text, html, err = execute("assigned", v)
	if err != nil {
		return "", "", "", err
	}
	return v.Subject, text, html, nil
}
