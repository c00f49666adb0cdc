package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/casework"
	tgmail "github.com/throughgate/throughgate/internal/mail"
	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/resettlement"
)

// Partner links and consent (issue 13), in the pages.
//
// A partner agency's page, /partner/{token}, is outside sign-in: the token
// in its address is the partner's only credential until they give the
// reference the officer told them by phone. It shows the case reference,
// the step's title and what is asked; the person's name only after the
// reference; then takes one answer. Its forms are protected from other
// sites like every form (http.CrossOriginProtection), its answers are
// never cached, and it sends no Referer, so the token stays out of other
// sites' logs. Every use is audited by the service.
//
// Officers send links from a waiting step's own page,
// /cases/{caseID}/steps/{stepID}/partners, which shows the reference once
// when a link is sent, and record and withdraw consent on the case page.

// partnerRoutes mounts the partner's pages, outside sign-in.
func (a *site) partnerRoutes(r chi.Router) {
	r.Get("/partner/{token}", a.partnerRoute(a.pagePartner))
	r.Post("/partner/{token}/reference", a.partnerRoute(a.pagePartnerReference))
	r.Post("/partner/{token}/answer", a.partnerRoute(a.pagePartnerAnswer))
}

// consentRoutes mounts the officers' pages for partner links and consent,
// in the signed-in group.
func (a *site) consentRoutes(r chi.Router) {
	h := a.route
	r.Get("/cases/{caseID}/steps/{stepID}/partners", h(a.pagePartners))
	r.Post("/cases/{caseID}/steps/{stepID}/partner-links", h(a.pagePartnerSend))
	r.Post("/cases/{caseID}/steps/{stepID}/partner-links/{linkID}/revoke", h(a.pagePartnerRevoke))
	r.Post("/cases/{caseID}/consents", h(a.pageConsentRecord))
	r.Post("/cases/{caseID}/consents/{consentID}/withdraw", h(a.pageConsentWithdraw))
}

// The labels of the inputs of these pages, for their error messages.
func init() {
	for name, label := range map[string]string{"reference": "Reference", "answer": "Your answer", "partner_name": "Partner",
		"partner_email": "Their email address", "ask": "What you ask them", "purpose": "Purpose", "given_on": "Given on",
		"consent": "Consent"} {
		if _, ok := fieldLabels[name]; !ok {
			fieldLabels[name] = label
		}
	}
}

// partnerCSRF checks the partner's forms came from this site, when the
// server has no check of its own (tests).
var partnerCSRF = http.NewCrossOriginProtection()

// partnerRoute adapts a partner's page: never cached, no Referer, not
// indexed, forms only from this site; a failure is shown on the partner's
// own page.
func (a *site) partnerRoute(h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Cache-Control", "no-store")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("X-Robots-Tag", "noindex, nofollow")
		if r.Method == http.MethodPost {
			csrf := partnerCSRF
			if a.Auth != nil && a.Auth.CSRF != nil {
				csrf = a.Auth.CSRF
			}
			if err := csrf.Check(r); err != nil {
				a.renderPartner(w, r, http.StatusForbidden, partnerView{Stage: "problem", Title: "Not sent",
					Message: "This form came from another site and was refused. Open the link from your email again."})
				return
			}
		}
		if err := h(w, r); err != nil {
			a.partnerFail(w, r, err)
		}
	}
}

// partnerView is what the partner's page shows.
type partnerView struct {
	// Stage: "reference" (ask for it), "answer" (the name, and the
	// answer's form), "done", "closed" (the link no longer works),
	// "problem" (not a link, or another failure).
	Stage     string
	Title     string
	Message   string
	Page      casework.PartnerPage
	Expires   string
	Reference *pageForm
	Answer    *pageForm
	Answers   []option
	Done      string // what was recorded
}

func partnerAnswers() []option {
	return []option{
		withHint(option{Value: tgmail.PartnerAnswerDone, Label: "Done"}, "What was asked is done. The officer is told, and the step is closed."),
		withHint(option{Value: tgmail.PartnerAnswerWaiting, Label: "Still waiting"}, "It is not done yet: say what it waits for, and until when."),
	}
}

