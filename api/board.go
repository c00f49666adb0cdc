package api

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
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
	"github.com/throughgate/throughgate/workflows"
)

// BoardItem is a line of the managers' board: an overdue step, or a case
// with no progress for the stall period.
type BoardItem struct {
	Kind          string               `json:"kind"` // overdue-step or stalled-case
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

// Board is a page of the board, most urgent first.
type Board struct {
	Items      []BoardItem `json:"items"`
	Total      int         `json:"total"`
	NextCursor string      `json:"next_cursor,omitempty"`
}

type boardQuery struct {
	establishment, team, owner string
	pathway                    resettlement.Pathway
	offset, limit              int
}

func readBoardQuery(q url.Values, paged bool) (boardQuery, *problemError) {
	bq := boardQuery{establishment: q.Get("establishment"), team: q.Get("team"), owner: q.Get("owner"),
		pathway: resettlement.Pathway(q.Get("pathway")), limit: 50}
	var errs resettlement.Errors
	for k := range q {
		switch k {
		case "establishment", "team", "owner", "pathway":
		case "cursor", "limit":
			if paged {
				continue
			}
			fallthrough
		default:
			errs.Add(k, "is not a filter of the board")
		}
	}
	checkWhoFilters(&errs, bq.establishment, bq.team, bq.owner)
	if bq.pathway != "" && !bq.pathway.Valid() {
		errs.Add("pathway", "is not one of the seven pathways")
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			errs.Add("limit", "must be from 1 to 200")
		}
		bq.limit = n
	}
	if v := q.Get("cursor"); v != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(v, "o"))
		if err != nil || n < 0 || !strings.HasPrefix(v, "o") {
			errs.Add("cursor", "is not a cursor the board gave")
		}
		bq.offset = n
	}
	if len(errs) > 0 {
		return bq, fieldProblem(errs)
	}
	return bq, nil
}

// boardScope is the caseload behind the board: managers' and heads' teams.
func boardScope(r *http.Request) (*auth.Principal, postgres.Scope, *problemError) {
	p := auth.FromContext(r.Context())
	if !p.CanSeeBoard() {
		return p, postgres.Scope{}, problem(http.StatusForbidden, "The board is for team managers and heads of service.")
	}
	s, _ := p.CaseScope()
	return p, s, nil
}

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
func gradeCases(cands []postgres.BoardCase, bq boardQuery, now time.Time) []*BoardItem {
	var items []*BoardItem
	for _, bc := range cands {
		c := bc.Case
		if c.Paused {
			continue
		}
		base := BoardItem{CaseID: bc.ID, PrisonNumber: bc.PrisonNumber, GivenName: bc.GivenName, FamilyName: bc.FamilyName,
			Establishment: c.Establishment, Team: c.Team, LastProgress: c.LastProgress}
		for _, s := range c.Steps {
			if !s.Overdue(now) || bq.owner != "" && s.Owner.Staff != bq.owner || bq.pathway != "" && s.Pathway != bq.pathway {
				continue
			}
			it := base
			due := s.Due
			it.Kind, it.StepID, it.StepTitle, it.Pathway, it.Owner, it.Due = "overdue-step", s.ID, s.Title, s.Pathway, s.Owner, &due
			it.Urgency = c.StepUrgency(s, now)
			items = append(items, &it)
		}
		if bq.pathway == "" && (bq.owner == "" || c.Owner == bq.owner) && mayBeStalled(c, now) && c.Stalled(now) {
			it := base
			it.Kind, it.Owner, it.Urgency = "stalled-case", resettlement.Owner{Staff: c.Owner, Team: c.Team}, c.CaseUrgency(now)
			items = append(items, &it)
		}
	}
	return items
}

