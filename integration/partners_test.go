package integration

import (
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/throughgate/throughgate/api"
	"github.com/throughgate/throughgate/internal/devsmtp"
	"github.com/throughgate/throughgate/resettlement"
)

// Issue 13 end to end, on the real dev stack: an officer records the
// person's consent and sends a partner agency a one-time link from a
// waiting step; the email reaches the development SMTP server with no
// personal data; the link shows the person's name only after the
// reference given by phone, takes one answer, which completes the step on
// the case's workflow, and the step's owner is emailed; assigning a step
// emails its new owner only. Then a partner answers in Chromium, with
// screenshots of the partner's page at desktop and phone widths.

var partnerLink = regexp.MustCompile(`https?://[^\s]+/partner/[A-Za-z0-9_-]{43}`)

// mailTo waits for an email to an address whose subject has want, and
// returns it.
func mailTo(t *testing.T, s *devsmtp.Server, to, want string) devsmtp.Message {
	t.Helper()
	var got devsmtp.Message
	waitFor(t, "an email to "+to+" about "+want, 30*time.Second, func() bool {
		for _, m := range s.Messages() {
			if len(m.To) > 0 && m.To[0] == to && strings.Contains(m.Subject, want) {
				got = m
				return true
			}
		}
		return false
	})
	return got
}

// noPersonalDataIn fails when an email carries the person's name, prison
// number or date of birth.
func noPersonalDataIn(t *testing.T, m devsmtp.Message, prisonNumber string) {
	t.Helper()
	for _, pd := range []string{"Sam", "Example", prisonNumber, "1990", "17 May", "17/05"} {
		for part, s := range map[string]string{"subject": m.Subject, "text": m.Text, "html": m.HTML} {
			if strings.Contains(s, pd) {
				t.Errorf("the email %q carries %q in its %s", m.Subject, pd, part)
			}
		}
	}
}