func (a *site) renderPartner(w http.ResponseWriter, r *http.Request, status int, v partnerView) {
	if !v.Page.Expires.IsZero() {
		v.Expires = showTime(v.Page.Expires)
	}
	d := pageData{Title: v.Title, Data: v}
	for _, f := range []*pageForm{v.Reference, v.Answer} {
		if f != nil && f.InError() {
			d.Summary = append(d.Summary, f.summary()...)
		}
	}
	// No one is signed in here (partnerRoutes is outside pageAuth), so
	// the page shows no account or navigation of staff.
	a.render(w, r, status, "partner", d)
}

// referenceForm asks for the reference, shown with the link's details.
func referenceForm(r *http.Request) *pageForm {
	return newForm("reference", r.URL.Path, "reference")
}

func answerForm(token, reference string) *pageForm {
	f := newForm("answer", "/partner/"+token+"/answer", "answer", "note")
	f.Values.Set("reference", reference)
	return f
}

func (a *site) pagePartner(w http.ResponseWriter, r *http.Request) error {
	token := chi.URLParam(r, "token")
	pg, err := a.Cases.PartnerView(r.Context(), token, auth.ClientIP(r))
	if err != nil {
		return err
	}
	f := referenceForm(r)
	f.Action = "/partner/" + token + "/reference"
	a.renderPartner(w, r, http.StatusOK, partnerView{Stage: "reference", Title: "Case reference " + pg.CaseRef, Page: pg, Reference: f})
	return nil
}

func (a *site) pagePartnerReference(w http.ResponseWriter, r *http.Request) error {
	if err := parsePageForm(w, r); err != nil {
		return err
	}
	token, ref := chi.URLParam(r, "token"), strings.TrimSpace(r.PostForm.Get("reference"))
	pg, err := a.Cases.PartnerReference(r.Context(), token, auth.ClientIP(r), ref)
	if e := formError(err); e != nil && e.Kind == casework.Invalid && pg.LinkID != "" {
		f := referenceForm(r).set(r.PostForm)
		f.fail(e, nil)
		a.renderPartner(w, r, casework.Status(err), partnerView{Stage: "reference", Title: "Case reference " + pg.CaseRef, Page: pg, Reference: f})
		return nil
	}
	if err != nil {
		return err
	}
	a.renderPartner(w, r, http.StatusOK, partnerView{Stage: "answer", Title: "Case reference " + pg.CaseRef, Page: pg,
		Answer: answerForm(token, ref), Answers: partnerAnswers()})
	return nil
}

func (a *site) pagePartnerAnswer(w http.ResponseWriter, r *http.Request) error {
	if err := parsePageForm(w, r); err != nil {
		return err
	}
	f := r.PostForm
	token, ref := chi.URLParam(r, "token"), strings.TrimSpace(f.Get("reference"))
	pg, err := a.Cases.PartnerAnswerStep(r.Context(), token, auth.ClientIP(r), ref,
		casework.PartnerAnswer{Answer: f.Get("answer"), Note: f.Get("note")})
	if e := formError(err); e != nil && pg.LinkID != "" {
		if e.Kind == casework.Invalid && len(e.Fields) > 0 && e.Fields[0].Field == "reference" {
			// Not the reference (or none): ask for it again.
			rf := referenceForm(r)
			rf.Action = "/partner/" + token + "/reference"
			rf.fail(e, nil)
			a.renderPartner(w, r, casework.Status(err), partnerView{Stage: "reference", Title: "Case reference " + pg.CaseRef, Page: pg, Reference: rf})
			return nil
		}
		af := answerForm(token, ref).set(f)
		af.fail(e, nil)
		a.renderPartner(w, r, casework.Status(err), partnerView{Stage: "answer", Title: "Case reference " + pg.CaseRef, Page: pg,
			Answer: af, Answers: partnerAnswers()})
		return nil
	}
	if err != nil {
		return err
	}
	done := "You said it is done. The officer has been told, and the step is closed. Thank you."
	if f.Get("answer") == tgmail.PartnerAnswerWaiting {
		done = "You said it is still waiting. The officer has been told, with your note. Thank you."
	}
	a.renderPartner(w, r, http.StatusOK, partnerView{Stage: "done", Title: "Answer sent", Page: pg, Done: done})
	return nil
}

