package mail

import (
	"errors"
	"fmt"
	"net/url"
	"time"
)

// PartnerLink is the email that sends a partner agency (a council's
// housing options team, a GP practice, a Jobcentre) a one-time link to
// answer a step that waits on them (issue 13). It leaves our control for
// another organisation, so it says even less than a reminder: the case
// reference, the step's title, who asks and until when — never the
// person's name, prison number or date of birth, nor what the officer
// typed. The page behind the link shows the person's name only once the
// partner gives the reference the officer told them by phone.
type PartnerLink struct {
	PartnerName string    `json:"partner_name"`
	CaseRef     string    `json:"case_ref"`
	StepTitle   string    `json:"step_title"`
	From        string    `json:"from"` // the officer's name
	Team        string    `json:"team"` // the officer's team, such as "Pentonville resettlement"
	LinkURL     string    `json:"link_url"`
	Expires     time.Time `json:"expires"`
}

type partnerLinkView struct {
	Subject       string
	RecipientName string
	CaseRef       string
	StepTitle     string
	From          string
	LinkURL       string
	ExpiresText   string
}

// RenderPartnerLink renders the email that carries a partner's link.
func RenderPartnerLink(p PartnerLink) (subject, text, html string, err error) {
	v := partnerLinkView{RecipientName: clean(p.PartnerName), CaseRef: clean(p.CaseRef), StepTitle: clean(p.StepTitle)}
	if v.CaseRef == "" || v.StepTitle == "" {
		return "", "", "", errors.New("mail: a partner link needs CaseRef and StepTitle")
	}
	if p.Expires.IsZero() {
		return "", "", "", errors.New("mail: a partner link needs Expires")
	}
	u, err := url.Parse(p.LinkURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", "", "", fmt.Errorf("mail: LinkURL must be an absolute http(s) URL, got %q", p.LinkURL)
	}
	v.LinkURL = u.String()
	v.From = clean(p.From)
	if t := clean(p.Team); t != "" {
		if v.From == "" {
			v.From = t
		} else {
			v.From += " (" + t + ")"
		}
	}
	if v.From == "" {
		v.From = "A resettlement officer"
	}
	v.ExpiresText = formatDate(p.Expires) + " at " + clock(p.Expires)
	v.Subject = fmt.Sprintf("Request for your answer: %s, case %s", v.StepTitle, v.CaseRef)
	text, html, err = execute("partner-link", v)
	if err != nil {
		return "", "", "", err
	}
	return v.Subject, text, html, nil
}

// Partner answers.
const (
	PartnerAnswerDone    = "complete"
	PartnerAnswerWaiting = "waiting"
)

// PartnerAnswered tells a step's owner that the partner answered through
// its link: done, or still waiting (with a note, on the case).
type PartnerAnswered struct {
	RecipientName string    `json:"recipient_name"`
	CaseRef       string    `json:"case_ref"`
	StepTitle     string    `json:"step_title"`
	PartnerName   string    `json:"partner_name"`
	Answer        string    `json:"answer"` // PartnerAnswerDone or PartnerAnswerWaiting
	At            time.Time `json:"at"`
	CaseURL       string    `json:"case_url"`
}

type partnerAnsweredView struct {
	Subject       string
	RecipientName string
	CaseRef       string
	StepTitle     string
	Lead          string
	When          string
	CaseURL       string
}

// RenderPartnerAnswered renders the email to a step's owner about a
// partner's answer.
func RenderPartnerAnswered(p PartnerAnswered) (subject, text, html string, err error) {
	v := partnerAnsweredView{RecipientName: clean(p.RecipientName), CaseRef: clean(p.CaseRef), StepTitle: clean(p.StepTitle)}
	if v.CaseRef == "" || v.StepTitle == "" || p.At.IsZero() {
		return "", "", "", errors.New("mail: a partner's answer needs CaseRef, StepTitle and At")
	}
	u, err := url.Parse(p.CaseURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", "", "", fmt.Errorf("mail: CaseURL must be an absolute http(s) URL, got %q", p.CaseURL)
	}
	v.CaseURL, v.When = u.String(), formatDate(p.At)+" at "+clock(p.At)
	partner := clean(p.PartnerName)
	if partner == "" {
		partner = "The partner"
	}
	switch p.Answer {
	case PartnerAnswerDone:
		v.Subject = fmt.Sprintf("Partner answered: %s for case %s is done", v.StepTitle, v.CaseRef)
		v.Lead = fmt.Sprintf("%s marked the step %q of case %s done through the link you sent.", partner, v.StepTitle, v.CaseRef)
	case PartnerAnswerWaiting:
		v.Subject = fmt.Sprintf("Partner answered: %s for case %s is still waiting", v.StepTitle, v.CaseRef)
		v.Lead = fmt.Sprintf("%s says the step %q of case %s is still waiting on them, and left a note on the case.", partner, v.StepTitle, v.CaseRef)
	default:
		return "", "", "", fmt.Errorf("mail: unknown partner answer %q", p.Answer)
	}
	text, html, err = execute("partner-answered", v)
	if err != nil {
		return "", "", "", err
	}
	return v.Subject, text, html, nil
}
