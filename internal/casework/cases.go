package casework

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/resettlement"
	"github.com/throughgate/throughgate/workflows"
)

// CaseView is a case as people see it: the person from PostgreSQL and the
// process from the workflow (or, when Temporal cannot be reached, from the
// read model, with live false).
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
	SentenceDate      resettlement.Date           `json:"sentence_date,omitempty"` // zero: not known, the reception date assumed
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

// view reads a case: the read model, then the workflow's live state.
func (s *Service) view(ctx context.Context, id string) (CaseView, error) {
	qctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	st, qerr := s.State(qctx, id)
	cancel()
	if qerr != nil {
		st = workflows.State{} // Temporal is unreachable or slow: the read model answers
	}
	return s.viewOf(ctx, id, st)
}

// viewOf builds the view of case id from its record and, when st holds a
// case, from that live state.
func (s *Service) viewOf(ctx context.Context, id string, st workflows.State) (CaseView, error) {
	rec, err := s.DB.Case(ctx, id)
	if err != nil {
		return CaseView{}, err
	}
	v := CaseView{ID: rec.ID, Person: rec.Person, Establishment: rec.Establishment, Team: rec.Team, Owner: rec.Owner,
		Stage: rec.Stage, Stalled: rec.Stalled, EscalationLevel: rec.EscalationLevel, Paused: rec.Paused,
		NextDue: rec.NextDue, OpenedAt: rec.OpenedAt, ClosedAt: rec.ClosedAt, LastProgress: rec.LastProgress,
		Version: rec.Version, SentenceDate: rec.SentenceDate, Pathways: []resettlement.PathwayState{}, Steps: []StepView{}}
	now := s.now()
	c := rec.State
	if st.Case != nil {
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
	if c == nil {
		return v, nil
	}
	v.PauseReason, v.ReceivedOn, v.ReleaseDates = c.PauseReason, c.ReceivedOn, c.Dates
	v.SentenceDate = c.SentenceDate
	v.ReleaseDay, _ = c.ReleaseDay()
	v.Pathways, v.AssessmentSkipped, v.Closure = c.Pathways, c.AssessmentSkipped, c.Closure
	for _, st := range c.Steps {
		v.Steps = append(v.Steps, StepView{Step: st, Overdue: st.Overdue(now), Urgency: c.StepUrgency(st, now)})
	}
	if !c.Closed {
		u := c.CaseUrgency(now)
		v.Urgency = &u
	}
	return v, nil
}

// ViewCase is the case for p, audited as a view.
func (s *Service) ViewCase(ctx context.Context, p *auth.Principal, id string) (CaseView, error) {
	if err := s.access(ctx, p, id, "view"); err != nil {
		return CaseView{}, err
	}
	v, err := s.view(ctx, id)
	if err != nil {
		return v, err
	}
	return v, s.Audit(ctx, p, "case.view", id, "")
}

// Timeline is a case's whole history with the notes that explain it.
type Timeline struct {
	CaseID  string                   `json:"case_id"`
	Entries []postgres.TimelineEntry `json:"entries"`
}

// CaseTimeline is the case's history for p, audited.
func (s *Service) CaseTimeline(ctx context.Context, p *auth.Principal, id string) (Timeline, error) {
	if err := s.access(ctx, p, id, "timeline"); err != nil {
		return Timeline{}, err
	}
	entries, err := s.DB.Timeline(ctx, id)
	if err != nil {
		return Timeline{}, err
	}
	if entries == nil {
		entries = []postgres.TimelineEntry{}
	}
	return Timeline{CaseID: id, Entries: entries}, s.Audit(ctx, p, "case.timeline", id, "")
}

// CaseFile is everything the case page shows: the case, its history, the
// names of the staff it mentions, and who it could go to.
type CaseFile struct {
	View     CaseView
	Entries  []postgres.TimelineEntry
	Names    map[string]string // staff id to name
	Teams    []postgres.Team   // every team
	InReach  []postgres.Team   // active teams a step or the case may go to: the prison's and the case's own
	Owners   []postgres.Staff  // the active staff who can see the case (StaffWhoSee)
	Transfer []postgres.Team   // active teams at other prisons
}

// OpenCaseFile reads the case page's contents for p, audited as a view.
func (s *Service) OpenCaseFile(ctx context.Context, p *auth.Principal, id string) (CaseFile, error) {
	var f CaseFile
	if err := s.access(ctx, p, id, "view"); err != nil {
		return f, err
	}
	var err error
	if f.View, err = s.view(ctx, id); err != nil {
		return f, err
	}
	if f.Entries, err = s.DB.Timeline(ctx, id); err != nil {
		return f, err
	}
	if err := s.Audit(ctx, p, "case.view", id, "page"); err != nil {
		return f, err
	}
	ids := []string{f.View.Owner}
	for _, st := range f.View.Steps {
		ids = append(ids, st.Owner.Staff)
	}
	for _, e := range f.Entries {
		ids = append(ids, e.By)
	}
	if f.Names, err = s.StaffNames(ctx, ids); err != nil {
		return f, err
	}
	if f.Teams, err = s.DB.AllTeams(ctx); err != nil {
		return f, err
	}
	// Only those who can see the case may be given it (checkOwner).
	for _, t := range f.Teams {
		if t.Active && (t.Establishment == f.View.Establishment || t.ID == f.View.Team) {
			f.InReach = append(f.InReach, t)
		}
		if t.Active && t.Establishment != f.View.Establishment {
			f.Transfer = append(f.Transfer, t)
		}
	}
	f.Owners, err = s.DB.StaffWhoSee(ctx, f.View.Establishment, f.View.Team)
	return f, err
}

func teamIDs(ts []postgres.Team) []string {
	ids := make([]string, len(ts))
	for i, t := range ts {
		ids[i] = t.ID
	}
	return ids
}

// StaffNames maps staff ids to names, for showing who did what; an id
// with no name maps to itself.
func (s *Service) StaffNames(ctx context.Context, ids []string) (map[string]string, error) {
	ids = slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return id == "" })
	slices.Sort(ids)
	ids = slices.Compact(ids)
	names, err := s.DB.StaffNames(ctx, ids)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		if _, ok := names[id]; !ok {
			names[id] = id
		}
	}
	// A partner who answered through a link acts as partner:<link id>.
	if err := s.partnerNames(ctx, names); err != nil {
		return nil, err
	}
	return names, nil
}