// partnerFail shows why a partner's page cannot go on: a link that no
// longer works (410), one that never was (404), or a fault on our side.
func (a *site) partnerFail(w http.ResponseWriter, r *http.Request, err error) {
	var closed *casework.LinkClosedError
	if errors.As(err, &closed) {
		a.renderPartner(w, r, http.StatusGone, partnerView{Stage: "closed", Title: "This link no longer works", Message: closed.Error()})
		return
	}
	e, ok := casework.ErrorOf(err)
	if !ok {
		a.Logger.ErrorContext(r.Context(), "partner page failed", "route", chi.RouteContext(r.Context()).RoutePattern(), "err", err)
		a.renderPartner(w, r, http.StatusInternalServerError, partnerView{Stage: "problem", Title: "Sorry, there is a problem",
			Message: "Something went wrong on our side. Try again later; if it keeps happening, contact the officer who sent the link."})
		return
	}
	title := "Sorry, there is a problem"
	if e.Kind == casework.NotFound {
		title = "This link is not valid"
	}
	msg := e.Detail
	if len(e.Fields) > 0 {
		msg = errorText(e.Fields)
	}
	a.renderPartner(w, r, casework.Status(err), partnerView{Stage: "problem", Title: title, Message: msg})
}

// The officers' side.

// partnersPage is a step's page for sending partner links.
type partnersPage struct {
	CaseID  string
	Step    resettlement.Step
	Waiting bool
	Purpose string // the consent a link goes under by default
	Links   []partnerLinkRow
	Form    *pageForm
	Sent    *casework.SentPartnerLink // just sent: the reference, shown once
	SentTo  string
	Expires string
}

type partnerLinkRow struct {
	casework.PartnerLinkView
	Sent, Expires, StateLabel, Answer string
	Revoke                            *pageForm
}

var linkStateLabels = map[string]string{
	casework.LinkOpen: "Open", casework.LinkAnswered: "Answered", casework.LinkRevoked: "Revoked",
	casework.LinkExpired: "Expired", casework.LinkLocked: "Locked (wrong references)",
}

func partnerLinkForm(caseID, stepID string) *pageForm {
	return newForm("partner-link", "/cases/"+caseID+"/steps/"+stepID+"/partner-links", "partner_name", "partner_email", "ask")
}

// renderPartners shows a step's partner links and the form to send one;
// form, when set, is that form in error; sent, a link just sent.
func (a *site) renderPartners(w http.ResponseWriter, r *http.Request, status int, form *pageForm, sent *casework.SentPartnerLink) error {
	ctx, p := r.Context(), auth.FromContext(r.Context())
	caseID, stepID := chi.URLParam(r, "caseID"), chi.URLParam(r, "stepID")
	st, err := a.Cases.PartnerStep(ctx, p, caseID, stepID)
	if err != nil {
		return err
	}
	list, err := a.Cases.PartnerLinks(ctx, p, caseID, stepID)
	if err != nil {
		return err
	}
	pg := partnersPage{CaseID: caseID, Step: st, Waiting: st.Status == resettlement.StepWaiting, Form: form, Sent: sent,
		Purpose: casework.PurposeTitle(casework.DefaultLinkPurpose(stepID, "the partner"))}
	if pg.Form == nil {
		pg.Form = partnerLinkForm(caseID, stepID)
	}
	if sent != nil {
		pg.SentTo, pg.Expires = sent.Link.PartnerName+" ("+sent.Link.PartnerEmail+")", showTime(sent.Link.ExpiresAt)
	}
	for _, l := range list.Items {
		row := partnerLinkRow{PartnerLinkView: l, Sent: showTime(l.CreatedAt), Expires: showTime(l.ExpiresAt), StateLabel: linkStateLabels[l.State]}
		if l.Answer != "" {
			row.Answer = map[string]string{tgmail.PartnerAnswerDone: "Done", tgmail.PartnerAnswerWaiting: "Still waiting"}[l.Answer]
		}
		if l.State == casework.LinkOpen {
			row.Revoke = newForm("revoke-"+l.ID, "/cases/"+caseID+"/steps/"+stepID+"/partner-links/"+l.ID+"/revoke")
		}
		pg.Links = append(pg.Links, row)
	}
	d := pageData{Title: "Ask a partner: " + st.Title, Section: "cases", Data: pg}
	if form != nil && form.InError() {
		d.Summary = form.summary()
	}
	a.render(w, r, status, "partners", d)
	return nil
}

