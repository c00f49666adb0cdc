package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/casework"
	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/resettlement"
)

// OpenCaseBody is the body of POST /api/v1/cases.
type OpenCaseBody = casework.OpenRequest

// decodeOpenCase decodes and checks a request to open a case: everything
// that can be checked without the database.
func decodeOpenCase(b []byte, now time.Time) (casework.OpenRequest, *problemError) {
	var req casework.OpenRequest
	if p := decodeBytes(b, &req); p != nil {
		return req, p
	}
	var errs resettlement.Errors
	if err := req.Validate(now); err != nil {
		fe, _ := resettlement.AsFieldErrors(err)
		errs = append(errs, fe...)
	}
	open := resettlement.OpenCase{CaseID: "new", Establishment: req.Establishment, Team: req.Team, Owner: req.Owner,
		ReceivedOn: req.ReceivedOn, Dates: req.Dates}
	if err := open.Validate(now); err != nil {
		fe, _ := resettlement.AsFieldErrors(err)
		errs = append(errs, fe...)
	}
	if len(errs) > 0 {
		return req, fieldProblem(errs)
	}
	return req, nil
}

func (a *app) openCase(w http.ResponseWriter, r *http.Request) {
	p, _, perr := caseScope(r)
	if perr != nil {
		writeErr(w, perr)
		return
	}
	key := r.Header.Get("Idempotency-Key")
	if key != "" {
		if _, kp := idempotencyKey(r); kp != nil {
			writeErr(w, kp)
			return
		}
	}
	b, bp := readBody(r)
	if bp != nil {
		writeErr(w, bp)
		return
	}
	req, dp := decodeOpenCase(b, a.now())
	if dp != nil {
		writeErr(w, dp)
		return
	}
	ctx := r.Context()
	team, err := a.DB.Team(ctx, req.Team)
	switch {
	case errors.Is(err, postgres.ErrNotFound) || err == nil && !team.Active:
		writeErr(w, fieldProblem(resettlement.Errors{{Field: "team", Message: "is not an active team"}}))
		return
	case err != nil:
		a.fail(w, r, err)
		return
	case team.Establishment != req.Establishment:
		writeErr(w, fieldProblem(resettlement.Errors{{Field: "team", Message: "works at " + team.Establishment + ", not " + req.Establishment}}))
		return
	}
	if !p.CanWorkTeam(team.ID, team.Establishment) {
		writeErr(w, problem(http.StatusForbidden, "You can open cases only for your own establishment's or teams' people."))
		return
	}
	if req.Owner != "" {
		if ok, err := a.DB.ActiveStaffExists(ctx, req.Owner); err != nil {
			a.fail(w, r, err)
			return
		} else if !ok {
			writeErr(w, fieldProblem(resettlement.Errors{{Field: "owner", Message: "is not an active member of staff"}}))
			return
		}
	}
	req.OpenedBy = p.ID()
	if key != "" {
		req.RequestID = p.ID() + ":" + key
	}
	id, created, err := a.Cases.Open(ctx, req)
	var exists *postgres.OpenCaseExistsError
	switch {
	case errors.As(err, &exists):
		pe := problem(http.StatusConflict, "This person already has an open case for this booking.")
		if _, in, serr := a.DB.InScope(ctx, mustScope(p), exists.CaseID); serr == nil && in {
			pe.caseID = exists.CaseID
			pe.detail += " Open case " + exists.CaseID + " instead."
		}
		writeErr(w, pe)
		return
	case err != nil:
		if fe, ok := resettlement.AsFieldErrors(err); ok {
			writeErr(w, fieldProblem(fe))
			return
		}
		a.fail(w, r, err)
		return
	}
	if err := a.audit(r, "case.open", id, fmt.Sprintf("created=%t", created)); err != nil {
		a.fail(w, r, err)
		return
	}
	view, err := a.caseView(ctx, id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/cases/"+id)
	status := http.StatusCreated
	if !created {
		status = http.StatusOK
	}
	writeJSON(w, status, view)
}

func mustScope(p *auth.Principal) postgres.Scope {
	s, _ := p.CaseScope()
	return s
}

// CaseView is a case as the API shows it: the person from PostgreSQL and
// the process from the workflow (or, when Temporal cannot be reached, from
// the read model, with live false).
type CaseView struct {
	ID                string                      `json:"id"`
	Person            postgres.Person             `json:"person"`
	Establishment     string                      `json:"establishment"`
	Team              string                      `json:"team"`
	Owner             string                      `json:"owner,omitempty"`
	Stage             string                      `json:"stage"`
	Stalled           bool                        `json:"stalled"`
	EscalationLevel   int                         `json:"escalation_level"`
	Paused            bool                        `json:"paused"`
	PauseReason       string                      `json:"pause_reason,omitempty"`
	ReceivedOn        resettlement.Date           `json:"received_on"`
	ReleaseDates      resettlement.ReleaseDates   `json:"release_dates"`
	ReleaseDay        resettlement.Date           `json:"release_day"`
	NextDue           *time.Time                  `json:"next_due,omitempty"`
	OpenedAt          time.Time                   `json:"opened_at"`
	ClosedAt          *time.Time                  `json:"closed_at,omitempty"`
	LastProgress      time.Time                   `json:"last_progress"`
	Version           int                         `json:"version"`
	Pathways          []resettlement.PathwayState `json:"pathways"`
	AssessmentSkipped resettlement.SkipReason     `json:"assessment_skipped,omitempty"`
	Steps             []StepView                  `json:"steps"`
	Closure           *resettlement.Closure       `json:"closure,omitempty"`
	Urgency           *resettlement.Urgency       `json:"urgency,omitempty"`
	Live              bool                        `json:"live"`
}

// StepView is a step with how urgent it is now.
type StepView struct {
	resettlement.Step
	Overdue bool                 `json:"overdue"`
	Urgency resettlement.Urgency `json:"urgency"`
}

// caseView reads a case: the read model, then the workflow's live state.
func (a *app) caseView(ctx context.Context, id string) (CaseView, error) {
	rec, err := a.DB.Case(ctx, id)
	if err != nil {
		return CaseView{}, err
	}
	v := CaseView{ID: rec.ID, Person: rec.Person, Establishment: rec.Establishment, Team: rec.Team, Owner: rec.Owner,
		Stage: rec.Stage, Stalled: rec.Stalled, EscalationLevel: rec.EscalationLevel, Paused: rec.Paused,
		NextDue: rec.NextDue, OpenedAt: rec.OpenedAt, ClosedAt: rec.ClosedAt, LastProgress: rec.LastProgress,
		Version: rec.Version, Pathways: []resettlement.PathwayState{}, Steps: []StepView{}}
	now := a.now()
	c := rec.State
	qctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	st, qerr := a.Cases.State(qctx, id)
	cancel()
	if qerr == nil && st.Case != nil {
		c, v.Live = st.Case, true
		v.Stage, v.Stalled, v.EscalationLevel = string(st.Stage), st.Stalled, st.EscalationLevel
		v.Establishment, v.Team, v.Owner, v.Paused, v.Version = c.Establishment, c.Team, c.Owner, c.Paused, c.Version
		v.LastProgress = c.LastProgress
		if t, ok := c.NextDue(); ok {
			v.NextDue = &t
		} else {
			v.NextDue = nil
		}
	}
	// Otherwise Temporal is unreachable or slow, and the read model answers.
	if c == nil {
		return v, nil
	}
	v.PauseReason, v.ReceivedOn, v.ReleaseDates = c.PauseReason, c.ReceivedOn, c.Dates
	v.ReleaseDay, _ = c.ReleaseDay()
	v.Pathways, v.AssessmentSkipped, v.Closure = c.Pathways, c.AssessmentSkipped, c.Closure
	for _, s := range c.Steps {
		v.Steps = append(v.Steps, StepView{Step: s, Overdue: s.Overdue(now), Urgency: c.StepUrgency(s, now)})
	}
	if !c.Closed {
		u := c.CaseUrgency(now)
		v.Urgency = &u
	}
	return v, nil
}

func (a *app) getCase(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "caseID")
	if _, err := a.caseAccess(r, id); err != nil {
		a.fail(w, r, err)
		return
	}
	view, err := a.caseView(r.Context(), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if err := a.audit(r, "case.view", id, ""); err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, view)
}