// boardItems grades every candidate at the moment of reading, from the
// state the workflow last saved, and orders them by resettlement's Urgency.
func (a *app) boardItems(r *http.Request, scope postgres.Scope, bq boardQuery) ([]BoardItem, error) {
	now := a.now()
	cands, err := a.DB.BoardCandidates(r.Context(), postgres.BoardFilter{Scope: scope, Establishment: bq.establishment, Team: bq.team, Now: now})
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
			graded[p] = gradeCases(cands[lo:hi], bq, now)
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

// boardRequest checks who asks and what they filter by, and grades their
// board; ok is false once it has answered with a problem.
func (a *app) boardRequest(w http.ResponseWriter, r *http.Request, paged bool) (bq boardQuery, items []BoardItem, ok bool) {
	_, scope, perr := boardScope(r)
	if perr != nil {
		writeErr(w, perr)
		return bq, nil, false
	}
	bq, p := readBoardQuery(r.URL.Query(), paged)
	if p != nil {
		writeErr(w, p)
		return bq, nil, false
	}
	items, err := a.boardItems(r, scope, bq)
	if err != nil {
		a.fail(w, r, err)
		return bq, nil, false
	}
	return bq, items, true
}

func (a *app) getBoard(w http.ResponseWriter, r *http.Request) {
	bq, items, ok := a.boardRequest(w, r, true)
	if !ok {
		return
	}
	out := Board{Total: len(items), Items: []BoardItem{}}
	if bq.offset < len(items) {
		end := min(bq.offset+bq.limit, len(items))
		out.Items = items[bq.offset:end]
		if end < len(items) {
			out.NextCursor = fmt.Sprintf("o%d", end)
		}
	}
	ids := make([]string, 0, len(out.Items))
	for _, it := range out.Items {
		if len(ids) == 0 || ids[len(ids)-1] != it.CaseID {
			ids = append(ids, it.CaseID)
		}
	}
	if err := a.audit(r, "board.view", "", fmt.Sprintf("shown=%d cases=%s", len(out.Items), strings.Join(ids, ","))); err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
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

func (a *app) getBoardSummary(w http.ResponseWriter, r *http.Request) {
	_, items, ok := a.boardRequest(w, r, false)
	if !ok {
		return
	}
	teams, pathways := map[string]*BoardCount{}, map[string]*BoardCount{}
	out := BoardSummary{Teams: []BoardCount{}, Pathways: []BoardCount{}}
	count := func(m map[string]*BoardCount, key string, it BoardItem) {
		c := m[key]
		if c == nil {
			c = &BoardCount{Key: key}
			m[key] = c
		}
		if it.Kind == "stalled-case" {
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
		if it.Kind == "stalled-case" {
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
	if err := a.audit(r, "board.summary", "", fmt.Sprintf("overdue=%d stalled=%d", out.OverdueSteps, out.StalledCases)); err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// ReassignBody is the body of POST /api/v1/board/reassign.
type ReassignBody struct {
	Items []ReassignItem `json:"items"`
}

// ReassignItem gives one step to a new owner.
type ReassignItem struct {
	CaseID string             `json:"case_id"`
	StepID string             `json:"step_id"`
	Owner  resettlement.Owner `json:"owner"`
	Note   string             `json:"note,omitempty"`
}

// ReassignResult reports one item: status is the HTTP status the same
// change alone would have had, with its problem when it failed.
type ReassignResult struct {
	CaseID  string   `json:"case_id"`
	StepID  string   `json:"step_id"`
	Status  int      `json:"status"`
	Version int      `json:"version,omitempty"`
	Problem *Problem `json:"problem,omitempty"`
}

// ReassignResults answers a bulk reassignment, item by item.
type ReassignResults struct {
	Results []ReassignResult `json:"results"`
}

func (a *app) bulkReassign(w http.ResponseWriter, r *http.Request) {
	p, _, perr := boardScope(r)
	if perr != nil {
		writeErr(w, perr)
		return
	}
	key, kp := idempotencyKey(r)
	if kp != nil {
		writeErr(w, kp)
		return
	}
	var body ReassignBody
	if dp := decode(r, &body); dp != nil {
		writeErr(w, dp)
		return
	}
	var errs resettlement.Errors
	if len(body.Items) == 0 || len(body.Items) > 100 {
		errs.Add("items", "give from 1 to 100 steps to reassign")
	}
	for i, it := range body.Items {
		if !resettlement.ValidID(it.CaseID) {
			errs.Add(fmt.Sprintf("items[%d].case_id", i), "is not a case id")
		}
		if !resettlement.ValidID(it.StepID) {
			errs.Add(fmt.Sprintf("items[%d].step_id", i), "is not a step id")
		}
		checkNote(fmt.Sprintf("items[%d].note", i), it.Note, &errs)
	}
	if len(errs) > 0 {
		writeErr(w, fieldProblem(errs))
		return
	}
	out := ReassignResults{Results: make([]ReassignResult, len(body.Items))}
	for i, it := range body.Items {
		res := ReassignResult{CaseID: it.CaseID, StepID: it.StepID, Status: http.StatusOK}
		err := func() error {
			if _, err := a.caseAccess(r, it.CaseID); err != nil {
				return err
			}
			oerrs, err := a.checkOwner(r.Context(), fmt.Sprintf("items[%d].owner", i), it.Owner)
			if err != nil {
				return err
			}
			if len(oerrs) > 0 {
				return fieldProblem(oerrs)
			}
			ar, detail, err := a.apply(r, p, it.CaseID, fmt.Sprintf("%s:%d", key, i), workflows.UpdateAssign, it.Note,
				func(m resettlement.Meta) (command, string, resettlement.Errors) {
					return resettlement.Assign{Meta: m, StepID: it.StepID, Owner: it.Owner}, "bulk step=" + it.StepID + " to=" + it.Owner.Staff + "/" + it.Owner.Team, nil
				})
			if aerr := a.audit(r, "case."+workflows.UpdateAssign, it.CaseID, outcome(detail, err)); aerr != nil && err == nil {
				return aerr
			}
			res.Version = ar.Version
			return err
		}()
		if err != nil {
			var pe *problemError
			if !errors.As(err, &pe) {
				a.logger.ErrorContext(r.Context(), "bulk reassign item failed", "case", it.CaseID, "err", err)
				pe = problem(http.StatusInternalServerError, "Something went wrong on our side with this item.")
			}
			res.Status = pe.status
			res.Problem = &Problem{Type: "about:blank", Title: http.StatusText(pe.status), Status: pe.status, Detail: pe.detail, Errors: pe.fields}
		}
		out.Results[i] = res
	}
	writeJSON(w, http.StatusOK, out)
}

// Undeliverables is the body of GET /api/v1/board/undeliverable.
type Undeliverables struct {
	Items []postgres.Undeliverable `json:"items"`
}

// getUndeliverable lists the reminders and escalations about the manager's
// teams' cases that no mail server would take: each is a person who was
// never told, so the board shows them beside the overdue steps.
func (a *app) getUndeliverable(w http.ResponseWriter, r *http.Request) {
	_, scope, perr := boardScope(r)
	if perr != nil {
		writeErr(w, perr)
		return
	}
	items, err := a.DB.UndeliverableEmails(r.Context(), scope.Teams)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if items == nil {
		items = []postgres.Undeliverable{}
	}
	if err := a.audit(r, "board.undeliverable", "", fmt.Sprintf("shown=%d", len(items))); err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, Undeliverables{Items: items})
}
