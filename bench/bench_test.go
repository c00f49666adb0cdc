package main

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestQuickRun runs every scenario at n=30 against real stacks — the form
// CI runs: it checks that the harness works, that every scenario runs and
// that the table comes out with every figure, not how fast anything is (a
// quick run judges no target). The scenarios share one `throughgate dev`
// (the temporal scenario runs its own production-shaped topology) and wait
// seconds, not minutes. `go run ./bench` is the full-size run.
func TestQuickRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a dev stack and a Temporal server topology: not in -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var log strings.Builder
	began := time.Now()
	table, err := Run(ctx, Options{N: 30, Log: &log})
	t.Logf("the quick run took %s", time.Since(began).Round(100*time.Millisecond))
	var out strings.Builder
	table.Print(&out)
	t.Logf("progress:\n%s\ntable:\n%s", log.String(), out.String())
	if err != nil {
		t.Fatal(err)
	}
	if !table.Quick {
		t.Error("a run at n=30 is not marked quick")
	}
	want := map[string][]string{
		"board":    {"board, first page", "board summary", "case list, first page", "search, by name", "case page with its live state", "422"},
		"onboard":  {"POST /api/v1/cases to workflow asleep", "bulk path: import", "bulk path: dry run"},
		"caseload": {"RSS with", "RSS after a restart", "PostgreSQL data directory", "emails handed to SMTP", "lateness p99"},
		"temporal": {"cases as workflows, until each sleeps", "RSS, Temporal server (cmd/server)", "RSS, throughgate worker", "PSS, PostgreSQL", "database size", "board, first page"},
	}
	for scenario, figures := range want {
		for _, f := range figures {
			found := false
			for _, r := range table.Rows {
				found = found || r.Scenario == scenario && strings.Contains(r.Figure, f)
			}
			if !found {
				t.Errorf("no %s row for %q", scenario, f)
			}
		}
	}
	for _, r := range table.Rows {
		switch r.Outcome {
		case Pass, Fail:
			t.Errorf("%s / %s judged %s in a quick run", r.Scenario, r.Figure, r.Outcome)
		case Checked:
			if r.TG == "" {
				t.Errorf("%s / %s has no figure", r.Scenario, r.Figure)
			}
		case NotRun, NotBuilt:
			// Every scenario runs: a step that could not is a fault of the
			// harness or of what it measures (the topology not starting).
			t.Errorf("%s / %s %s: %s", r.Scenario, r.Figure, r.Outcome, r.Note)
		}
	}
}