// teamsInReach are the active teams whose cases p may see.
func (s *Service) teamsInReach(ctx context.Context, p *auth.Principal) ([]postgres.Team, error) {
	all, err := s.DB.AllTeams(ctx)
	if err != nil {
		return nil, err
	}
	return reachable(p, all), nil
}

// reachable picks from all the active teams whose cases p may see.
func reachable(p *auth.Principal, all []postgres.Team) []postgres.Team {
	scope, ok := p.CaseScope()
	if !ok {
		return nil
	}
	var out []postgres.Team
	for _, t := range all {
		if t.Active && (scope.All || slices.Contains(scope.Establishments, t.Establishment) || slices.Contains(scope.Teams, t.ID)) {
			out = append(out, t)
		}
	}
	return out
}

// CaseSearch is what a case list is filtered by: q, a prison number or
// part of a name (sent in a body, never a URL, which proxies, browser
// history and logs keep), and the list's filters.
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

// checkWhoFilters checks the establishment, team and owner filters the
// case list and the board share.
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

// filter checks the search and turns it into the store's filter.
func (q CaseSearch) filter(scope postgres.Scope, now time.Time) (postgres.CaseFilter, error) {
	var errs resettlement.Errors
	f := postgres.CaseFilter{Scope: scope, Establishment: q.Establishment, Team: q.Team, Owner: q.Owner, Stage: q.Stage,
		Stalled: q.Stalled, Overdue: q.Overdue, ReleaseWithin: q.ReleaseWithinDays, Q: strings.TrimSpace(q.Q), Limit: q.Limit, Now: now}
	checkWhoFilters(&errs, q.Establishment, q.Team, q.Owner)
	if q.Stage != "" && !resettlement.Stage(q.Stage).Valid() {
		errs.Add("stage", "must be one of "+stageNames())
	}
	if q.ReleaseWithinDays != nil && (*q.ReleaseWithinDays < 0 || *q.ReleaseWithinDays > 3650) {
		errs.Add("release_within_days", "must be from 0 to 3650")
	}
	if q.Limit == 0 {
		f.Limit = 50
	} else if q.Limit < 1 || q.Limit > 200 {
		errs.Add("limit", "must be from 1 to 200")
	}
	if n := len([]rune(f.Q)); n == 1 || n > 100 || strings.ContainsRune(f.Q, 0) {
		errs.Add("q", "must be a prison number or 2 to 100 characters of a name")
	}
	if q.Cursor != "" {
		c, err := decodeCursor(q.Cursor)
		if err != nil {
			errs.Add("cursor", "is not a cursor this list gave")
		} else {
			f.After = c
		}
	}
	if len(errs) > 0 {
		return f, FieldsError(errs)
	}
	return f, nil
}

