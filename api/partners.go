package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/casework"
)

// Partner links (issue 13): an officer sends a partner agency a one-time
// link to a step that waits on them (casework/partners.go). The answer to
// sending one carries the reference to give the partner by phone, once;
// the link itself goes only to the partner, by email.
type (
	SendPartnerLinkBody = casework.SendPartnerLink
	SentPartnerLink     = casework.SentPartnerLink
	PartnerLinkView     = casework.PartnerLinkView
	PartnerLinkList     = casework.PartnerLinkList
)

func (a *app) listPartnerLinks(w http.ResponseWriter, r *http.Request) error {
	out, err := a.Cases.PartnerLinks(r.Context(), auth.FromContext(r.Context()), chi.URLParam(r, "caseID"), chi.URLParam(r, "stepID"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *app) createPartnerLink(w http.ResponseWriter, r *http.Request) error {
	p, caseID := auth.FromContext(r.Context()), chi.URLParam(r, "caseID")
	// In the order a stranger learns least from: the case's scope, then
	// the key, then the body.
	if err := a.Cases.Access(r.Context(), p, caseID); err != nil {
		return err
	}
	key, err := idempotencyKey(r)
	if err != nil {
		return err
	}
	var body casework.SendPartnerLink
	if err := decode(r, &body); err != nil {
		return err
	}
	body.StepID = chi.URLParam(r, "stepID")
	out, created, err := a.Cases.SendPartnerLink(r.Context(), p, caseID, key, body)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		w.Header().Set("Location", "/api/v1/cases/"+caseID+"/steps/"+body.StepID+"/partner-links")
	}
	return writeJSON(w, status, out)
}

func (a *app) revokePartnerLink(w http.ResponseWriter, r *http.Request) error {
	p, caseID := auth.FromContext(r.Context()), chi.URLParam(r, "caseID")
	if err := a.Cases.Access(r.Context(), p, caseID); err != nil {
		return err
	}
	key, err := idempotencyKey(r)
	if err != nil {
		return err
	}
	out, err := a.Cases.RevokePartnerLink(r.Context(), p, caseID, chi.URLParam(r, "stepID"), chi.URLParam(r, "linkID"), key)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}
