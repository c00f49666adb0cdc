package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/throughgate/throughgate/internal/casework"
	"github.com/throughgate/throughgate/resettlement"
)

// runBoard loads n synthetic cases into the read model (no workflows: the
// board and the lists read only PostgreSQL), opens a few real cases
// through the API for the case page's live state, then measures every
// read a head of service over all of them makes, one request at a time.
func runBoard(ctx context.Context, e *env, n int) error {
	const name = "board"
	s, done, err := e.stack(ctx, nil)
	if err != nil {
		return err
	}
	defer done()
	if err := setUpTeams(ctx, s.DB); err != nil {
		return err
	}

	now := time.Now()
	began := time.Now()
	last := time.Now()
	mix, err := loadSynthetic(ctx, s.DB, n, now, func(done int) {
		if time.Since(last) > 15*time.Second {
			e.logf("  loaded %d of %d", done, n)
			last = time.Now()
		}
	})
	if err != nil {
		return err
	}
	took := time.Since(began)
	e.logf("loaded %d cases in %s", n, took.Round(time.Second))
	e.table.add(Row{Scenario: name, Figure: fmt.Sprintf("load %s cases into the read model", count(n)),
		TG: fmt.Sprintf("%s (%.0f cases/s)", secs(took), float64(n)/took.Seconds()), Outcome: Info,
		Note: fmt.Sprintf("the mix: %.0f %% with an overdue step, %.0f %% stalled, %.0f %% released and in follow-up, %.0f %% in a team queue; ten prisons under one head of service",
			pctOf(mix.Overdue, n), pctOf(mix.Stalled, n), pctOf(mix.Released, n), pctOf(mix.Queued, n))})

	officer, err := s.Token(ctx, "officer-1")
	if err != nil {
		return err
	}
	headTok, err := s.Token(ctx, "head-1")
	if err != nil {
		return err
	}
	head := newAPIClient(s.URL, headTok, 2)

	// Real cases, with workflows, for the case page.
	live := min(100, max(10, n/1000))
	ids, err := openCases(ctx, newAPIClient(s.URL, officer, 4), 4, live, 150_000_000)
	if err != nil {
		return err
	}
	if err := waitSaved(ctx, s, ids, 2*time.Minute); err != nil {
		return err
	}

	if e.keep {
		e.logf("keeping the stack until interrupted: API %s (head-1's token %s), database %s", s.URL, headTok, s.PGURL)
		<-ctx.Done()
		return ctx.Err()
	}
	samples := 300
	if e.quick {
		samples = 20
	}
	// Cursors some way into the board and the list: keyset pages cost the
	// same however deep.
	deepBoard, err := walk(head, "/api/v1/board?limit=50", 20)
	if err != nil {
		return err
	}
	deepList, err := walk(head, "/api/v1/cases?limit=50", 20)
	if err != nil {
		return err
	}
	var board casework.Board
	if err := head.get("/api/v1/board?limit=1", &board); err != nil {
		return err
	}
	get := func(path string) func(int) (int, []byte, error) {
		return func(int) (int, []byte, error) { return head.do("GET", path, nil, nil) }
	}
	search := func(q string) func(int) (int, []byte, error) {
		return func(int) (int, []byte, error) {
			return head.do("POST", "/api/v1/cases/search", map[string]any{"q": q, "limit": 50}, nil)
		}
	}
	const target = 50 * time.Millisecond
	for _, f := range []struct {
		figure string
		req    func(int) (int, []byte, error)
		target time.Duration
	}{
		{fmt.Sprintf("board, first page (%s lines)", count(board.Total)), get("/api/v1/board?limit=50"), target},
		{"board, page 21 (keyset cursor)", get("/api/v1/board?limit=50&cursor=" + url.QueryEscape(deepBoard)), target},
		{"board, one team", get("/api/v1/board?limit=50&team=bxi-resettlement"), target},
		{"board summary", get("/api/v1/board/summary"), target},
		{"case list, first page", get("/api/v1/cases?limit=50"), target},
		{"case list, page 21 (keyset cursor)", get("/api/v1/cases?limit=50&cursor=" + url.QueryEscape(deepList)), target},
		{"case list, overdue, release within 28 days", get("/api/v1/cases?limit=50&overdue=true&release_within_days=28"), target},
		{"case list, stalled", get("/api/v1/cases?limit=50&stalled=true"), target},
		{"search, by prison number", func(i int) (int, []byte, error) {
			return head.do("POST", "/api/v1/cases/search", map[string]any{"q": prisonNumber((i * 7919) % n)}, nil)
		}, target},
		{"search, by name", search("moran"), target},
		{"search, a name nobody has", search("zebedee"), target},
		{fmt.Sprintf("case page with its live state (%d cases)", live), func(i int) (int, []byte, error) {
			status, b, err := head.do("GET", "/api/v1/cases/"+ids[i%len(ids)], nil, nil)
			if err == nil && status == http.StatusOK && !strings.Contains(string(b), `"live":true`) {
				return 0, nil, fmt.Errorf("case %s answered without its live state", ids[i%len(ids)])
			}
			return status, b, err
		}, 100 * time.Millisecond},
	} {
		lat, err := latencies(samples, f.req)
		if err != nil {
			return fmt.Errorf("%s: %w", f.figure, err)
		}
		p99 := pct(lat, 0.99)
		e.logf("  %-50s p50 %s  p99 %s", f.figure, ms(pct(lat, 0.5)), ms(p99))
		e.table.judge(Row{Scenario: name, Figure: f.figure + ", p99",
			TG: fmt.Sprintf("%s (p50 %s)", ms(p99), ms(pct(lat, 0.5))), Target: "≤ " + ms(f.target)}, p99 <= f.target)
	}

	// Requests over the limits answer 422 naming the field.
	checks := []struct {
		method, path string
		body         any
		field        string
	}{
		{"GET", "/api/v1/board?limit=201", nil, "limit"},
		{"GET", "/api/v1/board?colour=red", nil, "colour"},
		{"GET", "/api/v1/board?cursor=not-a-cursor", nil, "cursor"},
		{"GET", "/api/v1/board/summary?limit=10", nil, "limit"},
		{"GET", "/api/v1/cases?limit=500", nil, "limit"},
		{"GET", "/api/v1/cases?release_within_days=99999", nil, "release_within_days"},
		{"POST", "/api/v1/cases/search", map[string]any{"q": strings.Repeat("x", 101)}, "q"},
		{"POST", "/api/v1/cases/search", map[string]any{"q": "smith", "limit": 1000}, "limit"},
	}
	var wrong []string
	for _, c := range checks {
		status, b, err := head.do(c.method, c.path, c.body, nil)
		if err != nil {
			return err
		}
		var p struct {
			Errors []struct {
				Field string `json:"field"`
			} `json:"errors"`
		}
		_ = json.Unmarshal(b, &p)
		named := false
		for _, fe := range p.Errors {
			named = named || fe.Field == c.field
		}
		if status != http.StatusUnprocessableEntity || !named {
			wrong = append(wrong, fmt.Sprintf("%s %s answered %d %s", c.method, c.path, status, trim(b)))
		}
	}
	r := Row{Scenario: name, Figure: "requests over the limits answer 422 naming the field",
		TG: fmt.Sprintf("%d of %d", len(checks)-len(wrong), len(checks)), Target: "all"}
	if len(wrong) > 0 {
		r.Note = strings.Join(wrong, "; ")
	}
	e.table.judge(r, len(wrong) == 0)

	dbs, err := s.DatabaseBytes(ctx)
	if err != nil {
		return err
	}
	e.table.add(Row{Scenario: name, Figure: "PostgreSQL data directory after the load", TG: mib(s.PGDataBytes()), Outcome: Info,
		Note: fmt.Sprintf("of which the throughgate database %s (cases, steps, board lines and their indexes)", mib(dbs["throughgate"]))})
	return nil
}

