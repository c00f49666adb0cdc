package api

import (
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/casework"
	"github.com/throughgate/throughgate/internal/postgres"
)

// Consent (issue 13): the person's consent to each purpose their details
// are shared for (casework/consent.go).
type (
	RecordConsentBody   = casework.RecordConsent
	WithdrawConsentBody = casework.WithdrawConsent
	ConsentView         = postgres.Consent
	ConsentList         = casework.ConsentList
	WithdrawnConsent    = casework.WithdrawnConsent
)

func (a *app) listConsents(w http.ResponseWriter, r *http.Request) error {
	out, err := a.Cases.Consents(r.Context(), auth.FromContext(r.Context()), chi.URLParam(r, "caseID"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *app) recordConsent(w http.ResponseWriter, r *http.Request) error {
	p, caseID := auth.FromContext(r.Context()), chi.URLParam(r, "caseID")
	if err := a.Cases.Access(r.Context(), p, caseID); err != nil {
		return err
	}
	key, err := idempotencyKey(r)
	if err != nil {
		return err
	}
	var body casework.RecordConsent
	if err := decode(r, &body); err != nil {
		return err
	}
	c, created, err := a.Cases.RecordConsent(r.Context(), p, caseID, key, body)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		w.Header().Set("Location", "/api/v1/cases/"+caseID+"/consents")
	}
	return writeJSON(w, status, c)
}

func (a *app) withdrawConsent(w http.ResponseWriter, r *http.Request) error {
	p, caseID := auth.FromContext(r.Context()), chi.URLParam(r, "caseID")
	if err := a.Cases.Access(r.Context(), p, caseID); err != nil {
		return err
	}
	id, err := strconv.ParseInt(chi.URLParam(r, "consentID"), 10, 64)
	if err != nil || id <= 0 {
		return casework.Errorf(casework.NotFound, "The case has no such consent.")
	}
	key, err := idempotencyKey(r)
	if err != nil {
		return err
	}
	var body casework.WithdrawConsent
	if err := decode(r, &body); err != nil {
		return err
	}
	out, err := a.Cases.WithdrawConsent(r.Context(), p, caseID, key, id, body)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}