func (a *site) pagePartners(w http.ResponseWriter, r *http.Request) error {
	return a.renderPartners(w, r, http.StatusOK, nil, nil)
}

func (a *site) pagePartnerSend(w http.ResponseWriter, r *http.Request) error {
	if err := parsePageForm(w, r); err != nil {
		return err
	}
	ctx, p, f := r.Context(), auth.FromContext(r.Context()), r.PostForm
	caseID, stepID := chi.URLParam(r, "caseID"), chi.URLParam(r, "stepID")
	sent, _, err := a.Cases.SendPartnerLink(ctx, p, caseID, f.Get("key"), casework.SendPartnerLink{StepID: stepID,
		PartnerName: f.Get("partner_name"), PartnerEmail: f.Get("partner_email"), Ask: f.Get("ask")})
	if err == nil {
		// The reference is shown on this answer only: not in a redirect,
		// a cookie or a URL.
		return a.renderPartners(w, r, http.StatusCreated, nil, &sent)
	}
	e := formError(err)
	if e == nil {
		return err
	}
	form := partnerLinkForm(caseID, stepID).set(f)
	form.fail(e, nil)
	return a.renderPartners(w, r, casework.Status(err), form, nil)
}

func (a *site) pagePartnerRevoke(w http.ResponseWriter, r *http.Request) error {
	if err := parsePageForm(w, r); err != nil {
		return err
	}
	caseID, stepID := chi.URLParam(r, "caseID"), chi.URLParam(r, "stepID")
	if _, err := a.Cases.RevokePartnerLink(r.Context(), auth.FromContext(r.Context()), caseID, stepID, chi.URLParam(r, "linkID"),
		r.PostForm.Get("key")); err != nil {
		return err
	}
	a.redirectWith(w, r, "/cases/"+caseID+"/steps/"+stepID+"/partners", "Link revoked: it no longer works.")
	return nil
}

// Consent on the case page.

// consentSection is the case page's list of consents and its forms.
type consentSection struct {
	Items    []consentRow
	Form     *pageForm
	Purposes []option
	Open     bool // the form failed: shown open
}

type consentRow struct {
	postgres.Consent
	Title, Given, By, Withdrawn string
	Withdraw                    *pageForm
}

func consentForm(caseID string) *pageForm {
	return newForm("consent-record", "/cases/"+caseID+"/consents", "purpose", "partner_name", "given_on")
}

var consentPurposes = []option{
	withHint(option{Value: casework.PurposeHousingReferral, Label: casework.PurposeTitle(casework.PurposeHousingReferral)},
		"Needed to complete the housing referral, and to send the housing authority a link."),
	withHint(option{Value: casework.PurposeGPSharing, Label: casework.PurposeTitle(casework.PurposeGPSharing)}, "Needed to send a GP practice a link."),
	withHint(option{Value: "partner", Label: "Sharing with a named partner"}, "Name the partner below, as you will when sending them a link."),
}

// withHint gives a radio its hint. The radios partial ties the hint by
// Hint and shows it from Group, so both carry it.
func withHint(o option, hint string) option {
	o.Hint, o.Group = hint, hint
	return o
}

