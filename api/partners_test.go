package api

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/resettlement"
)

// Issue 13's routes: consent, and partner links, over a case in the read
// model (no workflow is asked: sending, listing and revoking a link and
// recording consent need none).

// waitingCase writes a case at PVI whose housing referral waits on the
// council, as its workflow would have saved it.
func (f *accounts) waitingCase(id string) {
	f.t.Helper()
	now := time.Now()
	c, err := resettlement.Open(resettlement.OpenCase{CaseID: id, Establishment: "PVI", Team: "pvi-resettlement", ReceivedOn: resettlement.DateOf(now).AddDays(-10),
		Dates: resettlement.ReleaseDates{CRD: resettlement.DateOf(now).AddDays(80)}, Adult: true}, now)
	if err != nil {
		f.t.Fatal(err)
	}
	if err := c.ActOnStep(resettlement.ActOnStep{Meta: resettlement.Meta{RequestID: "w", By: "officer-1", NoteID: 1},
		StepID: resettlement.StepHousingReferral, Action: resettlement.ActionWaiting}, now); err != nil {
		f.t.Fatal(err)
	}
	if err := f.db.LoadSynthetic(context.Background(), []postgres.SyntheticCase{{Person: postgres.Person{PrisonNumber: "A1234BC", Booking: "1",
		GivenName: "Sam", FamilyName: "Example", DateOfBirth: resettlement.D(1990, 5, 17)}, Case: c, Stage: c.Stage(now)}}); err != nil {
		f.t.Fatal(err)
	}
}

// send makes a request with a session and an idempotency key ("" for none).
func (f *accounts) send(method, path, body, key string, c *http.Cookie) *httptest.ResponseRecorder {
	f.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	req.AddCookie(c)
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, req)
	return w
}

func problemNames(t *testing.T, w *httptest.ResponseRecorder, field string) {
	t.Helper()
	var p Problem
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	for _, e := range p.Errors {
		if e.Field == field {
			return
		}
	}
	t.Errorf("the problem does not name %s: %s", field, w.Body)
}