// partnerGet and partnerPost are the partner's browser without one: no
// session, no cookies; responses checked against the OpenAPI document.
func partnerPost(t *testing.T, c *apiClient, link, path string, form url.Values) (int, http.Header, string) {
	t.Helper()
	r := c.do("POST", link+path, form.Encode(), map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	return r.status, r.header, string(r.body)
}

func TestPartnerLinksEndToEnd(t *testing.T) {
	d := startDev(t, devConfig(t, filepath.Join(tempDir(t), "data")))
	defer d.Stop()
	today := resettlement.DateOf(time.Now())
	officer := signIn(t, d, "olu.officer@pvi.example.org")
	var view api.CaseView
	officer.want(officer.act("/api/v1/cases", "open-partner", openBody("P1234RT", "1", "PVI", today)), http.StatusCreated, "open").decode(t, &view)
	base := "/api/v1/cases/" + view.ID
	officer.want(officer.act(base+"/steps/housing-referral/actions", "wait-1", map[string]any{"action": "waiting",
		"note": "Referred to Islington; waiting for their decision."}), http.StatusOK, "waiting on the council")

	// Consent first: without it the link is refused, and so is completing
	// the housing referral.
	links := base + "/steps/housing-referral/partner-links"
	ask := map[string]any{"partner_name": "Islington housing options", "partner_email": "housing.options@islington.example.org",
		"ask": "Has Sam's referral been accepted, and when is the first appointment?"}
	wantProblem(t, officer.act(links, "link-1", ask), http.StatusUnprocessableEntity, "consent", "a link without consent")
	wantProblem(t, officer.act(base+"/steps/housing-referral/actions", "done-0", map[string]any{"action": "complete"}),
		http.StatusUnprocessableEntity, "consent", "completing the referral without consent")
	officer.want(officer.act(base+"/consents", "consent-1", map[string]any{"purpose": "housing-referral"}), http.StatusCreated, "record consent")

	var sent api.SentPartnerLink
	officer.want(officer.act(links, "link-1", ask), http.StatusCreated, "send the link").decode(t, &sent)
	if len(sent.Reference) != 9 {
		t.Fatalf("the reference %q", sent.Reference)
	}

	// The email: the case reference, the step, who asks; nothing that
	// identifies the person, nothing the officer typed, not the reference.
	m := mailTo(t, d.SMTP, "housing.options@islington.example.org", "Housing: duty to refer")
	noPersonalDataIn(t, m, "P1234RT")
	if strings.Contains(m.Text, sent.Reference) || strings.Contains(m.Text, "appointment") || !strings.Contains(m.Text, view.ID) ||
		!strings.Contains(m.Text, "Olu Officer (Pentonville resettlement)") {
		t.Errorf("the partner's email:\n%s", m.Text)
	}
	link := partnerLink.FindString(m.Text)
	if link == "" || !strings.HasPrefix(link, d.Config.BaseURL+"/partner/") {
		t.Fatalf("no link in the email (BASE_URL %s):\n%s", d.Config.BaseURL, m.Text)
	}
	link = strings.TrimPrefix(link, d.Config.BaseURL) // the link's path, on the stack's real port

	// The page, for anyone with the link: no name until the reference.
	partner := newClient(t, d.URL)
	r := partner.do("GET", link, nil, nil)
	if r.status != http.StatusOK || r.header.Get("Cache-Control") != "no-store" || r.header.Get("Referrer-Policy") != "no-referrer" {
		t.Fatalf("the link's page: %d %v", r.status, r.header)
	}
	page := string(r.body)
	if !strings.Contains(page, "Case reference "+view.ID) || !strings.Contains(page, "Housing: duty to refer") || !strings.Contains(page, "first appointment") ||
		strings.Contains(page, "Example") || strings.Contains(page, "P1234RT") {
		t.Errorf("the page before the reference:\n%s", page)
	}
	status, _, page := partnerPost(t, partner, link, "/reference", url.Values{"reference": {"WRNG-WRNG"}})
	if status != http.StatusUnprocessableEntity || strings.Contains(page, "Sam Example") {
		t.Errorf("a wrong reference: %d", status)
	}
	status, _, page = partnerPost(t, partner, link, "/reference", url.Values{"reference": {strings.ToLower(sent.Reference)}})
	if status != http.StatusOK || !strings.Contains(page, "Sam Example") || strings.Contains(page, "P1234RT") {
		t.Fatalf("the right reference: %d\n%s", status, page)
	}

	// The answer: once, completing the step on the case.
	status, _, page = partnerPost(t, partner, link, "/answer", url.Values{"reference": {sent.Reference}, "answer": {"complete"},
		"note": {"Accepted: prevention duty owed; appointment on the 20th."}})
	if status != http.StatusOK || !strings.Contains(page, "Answer sent") {
		t.Fatalf("the answer: %d\n%s", status, page)
	}
	if status, _, _ := partnerPost(t, partner, link, "/answer", url.Values{"reference": {sent.Reference}, "answer": {"complete"}}); status != http.StatusGone {
		t.Errorf("a second answer: %d", status)
	}
	if r := partner.do("GET", link, nil, nil); r.status != http.StatusGone {
		t.Errorf("the used link: %d", r.status)
	}
	officer.want(officer.do("GET", base, nil, nil), http.StatusOK, "the case").decode(t, &view)
	for _, st := range view.Steps {
		if st.ID == resettlement.StepHousingReferral && st.Status != resettlement.StepDone {
			t.Errorf("the housing referral is %s after the partner's answer", st.Status)
		}
	}
	var tl api.TimelineView
	officer.want(officer.do("GET", base+"/timeline", nil, nil), http.StatusOK, "timeline").decode(t, &tl)
	found := false
	for _, e := range tl.Entries {
		if e.By == "partner:"+sent.Link.ID && strings.Contains(e.Note, "prevention duty owed") {
			found = true
		}
	}
	if !found {
		t.Errorf("the timeline has no answer by partner:%s with its note: %+v", sent.Link.ID, tl.Entries)
	}
	for action, want := range map[string]int{"partner.view": 2, "partner.reference": 2, "partner.answer": 2} {
		if n := len(auditOf(t, d, action, view.ID)); n < want {
			t.Errorf("%d %s audit lines, want %d or more: every use is audited", n, action, want)
		}
	}

	// The step's owner is told, with no personal data.
	m = mailTo(t, d.SMTP, "olu.officer@pvi.example.org", "Partner answered")
	noPersonalDataIn(t, m, "P1234RT")

	// Assigning a step emails its new owner, once; the previous owner
	// nothing (a team queue is told by the unassigned notice, not here).
	manager := signIn(t, d, "mo.manager@pvi.example.org")
	manager.want(manager.act(base+"/steps/benefits/assign", "to-queue", map[string]any{"owner": map[string]any{"team": "pvi-resettlement"}}),
		http.StatusOK, "to the queue")
	manager.want(manager.act(base+"/steps/benefits/assign", "to-olu", map[string]any{"owner": map[string]any{"staff": "officer-1", "team": "pvi-resettlement"}}),
		http.StatusOK, "to officer-1")
	manager.want(manager.act(base+"/steps/benefits/assign", "to-olu", map[string]any{"owner": map[string]any{"staff": "officer-1", "team": "pvi-resettlement"}}),
		http.StatusOK, "the same request again")
	m = mailTo(t, d.SMTP, "olu.officer@pvi.example.org", "Assigned to you: Universal Credit claim")
	noPersonalDataIn(t, m, "P1234RT")
	if !strings.Contains(m.Text, d.Config.BaseURL+"/cases/"+view.ID) || !strings.Contains(m.Text, "Mo Manager") {
		t.Errorf("the assignment email:\n%s", m.Text)
	}
	time.Sleep(2 * time.Second) // the sender's next poll: any duplicate would be out by now
	n := 0
	for _, msg := range d.SMTP.Messages() {
		if strings.Contains(msg.Subject, "Assigned to you") {
			n++
			if msg.To[0] != "olu.officer@pvi.example.org" {
				t.Errorf("an assignment email went to %s", msg.To[0])
			}
		}
	}
	if n != 1 {
		t.Errorf("%d assignment emails, want 1", n)
	}

	// A partner answers in a browser: the screenshots.
	officer.want(officer.act(base+"/steps/gp-registration/actions", "wait-gp", map[string]any{"action": "waiting",
		"note": "Registration form sent to the practice."}), http.StatusOK, "waiting on the GP")
	officer.want(officer.act(base+"/consents", "consent-gp", map[string]any{"purpose": "gp-sharing"}), http.StatusCreated, "consent to the GP")
	officer.want(officer.act(base+"/steps/gp-registration/partner-links", "link-gp", map[string]any{"partner_name": "Amwell Street practice",
		"partner_email": "reception@amwell.example.org", "ask": "Can you register them before release? They have no ID yet."}), http.StatusCreated, "link to the GP").decode(t, &sent)
	m = mailTo(t, d.SMTP, "reception@amwell.example.org", "GP registration")
	noPersonalDataIn(t, m, "P1234RT")
	link = strings.TrimPrefix(partnerLink.FindString(m.Text), d.Config.BaseURL)

	s := &uiSession{t: t, ctx: uiBrowser(t, uiChromium(t)), base: d.URL, dir: uiShotDir(t)}
	if status := s.open(link); status != http.StatusOK {
		t.Fatalf("the partner's page in Chromium: %d", status)
	}
	s.expectText("h1", "Case reference "+view.ID)
	if strings.Contains(s.text("main"), "Sam") {
		t.Error("the page shows the name before the reference")
	}
	s.shoot("partner")
	s.do("enter the reference", chromedp.SetValue(chromedp.ID("reference-reference"), sent.Reference))
	if status := s.submit("give the reference", `#reference button[type="submit"]`); status != http.StatusOK {
		t.Fatalf("the reference in Chromium: %d", status)
	}
	s.expectText("#partner-person", "Sam Example")
	s.do("say it is still waiting", chromedp.Click(chromedp.ID("answer-answer-1")),
		chromedp.SetValue(chromedp.ID("answer-note"), "Registered provisionally; we need proof of address after release."))
	s.shoot("partner-answer")
	if status := s.submit("send the answer", `#answer button[type="submit"]`); status != http.StatusOK {
		t.Fatalf("the answer in Chromium: %d", status)
	}
	s.expectText("h1", "Answer sent")
	s.shoot("partner-done")
	officer.want(officer.do("GET", base, nil, nil), http.StatusOK, "the case").decode(t, &view)
	for _, st := range view.Steps {
		if st.ID == resettlement.StepGPRegistration && st.Status != resettlement.StepWaiting {
			t.Errorf("GP registration is %s after \"still waiting\"", st.Status)
		}
	}
	mailTo(t, d.SMTP, "olu.officer@pvi.example.org", "GP registration for case "+view.ID+" is still waiting")

	// The officer's side in the browser: a step's partner links, sending
	// one (the reference shown once), and the case page's consent section.
	s.signIn("olu.officer@pvi.example.org")
	s.open("/cases/" + view.ID + "/steps/gp-registration/partners")
	s.expectText("main", "Amwell Street practice", "Answered")
	s.do("fill in the link's form", chromedp.SetValue(chromedp.ID("partner-link-partner_name"), "Amwell Street practice"),
		chromedp.SetValue(chromedp.ID("partner-link-partner_email"), "practice.manager@amwell.example.org"),
		chromedp.SetValue(chromedp.ID("partner-link-ask"), "Has the registration gone through?"))
	if status := s.submit("send a link", `#partner-link button[type="submit"]`); status != http.StatusCreated {
		t.Fatalf("sending a link from the page: %d", status)
	}
	ref := s.text("#partner-reference")
	if len(ref) != 9 {
		t.Errorf("the page shows the reference %q", ref)
	}
	s.shoot("partner-link-sent")
	m = mailTo(t, d.SMTP, "practice.manager@amwell.example.org", "GP registration")
	if strings.Contains(m.Text, ref) {
		t.Error("the reference was emailed")
	}
	s.open("/cases/" + view.ID)
	s.expectText("#consent", "Duty to refer to a housing authority", "Sharing with a GP practice", "Olu Officer")
	s.axe("the case page with its consents")
}
