package casework

import (
	"cmp"
	"context"
	"fmt"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/resettlement"
)

// The managers' board: every overdue step and stalled case across the
// teams a manager or head of service answers for, most urgent first by
// resettlement's Urgency.

// Kinds of board line.
const (
	LineOverdueStep = "overdue-step"
	LineStalledCase = "stalled-case"
)

// BoardItem is a line of the board: an overdue step, or a case with no
// progress for the stall period.
type BoardItem struct {
	Kind          string               `json:"kind"` // LineOverdueStep or LineStalledCase
	CaseID        string               `json:"case_id"`
	PrisonNumber  string               `json:"prison_number"`
	GivenName     string               `json:"given_name"`
	FamilyName    string               `json:"family_name"`
	Establishment string               `json:"establishment"`
	Team          string               `json:"team"`
	StepID        string               `json:"step_id,omitempty"`
	StepTitle     string               `json:"step_title,omitempty"`
	Pathway       resettlement.Pathway `json:"pathway,omitempty"`
	Owner         resettlement.Owner   `json:"owner"`
	Due           *time.Time           `json:"due,omitempty"`
	LastProgress  time.Time            `json:"last_progress"`
	Urgency       resettlement.Urgency `json:"urgency"`
}

// Board is a page of the board.
type Board struct {
	Items      []BoardItem `json:"items"`
	Total      int         `json:"total"`
	NextCursor string      `json:"next_cursor,omitempty"`
}

// BoardQuery is what the board is filtered by, and which page of it.
type BoardQuery struct {
	Establishment, Team, Owner string
	Pathway                    resettlement.Pathway
	Offset, Limit              int
}

// BoardFilters are the query parameters that filter the board.
var BoardFilters = []string{"establishment", "team", "owner", "pathway"}

// ParseBoardQuery reads the board's filters (and, when paged, its cursor
// and limit) from a query string, naming each one at fault.
func ParseBoardQuery(q url.Values, paged bool) (BoardQuery, error) {
	bq := BoardQuery{Establishment: q.Get("establishment"), Team: q.Get("team"), Owner: q.Get("owner"),
		Pathway: resettlement.Pathway(q.Get("pathway")), Limit: 50}
	var errs resettlement.Errors
	for k := range q {
		switch {
		case slices.Contains(BoardFilters, k):
		case paged && (k == "cursor" || k == "limit"):
		default:
			errs.Add(k, "is not a filter of the board")
		}
	}
	slices.SortFunc(errs, func(x, y resettlement.FieldError) int { return strings.Compare(x.Field, y.Field) })
	checkWhoFilters(&errs, bq.Establishment, bq.Team, bq.Owner)
	if bq.Pathway != "" && !bq.Pathway.Valid() {
		errs.Add("pathway", "is not one of the seven pathways")
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			errs.Add("limit", "must be from 1 to 200")
		}
		bq.Limit = n
	}
	if v := q.Get("cursor"); v != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(v, "o"))
		if err != nil || n < 0 || !strings.HasPrefix(v, "o") {
			errs.Add("cursor", "is not a cursor the board gave")
		}
		bq.Offset = n
	}
	if len(errs) > 0 {
		return bq, FieldsError(errs)
	}
	return bq, nil
}

// Cursor is the cursor of the page that starts at offset.
func (q BoardQuery) Cursor(offset int) string { return fmt.Sprintf("o%d", offset) }

// mayBeStalled is a quick necessary condition for c.Stalled(now): the
// stall period counted in calendar days (never more than in working days),
// less a margin for clock changes, has passed since the last progress. It
// spares the calendar arithmetic for most cases that are not stalled.
func mayBeStalled(c *resettlement.Case, now time.Time) bool {
	o := c.Policy.StallAfter
	bound := c.LastProgress.AddDate(0, 0, o.Days+o.WorkingDays).Add(min(o.Duration.Std(), 0) - 2*time.Hour)
	return !now.Before(bound)
}