// caseConsents builds the case page's consent section; failed is the
// consent form in error, if it was.
func (a *site) caseConsents(r *http.Request, caseID string, open bool, failed *pageForm) (consentSection, error) {
	ctx := r.Context()
	items, err := a.Cases.CaseConsents(ctx, auth.FromContext(ctx), caseID)
	if err != nil {
		return consentSection{}, err
	}
	var ids []string
	for _, c := range items {
		ids = append(ids, c.RecordedBy, c.WithdrawnBy)
	}
	names, err := a.Cases.StaffNames(ctx, ids)
	if err != nil {
		return consentSection{}, err
	}
	sec := consentSection{Purposes: consentPurposes}
	for i := len(items) - 1; i >= 0; i-- { // newest first
		c := items[i]
		row := consentRow{Consent: c, Title: casework.PurposeTitle(c.Purpose), Given: showDate(c.GivenOn), By: names[c.RecordedBy]}
		if c.Live() {
			if open {
				row.Withdraw = newForm("withdraw-"+strconv.FormatInt(c.ID, 10), "/cases/"+caseID+"/consents/"+strconv.FormatInt(c.ID, 10)+"/withdraw")
			}
		} else {
			row.Withdrawn = showDate(c.WithdrawnOn) + " (" + names[c.WithdrawnBy] + ")"
		}
		sec.Items = append(sec.Items, row)
	}
	if open {
		sec.Form = consentForm(caseID)
		sec.Form.Values.Set("given_on", resettlement.DateOf(a.now()).String())
		if failed != nil && failed.ID == "consent-record" {
			sec.Form, sec.Open = failed, true
		}
	}
	return sec, nil
}

func (a *site) pageConsentRecord(w http.ResponseWriter, r *http.Request) error {
	if err := parsePageForm(w, r); err != nil {
		return err
	}
	ctx, p, f, caseID := r.Context(), auth.FromContext(r.Context()), r.PostForm, chi.URLParam(r, "caseID")
	var errs resettlement.Errors
	purpose := f.Get("purpose")
	if purpose == "partner" {
		purpose = casework.PurposePartner + f.Get("partner_name")
	}
	given := formDate(f, "given_on", &errs)
	var err error
	if len(errs) > 0 {
		if err = a.Cases.Access(ctx, p, caseID); err == nil {
			err = casework.FieldsError(errs)
		}
	} else {
		_, _, err = a.Cases.RecordConsent(ctx, p, caseID, f.Get("key"), casework.RecordConsent{Purpose: purpose, GivenOn: given})
	}
	if err == nil {
		a.redirectWith(w, r, "/cases/"+caseID+"#consent", "Consent recorded.")
		return nil
	}
	e := formError(err)
	if e == nil {
		return err
	}
	form := consentForm(caseID).set(f)
	if strings.HasPrefix(purpose, casework.PurposePartner) {
		// A partner's name at fault is the name input's.
		for i := range e.Fields {
			if e.Fields[i].Field == "purpose" && f.Get("purpose") == "partner" {
				e.Fields[i].Field = "partner_name"
			}
		}
	}
	form.fail(e, nil)
	return a.renderCase(w, r, casework.Status(err), form)
}

func (a *site) pageConsentWithdraw(w http.ResponseWriter, r *http.Request) error {
	if err := parsePageForm(w, r); err != nil {
		return err
	}
	caseID := chi.URLParam(r, "caseID")
	id, err := strconv.ParseInt(chi.URLParam(r, "consentID"), 10, 64)
	if err != nil {
		return casework.Errorf(casework.NotFound, "The case has no such consent.")
	}
	out, err := a.Cases.WithdrawConsent(r.Context(), auth.FromContext(r.Context()), caseID, r.PostForm.Get("key"), id, casework.WithdrawConsent{})
	if err != nil {
		return err
	}
	msg := "Consent withdrawn."
	if n := len(out.Revoked); n > 0 {
		msg += " " + plural(n, "partner link") + " sent under it no longer work."
	}
	a.redirectWith(w, r, "/cases/"+caseID+"#consent", msg)
	return nil
}

// partnerPagePath is a step's partner links page.
func partnerPagePath(caseID, stepID string) string {
	return "/cases/" + url.PathEscape(caseID) + "/steps/" + url.PathEscape(stepID) + "/partners"
}
