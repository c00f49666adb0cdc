package web

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/casework"
	tgmail "github.com/throughgate/throughgate/internal/mail"
	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/internal/postgres/pgtest"
	"github.com/throughgate/throughgate/resettlement"
)

// Issue 13 in the pages: the partner's page (outside sign-in), a step's
// partner links page, and the consent section of the case page.

func TestPartnerPagesRender(t *testing.T) {
	a := &site{Deps{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}}
	pg := casework.PartnerPage{LinkID: "l1", CaseRef: "k3m9x2p7qa", StepTitle: "Housing: duty to refer", Ask: "Has the referral\nbeen accepted?",
		Expires: pageNow.Add(14 * 24 * time.Hour)}
	wrong := newForm("reference", "/partner/tok/reference", "reference").set(url.Values{"reference": {"AAAA"}})
	wrong.fail(casework.FieldsError(resettlement.Errors{{Field: "reference", Message: "is not the reference the officer gave you: check it and try again (4 more tries before the link locks)"}}), nil)
	named := pg
	named.PersonName = "Sam Example"
	answer := answerForm("tok", "K7PQ-4MXZ")
	answer.fail(casework.FieldsError(resettlement.Errors{{Field: "note", Message: "is required when the step is still waiting"}}), nil)
	for name, v := range map[string]partnerView{
		"reference":       {Stage: "reference", Title: "Case reference k3m9x2p7qa", Page: pg, Reference: newForm("reference", "/partner/tok/reference", "reference")},
		"wrong reference": {Stage: "reference", Title: "Case reference k3m9x2p7qa", Page: pg, Reference: wrong},
		"answer":          {Stage: "answer", Title: "Case reference k3m9x2p7qa", Page: named, Answer: answer, Answers: partnerAnswers()},
		"done":            {Stage: "done", Title: "Answer sent", Page: named, Done: "You said it is done."},
		"closed":          {Stage: "closed", Title: "This link no longer works", Message: (&casework.LinkClosedError{State: casework.LinkLocked}).Error()},
	} {
		d := pageData{Title: v.Title, Data: v}
		for _, f := range []*pageForm{v.Reference, v.Answer} {
			if f != nil && f.InError() {
				d.Summary = append(d.Summary, f.summary()...)
			}
		}
		html := renderPage(t, a, "partner", d)
		checkPage(t, "partner "+name, html)
		if strings.Contains(html, "Sam Example") != (name == "answer" || name == "done") && name != "done" {
			t.Errorf("%s: the person's name shown %v", name, strings.Contains(html, "Sam Example"))
		}
		if !strings.Contains(html, "<title>") || strings.Contains(html[:strings.Index(html, "</title>")], "Sam") {
			t.Errorf("%s: the title names the person", name)
		}
	}

	sent := &casework.SentPartnerLink{Reference: "K7PQ-4MXZ", Link: casework.PartnerLinkView{State: casework.LinkOpen,
		PartnerLink: postgres.PartnerLink{ID: "l1", PartnerName: "Islington housing options", PartnerEmail: "h@islington.example.org", ExpiresAt: pageNow}}}
	form := partnerLinkForm("k3m9x2p7qa", "housing-referral").set(url.Values{"partner_name": {"Islington"}})
	form.fail(casework.FieldsError(resettlement.Errors{{Field: "consent", Message: "the person has not consented to this sharing (housing-referral)"},
		{Field: "partner_email", Message: "must be an email address"}}), nil)
	links := []partnerLinkRow{{PartnerLinkView: sent.Link, StateLabel: "Open", Revoke: newForm("revoke-l1", "/cases/k3m9x2p7qa/steps/housing-referral/partner-links/l1/revoke")}}
	for name, p := range map[string]partnersPage{
		"sent":        {CaseID: "k3m9x2p7qa", Step: resettlement.Step{ID: "housing-referral", Title: "Housing: duty to refer"}, Waiting: true, Links: links, Form: partnerLinkForm("k3m9x2p7qa", "housing-referral"), Sent: sent},
		"failed":      {CaseID: "k3m9x2p7qa", Step: resettlement.Step{ID: "housing-referral", Title: "Housing: duty to refer"}, Waiting: true, Links: links, Form: form},
		"not waiting": {CaseID: "k3m9x2p7qa", Step: resettlement.Step{ID: "benefits", Title: "Benefits"}, Form: partnerLinkForm("k3m9x2p7qa", "benefits")},
	} {
		d := pageData{Title: "Ask a partner", Data: p}
		if p.Form.InError() {
			d.Summary = p.Form.summary()
		}
		html := renderPage(t, a, "partners", d)
		checkPage(t, "partners "+name, html)
		if (name == "sent") != strings.Contains(html, "K7PQ-4MXZ") {
			t.Errorf("partners %s: the reference shown %v", name, strings.Contains(html, "K7PQ-4MXZ"))
		}
		if name == "failed" && !strings.Contains(html, "Consent: the person has not consented") {
			t.Errorf("partners failed: the consent problem is not said")
		}
	}

	// The case page's consent section, its form in error.
	v := sampleCase(t)
	var fs caseForms
	fs.Owners = sampleOwners()
	page := buildCasePage(caseInputs{v: v, names: map[string]string{}, teams: sampleTeams(), options: fs, now: pageNow})
	failed := consentForm(v.ID).set(url.Values{"purpose": {"partner"}})
	failed.fail(casework.FieldsError(resettlement.Errors{{Field: "partner_name", Message: "is required"}}), nil)
	page.Consent = consentSection{Purposes: consentPurposes, Form: failed, Open: true, Items: []consentRow{
		{Consent: postgres.Consent{ID: 1, Purpose: "housing-referral"}, Title: "Duty to refer to a housing authority", Given: "Mon 2 Mar 2026", By: "Olu Officer",
			Withdraw: newForm("withdraw-1", "/cases/k3m9x2p7qa/consents/1/withdraw")},
		{Consent: postgres.Consent{ID: 2, Purpose: "gp-sharing"}, Title: "Sharing with a GP practice", Given: "Mon 2 Mar 2026", By: "Olu Officer", Withdrawn: "Tue 3 Mar 2026 (Mo Manager)"},
	}}
	html := renderPage(t, a, "case", pageData{Title: page.Name, Summary: failed.summary(), Data: page})
	checkPage(t, "case with consent", html)
	for _, want := range []string{`id="consent"`, "Duty to refer to a housing authority", "Withdraw", "Tue 3 Mar 2026 (Mo Manager)", "Partner is required."} {
		if !strings.Contains(html, want) {
			t.Errorf("case: no %q", want)
		}
	}
}