// gradeCases makes the board's lines for some cases.
func gradeCases(cands []postgres.BoardCase, q BoardQuery, now time.Time) []*BoardItem {
	var items []*BoardItem
	for _, bc := range cands {
		c := bc.Case
		if c.Paused {
			continue
		}
		base := BoardItem{CaseID: bc.ID, PrisonNumber: bc.PrisonNumber, GivenName: bc.GivenName, FamilyName: bc.FamilyName,
			Establishment: c.Establishment, Team: c.Team, LastProgress: c.LastProgress}
		for _, s := range c.Steps {
			if !s.Overdue(now) || q.Owner != "" && s.Owner.Staff != q.Owner || q.Pathway != "" && s.Pathway != q.Pathway {
				continue
			}
			it := base
			due := s.Due
			it.Kind, it.StepID, it.StepTitle, it.Pathway, it.Owner, it.Due = LineOverdueStep, s.ID, s.Title, s.Pathway, s.Owner, &due
			it.Urgency = c.StepUrgency(s, now)
			items = append(items, &it)
		}
		if q.Pathway == "" && (q.Owner == "" || c.Owner == q.Owner) && mayBeStalled(c, now) && c.Stalled(now) {
			it := base
			it.Kind, it.Owner, it.Urgency = LineStalledCase, resettlement.Owner{Staff: c.Owner, Team: c.Team}, c.CaseUrgency(now)
			items = append(items, &it)
		}
	}
	return items
}

// lines grades every candidate at the moment of reading, from the state
// the workflow last saved, and orders them by resettlement's Urgency.
func (s *Service) lines(ctx context.Context, scope postgres.Scope, q BoardQuery) ([]BoardItem, error) {
	now := s.now()
	cands, err := s.DB.BoardCandidates(ctx, postgres.BoardFilter{Scope: scope, Establishment: q.Establishment, Team: q.Team, Now: now})
	if err != nil {
		return nil, err
	}
	// Grading is calendar arithmetic: spread it over the cores.
	parts := min(runtime.GOMAXPROCS(0), max(1, len(cands)/500))
	graded := make([][]*BoardItem, parts)
	var wg sync.WaitGroup
	for p := range parts {
		wg.Go(func() {
			lo, hi := p*len(cands)/parts, (p+1)*len(cands)/parts
			graded[p] = gradeCases(cands[lo:hi], q, now)
		})
	}
	wg.Wait()
	ptrs := slices.Concat(graded...)
	slices.SortStableFunc(ptrs, func(x, y *BoardItem) int {
		switch {
		case x.Urgency.Less(y.Urgency):
			return -1
		case y.Urgency.Less(x.Urgency):
			return 1
		}
		return cmp.Or(strings.Compare(x.CaseID, y.CaseID), strings.Compare(x.StepID, y.StepID))
	})
	items := make([]BoardItem, len(ptrs))
	for i, it := range ptrs {
		items[i] = *it
	}
	return items, nil
}

// page cuts a page from the graded lines.
func page(items []BoardItem, q BoardQuery) Board {
	out := Board{Total: len(items), Items: []BoardItem{}}
	if q.Offset < len(items) {
		end := min(q.Offset+q.Limit, len(items))
		out.Items = items[q.Offset:end]
		if end < len(items) {
			out.NextCursor = q.Cursor(end)
		}
	}
	return out
}

// caseIDs lists the cases of some lines, each once, in order.
func caseIDs(items []BoardItem) string {
	var ids []string
	for _, it := range items {
		if !slices.Contains(ids, it.CaseID) {
			ids = append(ids, it.CaseID)
		}
	}
	return strings.Join(ids, ",")
}

// Board is a page of p's board, audited with the cases it shows.
func (s *Service) Board(ctx context.Context, p *auth.Principal, q BoardQuery) (Board, error) {
	scope, err := boardScope(p)
	if err != nil {
		return Board{}, err
	}
	items, err := s.lines(ctx, scope, q)
	if err != nil {
		return Board{}, err
	}
	out := page(items, q)
	return out, s.Audit(ctx, p, "board.view", "", fmt.Sprintf("shown=%d cases=%s", len(out.Items), caseIDs(out.Items)))
}

// BoardExport is every line of p's board, for a spreadsheet, audited.
func (s *Service) BoardExport(ctx context.Context, p *auth.Principal, q BoardQuery) ([]BoardItem, error) {
	scope, err := boardScope(p)
	if err != nil {
		return nil, err
	}
	items, err := s.lines(ctx, scope, q)
	if err != nil {
		return nil, err
	}
	return items, s.Audit(ctx, p, "board.export", "", fmt.Sprintf("rows=%d cases=%s", len(items), caseIDs(items)))
}

// BoardCount counts the board's lines for a team or a pathway.
type BoardCount struct {
	Key          string `json:"key"`
	OverdueSteps int    `json:"overdue_steps"`
	StalledCases int    `json:"stalled_cases"`
	Critical     int    `json:"critical"`
	High         int    `json:"high"`
}