func TestConsentAndPartnerLinkRoutes(t *testing.T) {
	f := newAccounts(t, func(d *Deps) { d.Cases.BaseURL = "https://throughgate.example.org" })
	f.waitingCase("apicase001")
	officer, admin := f.fullSession("officer-1"), f.fullSession("admin-1")
	links := "/api/v1/cases/apicase001/steps/housing-referral/partner-links"
	link := `{"partner_name":"Islington housing options","partner_email":"housing@islington.example.org","ask":"Has the referral been accepted?"}`

	f.want(f.send(http.MethodPost, links, link, "", officer), http.StatusBadRequest, "no Idempotency-Key")
	w := f.send(http.MethodPost, links, link, "l1", officer)
	f.want(w, http.StatusUnprocessableEntity, "a link without consent")
	problemNames(t, w, "consent")
	f.want(f.send(http.MethodPost, links, `{"partner_name":"x","partner_email":"x@example.org","ask":"x","colour":"red"}`, "l2", officer),
		http.StatusUnprocessableEntity, "an unknown field")
	f.want(f.send(http.MethodGet, "/api/v1/cases/apicase001/consents", "", "", admin), http.StatusForbidden, "an administrator reading consent")

	// Consent: recorded once, a retry answers the same, a bad one names its field.
	consents := "/api/v1/cases/apicase001/consents"
	given := resettlement.DateOf(time.Now()).AddDays(-3)
	w = f.send(http.MethodPost, consents, `{"purpose":"housing-referral","given_on":"`+given.String()+`"}`, "c1", officer)
	f.want(w, http.StatusCreated, "record consent")
	var c ConsentView
	_ = json.Unmarshal(w.Body.Bytes(), &c)
	if c.Purpose != "housing-referral" || c.GivenOn != given || c.RecordedBy != "officer-1" || w.Header().Get("Location") != consents {
		t.Errorf("consent %s (Location %s)", w.Body, w.Header().Get("Location"))
	}
	f.want(f.send(http.MethodPost, consents, `{"purpose":"housing-referral","given_on":"`+given.String()+`"}`, "c1", officer), http.StatusOK, "a retry")
	f.want(f.send(http.MethodPost, consents, `{"purpose":"housing-referral"}`, "c2", officer), http.StatusConflict, "a second live consent")
	w = f.send(http.MethodPost, consents, `{"purpose":"marketing"}`, "c3", officer)
	f.want(w, http.StatusUnprocessableEntity, "an unknown purpose")
	problemNames(t, w, "purpose")
	w = f.send(http.MethodPost, consents, `{"purpose":"gp-sharing","given_on":"5 Jan"}`, "c4", officer)
	f.want(w, http.StatusUnprocessableEntity, "a malformed date")
	problemNames(t, w, "given_on")
	w = f.send(http.MethodGet, consents, "", "", officer)
	f.want(w, http.StatusOK, "list consents")
	var list ConsentList
	if json.Unmarshal(w.Body.Bytes(), &list); len(list.Items) != 1 {
		t.Errorf("consents %s", w.Body)
	}

	// A link: the reference once; a retry sends nothing and shows none.
	w = f.send(http.MethodPost, links, link, "l3", officer)
	f.want(w, http.StatusCreated, "send a link")
	var sent SentPartnerLink
	_ = json.Unmarshal(w.Body.Bytes(), &sent)
	if len(sent.Reference) != 9 || sent.Link.State != "open" || sent.Link.PartnerEmail != "housing@islington.example.org" {
		t.Fatalf("sent %s", w.Body)
	}
	w = f.send(http.MethodPost, links, link, "l3", officer)
	f.want(w, http.StatusOK, "a retried link")
	if strings.Contains(w.Body.String(), sent.Reference) || strings.Contains(w.Body.String(), `"reference"`) {
		t.Errorf("a retry showed the reference again: %s", w.Body)
	}
	rows, _ := f.db.CaseEmails(context.Background(), "apicase001")
	if len(rows) != 1 || rows[0].Recipient != "housing@islington.example.org" || rows[0].Kind != "partner-link" {
		t.Errorf("emails %+v", rows)
	}
	w = f.send(http.MethodGet, links, "", "", officer)
	f.want(w, http.StatusOK, "list links")
	var ll PartnerLinkList
	if json.Unmarshal(w.Body.Bytes(), &ll); len(ll.Items) != 1 || ll.Items[0].ID != sent.Link.ID {
		t.Errorf("links %s", w.Body)
	}

	// Revoked by the officer; withdrawn consent revokes what is still open.
	revoke := links + "/" + sent.Link.ID + "/revoke"
	f.want(f.send(http.MethodPost, revoke, "", "", officer), http.StatusBadRequest, "revoke without a key")
	w = f.send(http.MethodPost, revoke, "", "r1", officer)
	f.want(w, http.StatusOK, "revoke")
	if !strings.Contains(w.Body.String(), `"state":"revoked"`) {
		t.Errorf("revoked: %s", w.Body)
	}
	f.want(f.send(http.MethodPost, links+"/nosuchlink/revoke", "", "r2", officer), http.StatusNotFound, "revoke no link")
	w = f.send(http.MethodPost, links, link, "l4", officer)
	f.want(w, http.StatusCreated, "another link")
	_ = json.Unmarshal(w.Body.Bytes(), &sent)
	w = f.send(http.MethodPost, consents+"/"+itoa(c.ID)+"/withdraw", "", "w1", officer)
	f.want(w, http.StatusOK, "withdraw")
	var wc WithdrawnConsent
	if json.Unmarshal(w.Body.Bytes(), &wc); len(wc.Revoked) != 1 || wc.Revoked[0] != sent.Link.ID || wc.Consent.WithdrawnBy != "officer-1" {
		t.Errorf("withdrawn %s", w.Body)
	}
	f.want(f.send(http.MethodPost, consents+"/x/withdraw", "", "w2", officer), http.StatusNotFound, "withdraw no consent")
	w = f.send(http.MethodPost, links, link, "l5", officer)
	f.want(w, http.StatusUnprocessableEntity, "a link after the consent was withdrawn")
	problemNames(t, w, "consent")
	if !f.audited("officer-1", "partner_link.create", "ok") || !f.audited("officer-1", "consent.withdraw", "revoked=1") {
		t.Error("not audited")
	}
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
