package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/casework"
)

// The review queue of prison movement events, for managers and heads of
// service: what is held or parked, why, and a form to apply or dismiss
// each (casework.ReviewEvents, ApplyEvent, DismissEvent).

type eventsPage struct {
	Items []eventRow
}

type eventRow struct {
	ID                               int64
	Name, PrisonNumber, CaseID       string
	What, Occurred, Received, Source string
	Establishment, Status, Outcome   string
	Teams                            []option // to choose from when several work at the prison
}

// eventWhat says what an event is in words.
func eventWhat(eventType, reason string) string {
	what := map[string]string{casework.EventReceived: "Received", casework.EventReleased: "Released",
		casework.EventUpdated: "Record updated"}[eventType]
	if what == "" {
		what = eventType
	}
	if reason != "" {
		what += " (" + strings.ToLower(strings.ReplaceAll(reason, "_", " ")) + ")"
	}
	return what
}

func (a *site) pageEvents(w http.ResponseWriter, r *http.Request) error {
	p := auth.FromContext(r.Context())
	rev, err := a.Cases.ReviewEvents(r.Context(), p, "")
	if err != nil {
		return err
	}
	var page eventsPage
	teams := map[string][]option{}
	for _, it := range rev.Items {
		row := eventRow{ID: it.ID, Name: strings.TrimSpace(it.GivenName + " " + it.FamilyName), PrisonNumber: it.PrisonNumber,
			CaseID: it.CaseID, What: eventWhat(it.Type, it.Reason), Occurred: showTime(it.OccurredAt),
			Received: showTime(it.ReceivedAt), Source: it.Source, Establishment: it.Establishment, Status: it.Status, Outcome: it.Outcome}
		if it.Establishment != "" {
			opts, seen := teams[it.Establishment]
			if !seen {
				ts, err := a.Cases.EventTeams(r.Context(), it.Establishment)
				if err != nil {
					return err
				}
				for _, t := range ts {
					opts = append(opts, option{Value: t.ID, Label: t.Name})
				}
				teams[it.Establishment] = opts
			}
			if len(opts) > 1 {
				row.Teams = opts
			}
		}
		page.Items = append(page.Items, row)
	}
	a.render(w, r, http.StatusOK, "events", pageData{Title: "Movement events to review", Section: "events", Data: page})
	return nil
}

// pageEventID reads the event's id from the address.
func pageEventID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(chi.URLParam(r, "eventID"), 10, 64)
	if err != nil || id <= 0 {
		return 0, casework.Errorf(casework.NotFound, "There is no such event in your review queue.")
	}
	return id, nil
}

func (a *site) pageEventApply(w http.ResponseWriter, r *http.Request) error {
	id, err := pageEventID(r)
	if err != nil {
		return err
	}
	if err := parsePageForm(w, r); err != nil {
		return err
	}
	res, err := a.Cases.ApplyEvent(r.Context(), auth.FromContext(r.Context()), id, r.PostForm.Get("team"))
	if err != nil {
		return err
	}
	a.redirectWith(w, r, "/board/events", fmt.Sprintf("Event %d applied again: now %s.", id, res.Status))
	return nil
}

func (a *site) pageEventDismiss(w http.ResponseWriter, r *http.Request) error {
	id, err := pageEventID(r)
	if err != nil {
		return err
	}
	if err := parsePageForm(w, r); err != nil {
		return err
	}
	if _, err := a.Cases.DismissEvent(r.Context(), auth.FromContext(r.Context()), id); err != nil {
		return err
	}
	a.redirectWith(w, r, "/board/events", fmt.Sprintf("Event %d dismissed.", id))
	return nil
}