// TimelineView is a case's whole history with the notes that explain it.
type TimelineView struct {
	CaseID  string                   `json:"case_id"`
	Entries []postgres.TimelineEntry `json:"entries"`
}

func (a *app) getTimeline(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "caseID")
	if _, err := a.caseAccess(r, id); err != nil {
		a.fail(w, r, err)
		return
	}
	entries, err := a.DB.Timeline(r.Context(), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if entries == nil {
		entries = []postgres.TimelineEntry{}
	}
	if err := a.audit(r, "case.timeline", id, ""); err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, TimelineView{CaseID: id, Entries: entries})
}

// CaseSearch is the body of POST /api/v1/cases/search: the list's filters,
// plus q, a prison number or part of a name. Names and prison numbers go in
// a request body, never a URL, which proxies, browser history and logs keep.
type CaseSearch struct {
	Q                 string `json:"q"`
	Establishment     string `json:"establishment,omitempty"`
	Team              string `json:"team,omitempty"`
	Owner             string `json:"owner,omitempty"`
	Stage             string `json:"stage,omitempty"`
	Stalled           *bool  `json:"stalled,omitempty"`
	Overdue           *bool  `json:"overdue,omitempty"`
	ReleaseWithinDays *int   `json:"release_within_days,omitempty"`
	Cursor            string `json:"cursor,omitempty"`
	Limit             int    `json:"limit,omitempty"`
}