// BoardSummary counts the board per team and per pathway.
type BoardSummary struct {
	OverdueSteps int          `json:"overdue_steps"`
	StalledCases int          `json:"stalled_cases"`
	Teams        []BoardCount `json:"teams"`
	Pathways     []BoardCount `json:"pathways"`
}

// summarise counts graded lines per team (the owner's team, else the
// case's) and per pathway ("none" for steps without one).
func summarise(items []BoardItem) BoardSummary {
	teams, pathways := map[string]*BoardCount{}, map[string]*BoardCount{}
	out := BoardSummary{Teams: []BoardCount{}, Pathways: []BoardCount{}}
	count := func(m map[string]*BoardCount, key string, it BoardItem) {
		c := m[key]
		if c == nil {
			c = &BoardCount{Key: key}
			m[key] = c
		}
		if it.Kind == LineStalledCase {
			c.StalledCases++
		} else {
			c.OverdueSteps++
		}
		switch it.Urgency.Severity {
		case resettlement.SeverityCritical:
			c.Critical++
		case resettlement.SeverityHigh:
			c.High++
		}
	}
	for _, it := range items {
		if it.Kind == LineStalledCase {
			out.StalledCases++
		} else {
			out.OverdueSteps++
			pw := string(it.Pathway)
			if pw == "" {
				pw = "none"
			}
			count(pathways, pw, it)
		}
		team := it.Owner.Team
		if team == "" {
			team = it.Team
		}
		count(teams, team, it)
	}
	for _, c := range teams {
		out.Teams = append(out.Teams, *c)
	}
	for _, c := range pathways {
		out.Pathways = append(out.Pathways, *c)
	}
	byKey := func(x, y BoardCount) int { return strings.Compare(x.Key, y.Key) }
	slices.SortFunc(out.Teams, byKey)
	slices.SortFunc(out.Pathways, byKey)
	return out
}

// BoardSummary counts p's board per team and pathway, audited.
func (s *Service) BoardSummary(ctx context.Context, p *auth.Principal, q BoardQuery) (BoardSummary, error) {
	scope, err := boardScope(p)
	if err != nil {
		return BoardSummary{}, err
	}
	items, err := s.lines(ctx, scope, q)
	if err != nil {
		return BoardSummary{}, err
	}
	out := summarise(items)
	return out, s.Audit(ctx, p, "board.summary", "", fmt.Sprintf("overdue=%d stalled=%d", out.OverdueSteps, out.StalledCases))
}

// BoardFile is everything the board page shows.
type BoardFile struct {
	Board
	Summary       BoardSummary
	Undeliverable []postgres.Undeliverable
	// Overdue counts the overdue steps at each of the chart's instants.
	Overdue []int
	Teams   []postgres.Team  // the teams p answers for
	Staff   []postgres.Staff // their active members
}

// OpenBoardFile reads the board page's contents for p: a page of lines,
// the counts, undeliverable emails, and the overdue steps at each of
// chartAt. Audited as the API's board and summary are.
func (s *Service) OpenBoardFile(ctx context.Context, p *auth.Principal, q BoardQuery, chartAt []time.Time) (BoardFile, error) {
	var f BoardFile
	scope, err := boardScope(p)
	if err != nil {
		return f, err
	}
	items, err := s.lines(ctx, scope, q)
	if err != nil {
		return f, err
	}
	f.Board, f.Summary = page(items, q), summarise(items)
	if f.Undeliverable, err = s.DB.UndeliverableEmails(ctx, scope.Teams); err != nil {
		return f, err
	}
	if f.Overdue, err = s.DB.OverdueAt(ctx, postgres.OverdueFilter{Scope: scope, Establishment: q.Establishment, Team: q.Team,
		Owner: q.Owner, Pathway: string(q.Pathway)}, chartAt); err != nil {
		return f, err
	}
	if f.Teams, f.Staff, err = s.Reach(ctx, p); err != nil {
		return f, err
	}
	if err := s.Audit(ctx, p, "board.view", "", fmt.Sprintf("page shown=%d cases=%s", len(f.Items), caseIDs(f.Items))); err != nil {
		return f, err
	}
	return f, s.Audit(ctx, p, "board.summary", "", fmt.Sprintf("overdue=%d stalled=%d", f.Summary.OverdueSteps, f.Summary.StalledCases))
}