// partnerSite is the pages over a fresh database with a case whose housing
// referral waits on the council, its consent, and a link sent for it.
type partnerSite struct {
	t         *testing.T
	h         http.Handler
	db        *postgres.DB
	svc       *casework.Service
	token     string
	reference string
}

func newPartnerSite(t *testing.T) *partnerSite {
	t.Helper()
	db := pgtest.New(t)
	ctx := context.Background()
	if err := db.PutTeam(ctx, postgres.Team{ID: "pvi-resettlement", Name: "Pentonville resettlement", Establishment: "PVI", Active: true}); err != nil {
		t.Fatal(err)
	}
	if err := db.PutStaff(ctx, postgres.Staff{ID: "officer-1", Name: "Olu Officer", Email: "olu@pvi.example.org", Role: "officer", Team: "pvi-resettlement", Active: true}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	c, err := resettlement.Open(resettlement.OpenCase{CaseID: "webcase001", Establishment: "PVI", Team: "pvi-resettlement", ReceivedOn: resettlement.DateOf(now).AddDays(-10),
		Dates: resettlement.ReleaseDates{CRD: resettlement.DateOf(now).AddDays(80)}, Adult: true}, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.ActOnStep(resettlement.ActOnStep{Meta: resettlement.Meta{RequestID: "w", By: "officer-1", NoteID: 1}, StepID: resettlement.StepHousingReferral,
		Action: resettlement.ActionWaiting}, now); err != nil {
		t.Fatal(err)
	}
	if err := db.LoadSynthetic(ctx, []postgres.SyntheticCase{{Person: postgres.Person{PrisonNumber: "A1234BC", Booking: "1", GivenName: "Sam",
		FamilyName: "Example", DateOfBirth: resettlement.D(1990, 5, 17)}, Case: c, Stage: c.Stage(now)}}); err != nil {
		t.Fatal(err)
	}
	svc := &casework.Service{DB: db, BaseURL: "https://throughgate.example.org"}
	st, _ := db.StaffMember(ctx, "officer-1")
	reach, _ := db.StaffReach(ctx, "officer-1")
	officer := &auth.Principal{Staff: st, Reach: reach, Via: "session"}
	if _, _, err := svc.RecordConsent(ctx, officer, "webcase001", "c1", casework.RecordConsent{Purpose: casework.PurposeHousingReferral}); err != nil {
		t.Fatal(err)
	}
	sent, _, err := svc.SendPartnerLink(ctx, officer, "webcase001", "l1", casework.SendPartnerLink{StepID: resettlement.StepHousingReferral,
		PartnerName: "Islington housing options", PartnerEmail: "housing@islington.example.org", Ask: "Has the referral been accepted?"})
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := db.CaseEmails(ctx, "webcase001")
	var p tgmail.PartnerLink
	_ = json.Unmarshal(rows[len(rows)-1].Data, &p)
	sessions := &auth.Sessions{DB: db, Cookie: auth.CookieConfig{Name: "tg_session"}, Idle: time.Hour, Absolute: 8 * time.Hour}
	r := chi.NewRouter()
	Routes(r, Deps{Cases: svc, Auth: &auth.Authenticator{DB: db, Sessions: sessions, CSRF: http.NewCrossOriginProtection()}, Sessions: sessions,
		SignInRate: func(h http.Handler) http.Handler { return h }, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	return &partnerSite{t: t, h: r, db: db, svc: svc, token: strings.TrimPrefix(p.LinkURL, "https://throughgate.example.org/partner/"), reference: sent.Reference}
}

func (s *partnerSite) do(method, path string, form url.Values, header map[string]string) *httptest.ResponseRecorder {
	s.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	s.h.ServeHTTP(w, req)
	return w
}

func (s *partnerSite) expect(w *httptest.ResponseRecorder, status int, what string, has ...string) string {
	s.t.Helper()
	body := w.Body.String()
	if w.Code != status {
		s.t.Fatalf("%s: %d, want %d\n%s", what, w.Code, status, body)
	}
	for _, h := range has {
		if !strings.Contains(body, h) {
			s.t.Errorf("%s: no %q in\n%s", what, h, body)
		}
	}
	return body
}

func TestPartnerPageOutsideSignIn(t *testing.T) {
	s := newPartnerSite(t)
	path := "/partner/" + s.token

	// No sign-in, never cached, no Referer; the name only after the reference.
	w := s.do(http.MethodGet, path, nil, nil)
	body := s.expect(w, http.StatusOK, "the link's page", "Case reference webcase001", "Housing: duty to refer", "Has the referral been accepted?")
	for h, want := range map[string]string{"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex, nofollow"} {
		if got := w.Header().Get(h); got != want {
			t.Errorf("%s: %q, want %q", h, got, want)
		}
	}
	for _, pd := range []string{"Sam", "Example", "A1234BC", "1990", "Sign out"} {
		if strings.Contains(body, pd) {
			t.Errorf("the page before the reference shows %q", pd)
		}
	}
	s.expect(s.do(http.MethodGet, "/partner/"+strings.Repeat("x", 43), nil, nil), http.StatusNotFound, "an unknown link", "This link is not valid")
	s.expect(s.do(http.MethodGet, "/partner/short", nil, nil), http.StatusNotFound, "not a token")

	// Forms only from this site.
	s.expect(s.do(http.MethodPost, path+"/reference", url.Values{"reference": {s.reference}}, map[string]string{"Sec-Fetch-Site": "cross-site"}),
		http.StatusForbidden, "a reference posted from another site", "another site")

	// A wrong reference is counted; the right one shows the name and the answer's form.
	body = s.expect(s.do(http.MethodPost, path+"/reference", url.Values{"reference": {"AAAA-AAAA"}}, map[string]string{"Sec-Fetch-Site": "same-origin"}),
		http.StatusUnprocessableEntity, "a wrong reference", "4 more tries")
	if strings.Contains(body, "Sam Example") {
		t.Error("a wrong reference showed the name")
	}
	body = s.expect(s.do(http.MethodPost, path+"/reference", url.Values{"reference": {s.reference}}, nil),
		http.StatusOK, "the right reference", "Sam Example", `name="answer"`, `value="`+s.reference+`"`)
	if strings.Contains(body, "A1234BC") || strings.Contains(body, "1990") {
		t.Error("the page shows more than the name")
	}
	// The answer's form is checked before the case is asked anything.
	s.expect(s.do(http.MethodPost, path+"/answer", url.Values{"reference": {s.reference}, "answer": {"waiting"}}, nil),
		http.StatusUnprocessableEntity, "still waiting without a note", "Note for the officer")
	s.expect(s.do(http.MethodPost, path+"/answer", url.Values{"reference": {"BBBB-BBBB"}, "answer": {"complete"}}, nil),
		http.StatusUnprocessableEntity, "an answer without the reference", "Reference is not the reference")

	// Three more wrong references (five in all) lock it.
	for i := 0; i < 2; i++ {
		s.do(http.MethodPost, path+"/reference", url.Values{"reference": {"CCCC-CCCC"}}, nil)
	}
	s.expect(s.do(http.MethodPost, path+"/reference", url.Values{"reference": {"DDDD-DDDD"}}, nil), http.StatusGone, "the fifth wrong reference", "locked")
	s.expect(s.do(http.MethodGet, path, nil, nil), http.StatusGone, "a locked link", "This link no longer works")
	entries, err := s.db.AuditLog(context.Background(), postgres.AuditFilter{Action: "partner.", CaseID: "webcase001", Limit: 100})
	if err != nil || len(entries) < 8 {
		t.Errorf("%d partner audit lines (%v)", len(entries), err)
	}
}

func TestPartnerLinksPageShowsTheReferenceOnce(t *testing.T) {
	s := newPartnerSite(t)
	ctx := context.Background()
	plain, hash := auth.NewSecret(auth.SessionPrefix)
	now := time.Now()
	if err := s.db.CreateSession(ctx, postgres.Session{IDHash: hash, StaffID: "officer-1", ExpiresAt: now.Add(time.Hour), Method: "password", MFAAt: &now}); err != nil {
		t.Fatal(err)
	}
	cookie := "tg_session=" + plain
	page := "/cases/webcase001/steps/housing-referral/partners"
	s.expect(s.do(http.MethodGet, page, nil, map[string]string{"Cookie": cookie}), http.StatusOK, "the step's partner links",
		"Islington housing options", "Open", "Send the link")
	body := s.expect(s.do(http.MethodPost, "/cases/webcase001/steps/housing-referral/partner-links", url.Values{"key": {"k2"},
		"partner_name": {"Camden housing options"}, "partner_email": {"housing@camden.example.org"}, "ask": {"Can you take the referral?"}},
		map[string]string{"Cookie": cookie, "Sec-Fetch-Site": "same-origin"}), http.StatusCreated, "send a link", "Link sent", "Camden housing options")
	if !strings.Contains(body, `id="partner-reference">`) {
		t.Error("no reference shown")
	}
	if strings.Contains(s.do(http.MethodGet, page, nil, map[string]string{"Cookie": cookie}).Body.String(), "partner-reference") {
		t.Error("the reference is shown again")
	}
	s.expect(s.do(http.MethodPost, "/cases/webcase001/steps/housing-referral/partner-links", url.Values{"key": {"k3"}, "partner_name": {"x"},
		"partner_email": {"not an address"}, "ask": {"x"}}, map[string]string{"Cookie": cookie}), http.StatusUnprocessableEntity, "a bad address",
		"Their email address must be an email address")
}