// CaseListItem is a line of the case list.
type CaseListItem struct {
	ID              string            `json:"id"`
	PrisonNumber    string            `json:"prison_number"`
	GivenName       string            `json:"given_name"`
	FamilyName      string            `json:"family_name"`
	Establishment   string            `json:"establishment"`
	Team            string            `json:"team"`
	Owner           string            `json:"owner,omitempty"`
	Stage           string            `json:"stage"`
	Stalled         bool              `json:"stalled"`
	EscalationLevel int               `json:"escalation_level"`
	Paused          bool              `json:"paused"`
	ReleaseDay      resettlement.Date `json:"release_day"`
	NextDue         *time.Time        `json:"next_due,omitempty"`
	LastProgress    time.Time         `json:"last_progress"`
	OpenedAt        time.Time         `json:"opened_at"`
	ClosedAt        *time.Time        `json:"closed_at,omitempty"`
}

// CaseList is a page of the case list.
type CaseList struct {
	Items      []CaseListItem `json:"items"`
	NextCursor string         `json:"next_cursor,omitempty"`
}

var stages = []string{"identified", "assessment", "pre-release-plan", "release", "follow-up", "closed"}

// filterFromQuery reads the list's filters from the URL.
func filterFromQuery(q url.Values) (CaseSearch, *problemError) {
	var s CaseSearch
	var errs resettlement.Errors
	for k := range q {
		switch k {
		case "establishment", "team", "owner", "stage", "stalled", "overdue", "release_within_days", "cursor", "limit":
		case "q":
			return s, problem(http.StatusBadRequest, "Search by name or prison number with POST /api/v1/cases/search, so they stay out of URLs and logs.",
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
		return s, fieldProblem(errs)
	}
	return s, nil
}

// checkWhoFilters checks the establishment, team and owner filters the case
// list and the board share.
func checkWhoFilters(errs *resettlement.Errors, establishment, team, owner string) {
	if establishment != "" && !resettlement.ValidEstablishment(establishment) {
		errs.Add("establishment", "must be a three-letter prison code such as PVI")
	}
	if team != "" && !resettlement.ValidID(team) {
		errs.Add("team", "is not a team id")
	}
	if owner != "" && !resettlement.ValidID(owner) {
		errs.Add("owner", "is not a staff id")
	}
}

// toFilter checks the filters and turns them into the store's.
func (s CaseSearch) toFilter(scope postgres.Scope, now time.Time) (postgres.CaseFilter, *problemError) {
	var errs resettlement.Errors
	f := postgres.CaseFilter{Scope: scope, Establishment: s.Establishment, Team: s.Team, Owner: s.Owner, Stage: s.Stage,
		Stalled: s.Stalled, Overdue: s.Overdue, ReleaseWithin: s.ReleaseWithinDays, Q: strings.TrimSpace(s.Q), Limit: s.Limit, Now: now}
	checkWhoFilters(&errs, s.Establishment, s.Team, s.Owner)
	if s.Stage != "" && !contains(stages, s.Stage) {
		errs.Add("stage", "must be one of "+strings.Join(stages, ", "))
	}
	if s.ReleaseWithinDays != nil && (*s.ReleaseWithinDays < 0 || *s.ReleaseWithinDays > 3650) {
		errs.Add("release_within_days", "must be from 0 to 3650")
	}
	if s.Limit == 0 {
		f.Limit = 50
	} else if s.Limit < 1 || s.Limit > 200 {
		errs.Add("limit", "must be from 1 to 200")
	}
	if n := len([]rune(f.Q)); n == 1 || n > 100 || strings.ContainsRune(f.Q, 0) {
		errs.Add("q", "must be a prison number or 2 to 100 characters of a name")
	}
	if s.Cursor != "" {
		c, err := decodeCursor(s.Cursor)
		if err != nil {
			errs.Add("cursor", "is not a cursor this list gave")
		} else {
			f.After = c
		}
	}
	if len(errs) > 0 {
		return f, fieldProblem(errs)
	}
	return f, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func encodeCursor(c *postgres.ListCursor) string {
	if c == nil {
		return ""
	}
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (*postgres.ListCursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, err
	}
	var c postgres.ListCursor
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, err
	}
	if _, err := time.Parse(time.DateOnly, c.ReleaseDay); err != nil || !resettlement.ValidID(c.ID) {
		return nil, errors.New("bad cursor")
	}
	return &c, nil
}

func (a *app) listCases(w http.ResponseWriter, r *http.Request) {
	s, p := filterFromQuery(r.URL.Query())
	if p != nil {
		writeErr(w, p)
		return
	}
	a.list(w, r, s)
}

func (a *app) searchCases(w http.ResponseWriter, r *http.Request) {
	var s CaseSearch
	if p := decode(r, &s); p != nil {
		writeErr(w, p)
		return
	}
	a.list(w, r, s)
}

func (a *app) list(w http.ResponseWriter, r *http.Request, s CaseSearch) {
	_, scope, perr := caseScope(r)
	if perr != nil {
		writeErr(w, perr)
		return
	}
	f, p := s.toFilter(scope, a.now())
	if p != nil {
		writeErr(w, p)
		return
	}
	rows, next, err := a.DB.ListCases(r.Context(), f)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := CaseList{Items: make([]CaseListItem, len(rows)), NextCursor: encodeCursor(next)}
	ids := make([]string, len(rows))
	for i, c := range rows {
		item := CaseListItem{ID: c.ID, PrisonNumber: c.PrisonNumber, GivenName: c.GivenName, FamilyName: c.FamilyName,
			Establishment: c.Establishment, Team: c.Team, Owner: c.Owner, Stage: c.Stage, Stalled: c.Stalled,
			EscalationLevel: c.EscalationLevel, Paused: c.Paused, NextDue: c.NextDue, LastProgress: c.LastProgress,
			OpenedAt: c.OpenedAt, ClosedAt: c.ClosedAt}
		if c.ReleaseDay != nil {
			item.ReleaseDay = resettlement.DateOf(time.Date(c.ReleaseDay.Year(), c.ReleaseDay.Month(), c.ReleaseDay.Day(), 12, 0, 0, 0, time.UTC))
		}
		out.Items[i], ids[i] = item, c.ID
	}
	// One audit line per page, naming every case shown (not the search text,
	// which may be a name).
	detail := fmt.Sprintf("search=%t shown=%d", s.Q != "", len(ids))
	if len(ids) > 0 {
		detail += " cases=" + strings.Join(ids, ",")
	}
	if err := a.audit(r, "case.list", "", detail); err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}