// Undeliverable lists the reminders and escalations about p's teams' cases
// that no mail server would take: each is a person who was never told, so
// the board shows them beside the overdue steps.
func (s *Service) Undeliverable(ctx context.Context, p *auth.Principal) ([]postgres.Undeliverable, error) {
	scope, err := boardScope(p)
	if err != nil {
		return nil, err
	}
	items, err := s.DB.UndeliverableEmails(ctx, scope.Teams)
	if err != nil {
		return nil, err
	}
	if items == nil {
		items = []postgres.Undeliverable{}
	}
	return items, s.Audit(ctx, p, "board.undeliverable", "", fmt.Sprintf("shown=%d", len(items)))
}

// ReassignItem gives one step to a new owner.
type ReassignItem struct {
	CaseID string             `json:"case_id"`
	StepID string             `json:"step_id"`
	Owner  resettlement.Owner `json:"owner"`
	Note   string             `json:"note,omitempty"`
}

// Reassigned is what became of one item: its case's version, or why not.
type Reassigned struct {
	CaseID, StepID string
	Version        int
	Err            error
}

// Reassign gives many steps to new owners for a manager: the whole request
// checked first, then each item checked and applied (and audited) on its
// own, so one refusal does not stop the rest.
func (s *Service) Reassign(ctx context.Context, p *auth.Principal, key string, items []ReassignItem) ([]Reassigned, error) {
	if _, err := boardScope(p); err != nil {
		return nil, err
	}
	if err := CheckKey(key); err != nil {
		return nil, err
	}
	var errs resettlement.Errors
	if len(items) == 0 || len(items) > 100 {
		errs.Add("items", "give from 1 to 100 steps to reassign")
	}
	for i, it := range items {
		if !resettlement.ValidID(it.CaseID) {
			errs.Add(fmt.Sprintf("items[%d].case_id", i), "is not a case id")
		}
		if !resettlement.ValidID(it.StepID) {
			errs.Add(fmt.Sprintf("items[%d].step_id", i), "is not a step id")
		}
		checkNote(fmt.Sprintf("items[%d].note", i), it.Note, &errs)
	}
	if len(errs) > 0 {
		return nil, FieldsError(errs)
	}
	out := make([]Reassigned, len(items))
	for i, it := range items {
		out[i] = Reassigned{CaseID: it.CaseID, StepID: it.StepID}
		out[i].Err = func() error {
			if err := s.access(ctx, p, it.CaseID, "reassign"); err != nil {
				return err
			}
			oerrs, err := s.checkOwner(ctx, fmt.Sprintf("items[%d].owner", i), it.Owner)
			if err != nil {
				return err
			}
			if len(oerrs) > 0 {
				return FieldsError(oerrs)
			}
			res, err := s.apply(ctx, p, it.CaseID, fmt.Sprintf("%s:%d", key, i), Assign{StepID: it.StepID, Owner: it.Owner, Note: it.Note}, "bulk ")
			out[i].Version = res.Version
			return err
		}()
	}
	return out, nil
}

// StepFile is one step of a case, for the page that reassigns it.
type StepFile struct {
	View   CaseView
	Step   StepView
	Names  map[string]string
	Teams  []postgres.Team  // the teams p answers for
	Owners []postgres.Staff // their active members
}

// OpenStepFile reads one step for a manager about to reassign it, audited
// as a view of the case.
func (s *Service) OpenStepFile(ctx context.Context, p *auth.Principal, caseID, stepID string) (StepFile, error) {
	var f StepFile
	if _, err := boardScope(p); err != nil {
		return f, err
	}
	if err := s.access(ctx, p, caseID, "reassign"); err != nil {
		return f, err
	}
	var err error
	if f.View, err = s.view(ctx, caseID); err != nil {
		return f, err
	}
	i := slices.IndexFunc(f.View.Steps, func(st StepView) bool { return st.ID == stepID })
	if i < 0 {
		return f, Errorf(NotFound, "The case has no such step.")
	}
	f.Step = f.View.Steps[i]
	if err := s.Audit(ctx, p, "case.view", caseID, "page reassign step="+stepID); err != nil {
		return f, err
	}
	if f.Names, err = s.StaffNames(ctx, []string{f.Step.Owner.Staff}); err != nil {
		return f, err
	}
	f.Teams, f.Owners, err = s.Reach(ctx, p)
	return f, err
}
