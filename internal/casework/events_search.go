package casework

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// PrisonerSearch finds a person's record by prison number: who they are,
// the booking and the release dates, for an event that carries none.
type PrisonerSearch interface {
	// Prisoner returns the record, or nil when the search does not know
	// the person; an error when it did not answer.
	Prisoner(ctx context.Context, prisonNumber string) (*PrisonerRecord, error)
}

// HTTPPrisonerSearch asks an HTTP endpoint in the shape of HMPPS Prisoner
// Search: GET {URL}/prisoner/{prison number}, answering a PrisonerRecord's
// JSON (200) or 404. Token, when set, is sent as a bearer token. Nothing it
// answers is logged: it is personal data.
type HTTPPrisonerSearch struct {
	URL    string
	Token  string
	Client *http.Client // nil: one with a 10-second timeout
}

// maxPrisonerRecord is the largest answer read.
const maxPrisonerRecord = 1 << 20

// Prisoner asks the endpoint for the person's record.
func (h *HTTPPrisonerSearch) Prisoner(ctx context.Context, prisonNumber string) (*PrisonerRecord, error) {
	hc := h.Client
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	u := strings.TrimSuffix(h.URL, "/") + "/prisoner/" + url.PathEscape(prisonNumber)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	if h.Token != "" {
		req.Header.Set("Authorization", "Bearer "+h.Token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("prisoner search: %w", err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound:
		return nil, nil
	default:
		return nil, fmt.Errorf("prisoner search answered %s", resp.Status)
	}
	var p PrisonerRecord
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxPrisonerRecord)).Decode(&p); err != nil {
		return nil, fmt.Errorf("prisoner search: its answer is not a prisoner record")
	}
	if p.PrisonerNumber != "" && p.PrisonerNumber != prisonNumber {
		return nil, fmt.Errorf("prisoner search answered for another person")
	}
	return &p, nil
}
