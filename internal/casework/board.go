package casework

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/resettlement"
)

// The managers' board: every overdue step and stalled case across the
// teams a manager or head of service answers for, most urgent first. Each
// case grades its own lines when it is saved, and again when the clock
// says its grading may have changed (resettlement.Case.BoardLines, the
// worker's re-grader); the board reads them from the read model a keyset
// page at a time, in resettlement.BoardOrder.

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

	order resettlement.BoardOrder // its place, for the next page's cursor
}

// Board is a page of the board.
type Board struct {
	Items      []BoardItem `json:"items"`
	Total      int         `json:"total"`
	NextCursor string      `json:"next_cursor,omitempty"`
}

// BoardQuery is what the board is filtered by, and which page of it: the
// lines after After (nil: from the top), up to Limit.
type BoardQuery struct {
	Establishment, Team, Owner string
	Pathway                    resettlement.Pathway
	After                      *postgres.BoardKey
	Limit                      int
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
	if v := q.Get("cursor"); v != "" && paged {
		k, err := decodeBoardCursor(v)
		if err != nil {
			errs.Add("cursor", "is not a cursor the board gave")
		}
		bq.After = k
	}
	if len(errs) > 0 {
		return bq, FieldsError(errs)
	}
	return bq, nil
}

// boardCursorVersion prefixes the board's cursors, so a change of their
// form refuses old ones cleanly.
const boardCursorVersion = "b1"

