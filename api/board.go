package api

import (
	"net/http"

	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/casework"
	"github.com/throughgate/throughgate/internal/postgres"
)

func (a *app) getBoard(w http.ResponseWriter, r *http.Request) error {
	p := auth.FromContext(r.Context())
	if err := casework.SeesBoard(p); err != nil {
		return err
	}
	q, err := casework.ParseBoardQuery(r.URL.Query(), true)
	if err != nil {
		return err
	}
	out, err := a.Cases.Board(r.Context(), p, q)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *app) getBoardSummary(w http.ResponseWriter, r *http.Request) error {
	p := auth.FromContext(r.Context())
	if err := casework.SeesBoard(p); err != nil {
		return err
	}
	q, err := casework.ParseBoardQuery(r.URL.Query(), false)
	if err != nil {
		return err
	}
	out, err := a.Cases.BoardSummary(r.Context(), p, q)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

// ReassignBody is the body of POST /api/v1/board/reassign.
type ReassignBody struct {
	Items []ReassignItem `json:"items"`
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

func (a *app) bulkReassign(w http.ResponseWriter, r *http.Request) error {
	p := auth.FromContext(r.Context())
	if err := casework.SeesBoard(p); err != nil {
		return err
	}
	key, err := idempotencyKey(r)
	if err != nil {
		return err
	}
	var body ReassignBody
	if err := decode(r, &body); err != nil {
		return err
	}
	done, err := a.Cases.Reassign(r.Context(), p, key, body.Items)
	if err != nil {
		return err
	}
	out := ReassignResults{Results: make([]ReassignResult, len(done))}
	for i, d := range done {
		out.Results[i] = ReassignResult{CaseID: d.CaseID, StepID: d.StepID, Status: http.StatusOK, Version: d.Version}
		if d.Err != nil {
			if _, ok := casework.ErrorOf(d.Err); !ok {
				a.Logger.ErrorContext(r.Context(), "bulk reassign item failed", "case", d.CaseID, "err", d.Err)
			}
			pr := ProblemOf(d.Err)
			out.Results[i].Status, out.Results[i].Problem = pr.Status, &pr
		}
	}
	return writeJSON(w, http.StatusOK, out)
}

// Undeliverables is the body of GET /api/v1/board/undeliverable.
type Undeliverables struct {
	Items []postgres.Undeliverable `json:"items"`
}

func (a *app) getUndeliverable(w http.ResponseWriter, r *http.Request) error {
	items, err := a.Cases.Undeliverable(r.Context(), auth.FromContext(r.Context()))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, Undeliverables{Items: items})
}