// walk follows next_cursor from path for pages pages and returns the
// cursor of the page after them.
func walk(c *apiClient, path string, pages int) (string, error) {
	cursor := ""
	for range pages {
		p := path
		if cursor != "" {
			p += "&cursor=" + url.QueryEscape(cursor)
		}
		var page struct {
			NextCursor string `json:"next_cursor"`
		}
		if err := c.get(p, &page); err != nil {
			return "", err
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	return cursor, nil
}

// openCases opens n cases through POST /api/v1/cases, conc at a time, as
// officer-1 at Pentonville, for people numbered from base; it returns
// their ids in order.
func openCases(ctx context.Context, c *apiClient, conc, n, base int) ([]string, error) {
	ids := make([]string, n)
	today := resettlement.DateOf(time.Now())
	err := parallel(ctx, n, conc, func(i int) error {
		req := openRequest(base+i, today)
		status, b, err := c.do("POST", "/api/v1/cases", req, map[string]string{"Idempotency-Key": fmt.Sprintf("bench-open-%d", base+i)})
		if err != nil {
			return err
		}
		if status != http.StatusCreated {
			return fmt.Errorf("POST /api/v1/cases: %d %s", status, trim(b))
		}
		var v struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		ids[i] = v.ID
		return nil
	})
	return ids, err
}

// openRequest is what an officer sends to open case i: received today,
// conditional release in 120 days.
func openRequest(i int, today resettlement.Date) casework.OpenRequest {
	return casework.OpenRequest{
		Person: personFor(i), Establishment: "PVI", Team: "pvi-resettlement", Owner: "officer-1",
		ReceivedOn: today, Dates: resettlement.ReleaseDates{CRD: today.AddDays(120)}}
}

// waitSaved waits until each case's workflow has saved it (SaveCase sets
// the version the opening left at 0).
func waitSaved(ctx context.Context, s *Stack, ids []string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		var saved int
		if err := s.Pool.QueryRow(ctx, `select count(*) from cases where id = any($1) and version >= 1`, ids).Scan(&saved); err != nil {
			return err
		}
		if saved == len(ids) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d cases not saved by their workflows after %s", len(ids)-saved, len(ids), within)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func pctOf(a, n int) float64 { return 100 * float64(a) / float64(max(n, 1)) }