// Check checks the search as far as it can without the database.
func (q CaseSearch) Check(now time.Time) error {
	_, err := q.filter(postgres.Scope{}, now)
	return err
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
	// Only a cursor this list gave: one that encodes back to itself, with a
	// day PostgreSQL can compare (it has no year 0).
	day, err := time.Parse(time.DateOnly, c.ReleaseDay)
	if err != nil || day.Year() < 1900 || !resettlement.ValidID(c.ID) || encodeCursor(&c) != s {
		return nil, errors.New("bad cursor")
	}
	return &c, nil
}

// ListCases is a page of p's caseload, filtered; one audit line per page
// names every case shown (not the search text, which may be a name).
func (s *Service) ListCases(ctx context.Context, p *auth.Principal, q CaseSearch) (CaseList, error) {
	scope, err := caseScope(p)
	if err != nil {
		return CaseList{}, err
	}
	f, err := q.filter(scope, s.now())
	if err != nil {
		return CaseList{}, err
	}
	rows, next, err := s.DB.ListCases(ctx, f)
	if err != nil {
		return CaseList{}, err
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
	detail := fmt.Sprintf("search=%t shown=%d", q.Q != "", len(ids))
	if len(ids) > 0 {
		detail += " cases=" + strings.Join(ids, ",")
	}
	return out, s.Audit(ctx, p, "case.list", "", detail)
}

// stageNames lists the stages for a message: "identified, assessment, …".
func stageNames() string {
	names := make([]string, len(resettlement.Stages))
	for i, st := range resettlement.Stages {
		names[i] = string(st)
	}
	return strings.Join(names, ", ")
}

// StepsDue lists the open steps p owns that fall due before until, with the
// scope they were read in; audited with the cases they belong to.
func (s *Service) StepsDue(ctx context.Context, p *auth.Principal, until time.Time) ([]postgres.MyDueStep, postgres.Scope, error) {
	scope, err := caseScope(p)
	if err != nil {
		return nil, scope, err
	}
	due, err := s.DB.StepsDue(ctx, scope, p.ID(), until, 100)
	if err != nil {
		return nil, scope, err
	}
	var ids []string
	for _, d := range due {
		if !slices.Contains(ids, d.CaseID) {
			ids = append(ids, d.CaseID)
		}
	}
	detail := fmt.Sprintf("steps-due shown=%d", len(due))
	if len(ids) > 0 {
		detail += " cases=" + strings.Join(ids, ",")
	}
	return due, scope, s.Audit(ctx, p, "case.list", "", detail)
}

// Reach is the teams whose cases p may see and their active members: who
// p can give a case or a step to.
func (s *Service) Reach(ctx context.Context, p *auth.Principal) ([]postgres.Team, []postgres.Staff, error) {
	teams, err := s.teamsInReach(ctx, p)
	if err != nil {
		return nil, nil, err
	}
	staff, err := s.DB.ActiveStaffIn(ctx, teamIDs(teams))
	return teams, staff, err
}

// SpreadsheetSafe keeps a spreadsheet from reading an exported cell as a
// formula (OWASP's CSV injection).
func SpreadsheetSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
