package api

import (
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/casework"
	"github.com/throughgate/throughgate/resettlement"
)

// Prison movement events (README.md, "Prison movement events"): a source
// posts HMPPS domain events, signed with its secret; managers and heads of
// service review those held or parked.

// postEvent takes one signed event: 201 with what was done when it is new,
// 200 with the first outcome when it was delivered before.
func (a *app) postEvent(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	h := r.Header
	res, err := a.Cases.ReceiveEvent(r.Context(), casework.SignedDelivery{
		Source: h.Get(casework.HeaderEventSource), EventID: h.Get(casework.HeaderEventID),
		Timestamp: h.Get(casework.HeaderEventTimestamp), Signature: h.Get(casework.HeaderEventSignature), Body: body})
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if res.Duplicate {
		status = http.StatusOK
	}
	return writeJSON(w, status, res)
}

// getEventReview is the caller's review queue.
func (a *app) getEventReview(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	for k := range q {
		if k != "status" {
			return casework.FieldsError(resettlement.Errors{{Field: k, Message: "is not a filter of the review queue"}})
		}
	}
	rev, err := a.Cases.ReviewEvents(r.Context(), auth.FromContext(r.Context()), q.Get("status"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rev)
}

// eventID reads the event's id from the address; a malformed one is no
// event at all.
func eventID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(chi.URLParam(r, "eventID"), 10, 64)
	if err != nil || id <= 0 {
		return 0, casework.Errorf(casework.NotFound, "There is no such event in your review queue.")
	}
	return id, nil
}

// ApplyEventRequest optionally names the team that takes a case at the
// event's establishment.
type ApplyEventRequest struct {
	Team string `json:"team,omitempty"`
}

// applyEvent processes a held or parked event again.
func (a *app) applyEvent(w http.ResponseWriter, r *http.Request) error {
	id, err := eventID(r)
	if err != nil {
		return err
	}
	var req ApplyEventRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	res, err := a.Cases.ApplyEvent(r.Context(), auth.FromContext(r.Context()), id, req.Team)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, res)
}

// dismissEvent takes an event off the review queue.
func (a *app) dismissEvent(w http.ResponseWriter, r *http.Request) error {
	id, err := eventID(r)
	if err != nil {
		return err
	}
	res, err := a.Cases.DismissEvent(r.Context(), auth.FromContext(r.Context()), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, res)
}