// boardCursor is the cursor of the page after line k: the line's place on
// the board, so the next page starts there however the board changed.
func boardCursor(k postgres.BoardKey) string {
	o := k.Order
	b := 0
	if o.Blocking {
		b = 1
	}
	raw := fmt.Sprintf("%s|%d|%d|%s|%s|%d|%s|%s", boardCursorVersion, o.Severity, o.ReleaseGroup, o.ReleaseDay, o.DueDate, b, k.CaseID, k.StepID)
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// decodeBoardCursor reads a cursor boardCursor wrote, and nothing else.
func decodeBoardCursor(s string) (*postgres.BoardKey, error) {
	bad := errors.New("not a board cursor")
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(s) > 200 {
		return nil, bad
	}
	f := strings.Split(string(raw), "|")
	if len(f) != 8 || f[0] != boardCursorVersion {
		return nil, bad
	}
	sev, err1 := strconv.Atoi(f[1])
	group, err2 := strconv.Atoi(f[2])
	release, err3 := resettlement.ParseDate(f[3])
	due, err4 := resettlement.ParseDate(f[4])
	if err := errors.Join(err1, err2, err3, err4); err != nil || !resettlement.Severity(sev).Valid() || group < 0 || group > 2 ||
		(f[5] != "0" && f[5] != "1") || !resettlement.ValidID(f[6]) || (f[7] != "" && !resettlement.ValidID(f[7])) {
		return nil, bad
	}
	k := &postgres.BoardKey{Order: resettlement.BoardOrder{Severity: resettlement.Severity(sev), ReleaseGroup: group,
		ReleaseDay: release, DueDate: due, Blocking: f[5] == "1"}, CaseID: f[6], StepID: f[7]}
	if boardCursor(*k) != s {
		return nil, bad
	}
	return k, nil
}

// filter is the database's query for the board p may see, filtered by q.
func (q BoardQuery) filter(scope postgres.Scope) postgres.BoardQuery {
	return postgres.BoardQuery{Scope: scope, Establishment: q.Establishment, Team: q.Team, Owner: q.Owner,
		Pathway: string(q.Pathway), After: q.After, Limit: q.Limit}
}

// item turns a stored line into a line of the board, its days counted at now.
func item(l postgres.BoardLine, releaseDay *time.Time, now time.Time) BoardItem {
	it := BoardItem{Kind: LineOverdueStep, CaseID: l.CaseID, PrisonNumber: l.PrisonNumber, GivenName: l.GivenName,
		FamilyName: l.FamilyName, Establishment: l.Establishment, Team: l.Team, StepID: l.StepID, StepTitle: l.StepTitle,
		Pathway: l.Pathway, Owner: l.Owner, Due: l.Due, LastProgress: l.LastProgress}
	if l.StepID == "" {
		it.Kind, it.Due = LineStalledCase, nil
	}
	today := resettlement.DateOf(now)
	it.Urgency = resettlement.Urgency{Severity: l.Order.Severity, Blocking: l.Order.Blocking}
	if l.Order.DueDate != resettlement.NoDate {
		it.Urgency.DaysOverdue = max(l.Order.DueDate.DaysUntil(today), 0)
	}
	if releaseDay != nil {
		d := today.DaysUntil(resettlement.DateOf(*releaseDay))
		it.Urgency.DaysToRelease = &d
	}
	return it
}

// lines reads lines of the board from the read model, in board order.
func (s *Service) lines(ctx context.Context, q postgres.BoardQuery) ([]BoardItem, error) {
	stored, err := s.DB.Board(ctx, q)
	if err != nil {
		return nil, err
	}
	now := s.now()
	items := make([]BoardItem, len(stored))
	for i, l := range stored {
		items[i] = item(l, l.ReleaseDay, now)
		items[i].order = l.Order
	}
	return items, nil
}

// page reads one page of the board and its total.
func (s *Service) page(ctx context.Context, scope postgres.Scope, q BoardQuery) (Board, BoardSummary, error) {
	f := q.filter(scope)
	f.Limit = q.Limit + 1
	items, err := s.lines(ctx, f)
	if err != nil {
		return Board{}, BoardSummary{}, err
	}
	sum, err := s.summary(ctx, q.filter(scope))
	if err != nil {
		return Board{}, BoardSummary{}, err
	}
	out := Board{Items: items, Total: sum.OverdueSteps + sum.StalledCases}
	if len(items) > q.Limit {
		out.Items = items[:q.Limit]
		last := out.Items[q.Limit-1]
		out.NextCursor = boardCursor(postgres.BoardKey{Order: last.order, CaseID: last.CaseID, StepID: last.StepID})
	}
	return out, sum, nil
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
	out, _, err := s.page(ctx, scope, q)
	if err != nil {
		return Board{}, err
	}
	return out, s.Audit(ctx, p, "board.view", "", fmt.Sprintf("shown=%d cases=%s", len(out.Items), caseIDs(out.Items)))
}

// BoardExport is every line of p's board, for a spreadsheet, audited.
func (s *Service) BoardExport(ctx context.Context, p *auth.Principal, q BoardQuery) ([]BoardItem, error) {
	scope, err := boardScope(p)
	if err != nil {
		return nil, err
	}
	f := q.filter(scope)
	f.After, f.Limit = nil, 0
	items, err := s.lines(ctx, f)
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

// summary counts the board's lines per team (the owner's team) and per
// pathway ("none" for steps without one; stalled cases have no pathway).
func (s *Service) summary(ctx context.Context, q postgres.BoardQuery) (BoardSummary, error) {
	q.After, q.Limit = nil, 0
	teams, pathways, err := s.DB.BoardCounts(ctx, q)
	if err != nil {
		return BoardSummary{}, err
	}
	out := BoardSummary{Teams: []BoardCount{}, Pathways: []BoardCount{}}
	add := func(list *[]BoardCount, c postgres.BoardCount) {
		i := slices.IndexFunc(*list, func(b BoardCount) bool { return b.Key == c.Key })
		if i < 0 {
			*list = append(*list, BoardCount{Key: c.Key})
			i = len(*list) - 1
		}
		b := &(*list)[i]
		if c.Stalled {
			b.StalledCases += c.Lines
		} else {
			b.OverdueSteps += c.Lines
		}
		switch c.Severity {
		case resettlement.SeverityCritical:
			b.Critical += c.Lines
		case resettlement.SeverityHigh:
			b.High += c.Lines
		}
	}
	for _, c := range teams {
		add(&out.Teams, c)
		if c.Stalled {
			out.StalledCases += c.Lines
		} else {
			out.OverdueSteps += c.Lines
		}
	}
	for _, c := range pathways {
		if c.Stalled {
			continue
		}
		if c.Key == "" {
			c.Key = "none"
		}
		add(&out.Pathways, c)
	}
	byKey := func(x, y BoardCount) int { return strings.Compare(x.Key, y.Key) }
	slices.SortFunc(out.Teams, byKey)
	slices.SortFunc(out.Pathways, byKey)
	return out, nil
}

// BoardSummary counts p's board per team and pathway, audited.
func (s *Service) BoardSummary(ctx context.Context, p *auth.Principal, q BoardQuery) (BoardSummary, error) {
	scope, err := boardScope(p)
	if err != nil {
		return BoardSummary{}, err
	}
	out, err := s.summary(ctx, q.filter(scope))
	if err != nil {
		return BoardSummary{}, err
	}
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
	if f.Board, f.Summary, err = s.page(ctx, scope, q); err != nil {
		return f, err
	}
	if f.Undeliverable, err = s.DB.UndeliverableEmails(ctx, scope.Teams); err != nil {
		return f, err
	}
	if f.Overdue, err = s.DB.OverdueAt(ctx, postgres.OverdueFilter{Scope: scope, Establishment: q.Establishment, Team: q.Team,
		Owner: q.Owner, Pathway: string(q.Pathway)}, chartAt, s.now()); err != nil {
		return f, err
	}
	if f.Teams, f.Staff, err = s.Reach(ctx, p); err != nil {
		return f, err
	}
	if err := s.Audit(ctx, p, "board.view", "", fmt.Sprintf("page shown=%d cases=%s", len(f.Items), caseIDs(f.Items))); err != nil {
		return f, err
	}
	if err := s.Audit(ctx, p, "board.undeliverable", "", "page "+undeliverableDetail(f.Undeliverable)); err != nil {
		return f, err
	}
	return f, s.Audit(ctx, p, "board.summary", "", fmt.Sprintf("overdue=%d stalled=%d", f.Summary.OverdueSteps, f.Summary.StalledCases))
}

// undeliverableDetail is the audit detail of a view of undeliverable
// emails: how many, and the cases they are about.
func undeliverableDetail(items []postgres.Undeliverable) string {
	var ids []string
	for _, u := range items {
		if !slices.Contains(ids, u.CaseID) {
			ids = append(ids, u.CaseID)
		}
	}
	return fmt.Sprintf("shown=%d cases=%s", len(items), strings.Join(ids, ","))
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
	return items, s.Audit(ctx, p, "board.undeliverable", "", undeliverableDetail(items))
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
// own, so one refusal does not stop the rest. Each owner must be one who
// can see the item's case (checkOwner). The key covers the whole request:
// sent again with other items it is refused.
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
	hash, err := requestHash("reassign", items)
	if err != nil {
		return nil, err
	}
	if _, err := s.claimKey(ctx, postgres.IdempotencyKey{Staff: p.ID(), Route: "reassign", Key: key}, hash); err != nil {
		return nil, err
	}
	out := make([]Reassigned, len(items))
	for i, it := range items {
		out[i] = Reassigned{CaseID: it.CaseID, StepID: it.StepID}
		out[i].Err = func() error {
			if err := s.access(ctx, p, it.CaseID, "reassign"); err != nil {
				return err
			}
			oerrs, err := s.checkOwnerOf(ctx, it.CaseID, fmt.Sprintf("items[%d].owner", i), it.Owner)
			if err != nil {
				return err
			}
			if len(oerrs) > 0 {
				return FieldsError(oerrs)
			}
			// A space keeps an item's key apart from any key a person can send.
			res, err := s.apply(ctx, p, it.CaseID, fmt.Sprintf("%s %d", key, i), Assign{StepID: it.StepID, Owner: it.Owner, Note: it.Note}, "bulk ")
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
