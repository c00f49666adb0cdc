package drill

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/throughgate/throughgate/internal/casework"
	"github.com/throughgate/throughgate/resettlement"
)

// fastPolicy is the ladder the drill runs on: the default ladder's rungs,
// which are working days apart, become seconds apart. A step whose due
// date has passed when the case opens (every window of a short sentence)
// is due 20 s after opening (the grace); its owner is reminded 15 s and
// 5 s before that, the team manager told 5 s after it, the head of
// service 15 s after it. So a case opened now raises its first reminders
// about 5 s later and its last escalations about 35 s later: one working
// day of the default ladder is about 5 s here (the default's first
// reminder to last escalation, 3 working days before due to 7 days after,
// spans ten days; this one spans 30 s).
const fastPolicy = `{
	"grace": {"duration": "20s"},
	"remind_before": {"duration": "-15s"},
	"remind_on_due": {"duration": "-5s"},
	"escalations": [{"duration": "5s"}, {"duration": "15s"}],
	"backstop": "2s"
}`

// ladderSpan is how long a case's alarms keep firing after it opens.
const ladderSpan = 36 * time.Second

// workDir is a directory the PostgreSQL server can reach, removed when the
// test passes and kept (its path logged) when it fails, for the logs.
func workDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "throughgate-drill-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the topology's logs and data are kept in %s", dir)
			return
		}
		_ = os.RemoveAll(dir)
	})
	return dir
}

// startTopology starts the topology for a test, stopping it when the test
// ends and printing every log's end if it failed.
func startTopology(t *testing.T, ctx context.Context) *Topology {
	t.Helper()
	dir := workDir(t)
	began := time.Now()
	topo, err := Start(ctx, Options{Dir: dir, Policy: fastPolicy, Vars: VarsFromEnv(), Logf: t.Logf})
	if err != nil {
		t.Fatalf("starting the topology: %v", err)
	}
	t.Logf("topology up in %s; on one host, compose's values changed only so: %s", time.Since(began).Round(100*time.Millisecond),
		strings.Join(topo.Translations, "; "))
	// Interrupted (Ctrl-C), stop the processes and PostgreSQL rather than
	// leave them running: the test's cleanups do not run then.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	stopped := make(chan struct{})
	go func() {
		select {
		case <-sig:
			fmt.Fprintln(os.Stderr, "drill: interrupted; stopping the topology")
			topo.Stop()
			os.Exit(1)
		case <-stopped:
		}
	}()
	t.Cleanup(func() {
		signal.Stop(sig)
		close(stopped)
		if t.Failed() {
			t.Logf("logs:\n%s", topo.Logs(25))
		}
		topo.Stop()
	})
	return topo
}

// openBody is a case at Pentonville owned by the drill's officer, for a
// person released target (CRD), received 60 days before today.
func openBody(prisonNumber string, today, target resettlement.Date) map[string]any {
	return map[string]any{
		"owner": Officer,
		"person": map[string]any{"prison_number": prisonNumber, "booking": "1", "given_name": "Sam", "family_name": "Example",
			"date_of_birth": "1990-05-17", "local_authority": "Islington"},
		"establishment": "PVI", "team": Team, "received_on": today.AddDays(-60).String(),
		"release_dates": map[string]any{"crd": target.String()},
	}
}

// openCase opens a case through the API, retrying with the same key until
// it is answered or within has passed, and returns its id.
func openCase(ctx context.Context, c *Client, prisonNumber string, target resettlement.Date, within time.Duration) (string, *Change, error) {
	today := resettlement.DateOf(time.Now())
	ch := c.Change(ctx, "/api/v1/cases", "open-"+prisonNumber, openBody(prisonNumber, today, target), within)
	if ch.Status != http.StatusCreated && ch.Status != http.StatusOK {
		return "", ch, fmt.Errorf("opening a case for %s: %s", prisonNumber, ch)
	}
	var v casework.CaseView
	if err := json.Unmarshal(ch.Body, &v); err != nil {
		return "", ch, err
	}
	return v.ID, ch, nil
}

// recordConsent records the person's consent to the housing authority's
// duty to refer, which completing the housing referral step needs.
func recordConsent(ctx context.Context, c *Client, caseID string, within time.Duration) error {
	ch := c.Change(ctx, "/api/v1/cases/"+caseID+"/consents", "consent-"+caseID, map[string]any{"purpose": "housing-referral"}, within)
	if ch.Status != http.StatusCreated && ch.Status != http.StatusOK {
		return fmt.Errorf("recording consent on case %s: %s", caseID, ch)
	}
	return nil
}

// act sends one action on a step, retried with its key until answered or
// within has passed, and requires it answered with 200.
func act(ctx context.Context, c *Client, caseID, step, action, key string, within time.Duration) (*Change, error) {
	ch := c.Change(ctx, "/api/v1/cases/"+caseID+"/steps/"+step+"/actions", key, map[string]any{"action": action}, within)
	if ch.Status != http.StatusOK {
		return ch, fmt.Errorf("%s %s on case %s: %s", action, step, caseID, ch)
	}
	return ch, nil
}

// prisonNumber makes the n-th distinct prison number of a run.
func prisonNumber(prefix byte, n int) string {
	return fmt.Sprintf("%c%04d%c%c", prefix, n%10000, 'A'+byte(n/10000%26), 'A'+byte(n%26))
}

// waitFor polls cond every 250 ms until it holds or within passes.
func waitFor(ctx context.Context, within time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		time.Sleep(250 * time.Millisecond)
	}
	return true
}
