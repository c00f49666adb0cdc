package api

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/casework"
	"github.com/throughgate/throughgate/resettlement"
)

// The API's bodies are the application service's types, under the names
// the OpenAPI document gives them.
type (
	OpenCaseBody     = casework.OpenRequest
	CaseView         = casework.CaseView
	StepView         = casework.StepView
	TimelineView     = casework.Timeline
	CaseSearch       = casework.CaseSearch
	CaseList         = casework.CaseList
	CaseListItem     = casework.CaseListItem
	ActionResult     = casework.ActionResult
	Board            = casework.Board
	BoardItem        = casework.BoardItem
	BoardSummary     = casework.BoardSummary
	BoardCount       = casework.BoardCount
	ReassignItem     = casework.ReassignItem
	AssessmentBody   = casework.RecordAssessment
	StepActionBody   = casework.ActOnStep
	AssignBody       = casework.Assign
	ReleaseDatesBody = casework.ChangeReleaseDates
	TransferBody     = casework.Transfer
	PauseBody        = casework.Pause
	NoteBody         = casework.Resume
	ResetBody        = casework.Reset
	CloseBody        = casework.Close
)

func (a *app) openCase(w http.ResponseWriter, r *http.Request) error {
	p := auth.FromContext(r.Context())
	if err := casework.SeesCases(p); err != nil {
		return err // before the body is read, as on every case route
	}
	var req casework.OpenRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	view, created, err := a.Cases.OpenCase(r.Context(), p, req, r.Header.Get("Idempotency-Key"))
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/cases/"+view.ID)
	status := http.StatusCreated
	if !created {
		status = http.StatusOK
	}
	return writeJSON(w, status, view)
}

func (a *app) getCase(w http.ResponseWriter, r *http.Request) error {
	view, err := a.Cases.ViewCase(r.Context(), auth.FromContext(r.Context()), chi.URLParam(r, "caseID"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, view)
}

func (a *app) getTimeline(w http.ResponseWriter, r *http.Request) error {
	tl, err := a.Cases.CaseTimeline(r.Context(), auth.FromContext(r.Context()), chi.URLParam(r, "caseID"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, tl)
}

// filterFromQuery reads the list's filters from the URL.
func filterFromQuery(q url.Values) (CaseSearch, error) {
	var s CaseSearch
	var errs resettlement.Errors
	for k := range q {
		switch k {
		case "establishment", "team", "owner", "stage", "stalled", "overdue", "release_within_days", "cursor", "limit":
		case "q":
			return s, casework.Errorf(casework.Malformed, "Search by name or prison number with POST /api/v1/cases/search, so they stay out of URLs and logs.",
				resettlement.FieldError{Field: "q", Message: "is not taken in the URL: send it in the body of POST /api/v1/cases/search"})
		default:
			errs.Add(k, "is not a filter of this list")
		}
	}
	s.Establishment, s.Team, s.Owner, s.Stage, s.Cursor = q.Get("establishment"), q.Get("team"), q.Get("owner"), q.Get("stage"), q.Get("cursor")
	boolean := func(name string) *bool {
		v := q.Get(name)
		if v == "" {
			return nil
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs.Add(name, "must be true or false")
			return nil
		}
		return &b
	}
	s.Stalled, s.Overdue = boolean("stalled"), boolean("overdue")
	if v := q.Get("release_within_days"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			errs.Add("release_within_days", "must be a whole number of days")
		} else {
			s.ReleaseWithinDays = &n
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			errs.Add("limit", "must be a whole number from 1 to 200")
		} else {
			s.Limit = n
		}
	}
	if len(errs) > 0 {
		return s, casework.FieldsError(errs)
	}
	return s, nil
}

func (a *app) listCases(w http.ResponseWriter, r *http.Request) error {
	s, err := filterFromQuery(r.URL.Query())
	if err != nil {
		return err
	}
	return a.list(w, r, s)
}

func (a *app) searchCases(w http.ResponseWriter, r *http.Request) error {
	var s CaseSearch
	if err := decode(r, &s); err != nil {
		return err
	}
	return a.list(w, r, s)
}

func (a *app) list(w http.ResponseWriter, r *http.Request, s CaseSearch) error {
	out, err := a.Cases.ListCases(r.Context(), auth.FromContext(r.Context()), s)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}
