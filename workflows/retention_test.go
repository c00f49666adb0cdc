package workflows

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/testsuite"
)

// sweeper stands in for the retention activity, noting what it is asked.
type sweeper struct {
	calls []time.Time
	fail  int // fail this many times first
}

func (s *sweeper) AnonymiseClosedCases(_ context.Context, at time.Time) (int, error) {
	s.calls = append(s.calls, at)
	if len(s.calls) <= s.fail {
		return 0, errors.New("database unavailable")
	}
	return 3, nil
}

func runSweep(t *testing.T, s *sweeper, in RetentionInput) (RetentionResult, error) {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.SetStartTime(start)
	env.RegisterWorkflow(RetentionSweep)
	env.RegisterActivityWithOptions(s.AnonymiseClosedCases, activity.RegisterOptions{Name: ActivityAnonymiseClosedCases})
	env.ExecuteWorkflow(RetentionSweep, in)
	if !env.IsWorkflowCompleted() {
		t.Fatal("the sweep did not complete")
	}
	var out RetentionResult
	err := env.GetWorkflowError()
	if err == nil {
		err = env.GetWorkflowResult(&out)
	}
	return out, err
}

// The schedule's sweep runs as of the workflow's own clock and passes the
// activity an instant only; an operator's sweep names its instant.
func TestRetentionSweepAsOfItsStart(t *testing.T) {
	s := &sweeper{}
	out, err := runSweep(t, s, RetentionInput{})
	if err != nil {
		t.Fatal(err)
	}
	if out.Anonymised != 3 || len(s.calls) != 1 || !s.calls[0].Equal(start) {
		t.Errorf("result %+v, calls %v; want 3 anonymised as of %s", out, s.calls, start)
	}
	asOf := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	s = &sweeper{}
	if _, err := runSweep(t, s, RetentionInput{At: asOf}); err != nil || len(s.calls) != 1 || !s.calls[0].Equal(asOf) {
		t.Errorf("named instant: calls %v, %v; want one as of %s", s.calls, err, asOf)
	}
}

// A failing database is retried, with the same instant.
func TestRetentionSweepRetries(t *testing.T) {
	s := &sweeper{fail: 2}
	out, err := runSweep(t, s, RetentionInput{})
	if err != nil {
		t.Fatal(err)
	}
	if out.Anonymised != 3 || len(s.calls) != 3 || !s.calls[0].Equal(s.calls[2]) {
		t.Errorf("result %+v after calls %v; want 3 after two retries as of one instant", out, s.calls)
	}
}
