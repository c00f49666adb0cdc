package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/throughgate/throughgate/drill"
	"github.com/throughgate/throughgate/workflows"
)

// runRealTemporal runs the board scenario's caseload as running workflows
// on a Temporal server built from go.temporal.io/server/cmd/server with
// PostgreSQL persistence, in the production shape package drill starts
// (its own processes: PostgreSQL, the Temporal server, `throughgate api`
// and a `throughgate worker`, configured as deploy/compose.yaml says).
// Each synthetic case is written to the read model and then started as
// its ReleaseCase workflow from its state (what fell due already raised)
// with its search attributes, as an opening starts one; the workflow's
// first task saves it and sleeps until its next alarm. It reports the load
// time, each process's memory, the databases' size and the board's p99 as
// the head of service.
func runRealTemporal(ctx context.Context, e *env, n int) error {
	const name = "temporal"
	dir, err := os.MkdirTemp("", "throughgate-bench-temporal-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := os.Chmod(dir, 0o755); err != nil {
		return err
	}
	// The API refuses an empty POLICY_FILE: "{}" is the default ladder.
	t, err := drill.Start(ctx, drill.Options{Dir: dir, Workers: 1, Policy: "{}", Logf: func(f string, a ...any) { e.logf("  drill: "+f, a...) }})
	if err != nil {
		e.logf("  the topology did not start: %v", err)
		e.table.add(Row{Scenario: name, Figure: "cases as workflows on cmd/server with PostgreSQL", Target: "report", Outcome: NotRun,
			Note: "the production-shaped topology (package drill) did not start: " + firstLine(err.Error())})
		return nil
	}
	defer t.Stop()
	if err := setUpTeams(ctx, t.DB); err != nil {
		return err
	}

	now := time.Now()
	began := time.Now()
	if _, err := loadSynthetic(ctx, t.DB, n, now, nil); err != nil {
		return err
	}
	readModel := time.Since(began)
	e.logf("  read model of %d cases in %s; starting their workflows", n, readModel.Round(time.Second))
	began = time.Now()
	var startedN atomic.Int64
	stopProgress := reportLoad(ctx, e, t, n, &startedN)
	defer stopProgress()
	err = parallel(ctx, n, 8, func(i int) error {
		c := synthesize(i, now).Case
		// Every search attribute, as an opening starts a case
		// (casework.startCase): the first task then upserts none unless its
		// alarms changed them.
		_, err := t.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.WorkflowID(c.ID), TaskQueue: workflows.TaskQueue,
			TypedSearchAttributes: workflows.StartAttributes(c, now),
		}, workflows.ReleaseCase, workflows.Input{State: c, Commands: workflows.CurrentCommands})
		startedN.Add(1)
		return err
	})
	if err != nil {
		return err
	}
	started := time.Since(began)
	var asleep int64
	for {
		resp, err := t.Client.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Namespace: t.Namespace,
			Query: asleepQuery})
		if err != nil {
			return err
		}
		asleep = resp.GetCount()
		if asleep >= int64(n) || time.Since(began) > 4*time.Hour {
			break
		}
		time.Sleep(2 * poll(e))
	}
	took := time.Since(began)
	stopProgress()
	e.table.add(Row{Scenario: name, Figure: fmt.Sprintf("start %s cases as workflows, until each sleeps on its timer", count(n)),
		TG: fmt.Sprintf("%s (%.0f cases/s)", secs(took), float64(n)/took.Seconds()), Target: "report", Outcome: Info,
		Note: fmt.Sprintf("%d asleep; starts answered in %s; the read model written first in %s; one worker process", asleep, secs(started), secs(readModel))})

	// Memory once the processes have settled after the load.
	if e.quick {
		time.Sleep(time.Second)
	} else {
		time.Sleep(10 * time.Second)
	}
	procs := []struct {
		what string
		pid  int
	}{{"Temporal server (cmd/server)", t.Temporal.Pid()}, {"throughgate api", t.API.Pid()}}
	for i, w := range t.Workers {
		procs = append(procs, struct {
			what string
			pid  int
		}{fmt.Sprintf("throughgate worker %d", i+1), w.Pid()})
	}
	for _, p := range procs {
		e.table.add(Row{Scenario: name, Figure: "RSS, " + p.what, TG: mib(rssOf(p.pid)), Target: "report", Outcome: Info})
	}
	pgPSS, pgProcs := postgresPSS(t.PG.Dir())
	e.table.add(Row{Scenario: name, Figure: "PSS, PostgreSQL (every process)", TG: mib(pgPSS), Target: "report", Outcome: Info,
		Note: fmt.Sprintf("%d processes; proportional set size, so shared buffers count once", pgProcs)})
	var sizes []string
	for _, db := range []string{"throughgate", "temporal", "temporal_visibility"} {
		var b int64
		if err := t.Pool.QueryRow(ctx, `select pg_database_size($1)`, db).Scan(&b); err != nil {
			return err
		}
		sizes = append(sizes, fmt.Sprintf("%s %s", db, mib(b)))
	}
	e.table.add(Row{Scenario: name, Figure: "database size", TG: strings.Join(sizes, ", "), Target: "report", Outcome: Info})

	tok, err := tokenFor(ctx, t.DB, "head-1")
	if err != nil {
		return err
	}
	head := newAPIClient(t.APIURL, tok, 2)
	samples := 300
	if e.quick {
		samples = 20
	}
	lat, err := latencies(samples, func(int) (int, []byte, error) { return head.do("GET", "/api/v1/board?limit=50", nil, nil) })
	if err != nil {
		return fmt.Errorf("board: %w", err)
	}
	p99 := pct(lat, 0.99)
	e.table.judge(Row{Scenario: name, Figure: "board, first page, p99 (head of service, the api process)",
		TG: fmt.Sprintf("%s (p50 %s)", ms(p99), ms(pct(lat, 0.5))), Target: "≤ 50.0 ms"}, p99 <= 50*time.Millisecond)
	return nil
}

// asleepQuery counts the cases whose first workflow task has completed:
// Temporal records the worker's build id in BuildIds (for an unversioned
// worker, the sentinel "unversioned") when a workflow's first task
// completes, and the task ends with the case saved and its timer set.
const asleepQuery = "WorkflowType = 'ReleaseCase' AND ExecutionStatus = 'Running' AND BuildIds = 'unversioned'"

// reportLoad logs the load's progress every half minute until stopped:
// the starts answered, the workflow tasks waiting in the case task queue
// for the worker (Temporal's approximate backlog), and the workflows
// visibility shows asleep, so a slow load says which of the three lags.
func reportLoad(ctx context.Context, e *env, t *drill.Topology, n int, started *atomic.Int64) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(30 * time.Second)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			backlog, asleep := int64(-1), int64(-1)
			if resp, err := t.Client.WorkflowService().DescribeTaskQueue(ctx, &workflowservice.DescribeTaskQueueRequest{Namespace: t.Namespace,
				TaskQueue:     &taskqueuepb.TaskQueue{Name: workflows.TaskQueue, Kind: enumspb.TASK_QUEUE_KIND_NORMAL},
				TaskQueueType: enumspb.TASK_QUEUE_TYPE_WORKFLOW, ReportStats: true}); err == nil {
				backlog = resp.GetStats().GetApproximateBacklogCount()
			}
			if resp, err := t.Client.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Namespace: t.Namespace,
				Query: asleepQuery}); err == nil {
				asleep = resp.GetCount()
			}
			e.logf("  started %d of %d; workflow tasks waiting %d; asleep (visibility) %d", started.Load(), n, backlog, asleep)
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { cancel(); <-done }) }
}

// postgresPSS sums the proportional set size of the PostgreSQL server whose
// data directory is dir: the postmaster and its children.
func postgresPSS(dir string) (int64, int) {
	b, err := os.ReadFile(filepath.Join(dir, "postmaster.pid"))
	if err != nil {
		return 0, 0
	}
	master, _ := strconv.Atoi(strings.SplitN(string(b), "\n", 2)[0])
	pids := []int{master}
	entries, _ := os.ReadDir("/proc")
	for _, en := range entries {
		pid, err := strconv.Atoi(en.Name())
		if err != nil || pid == master {
			continue
		}
		if ppidOf(pid) == master {
			pids = append(pids, pid)
		}
	}
	var sum int64
	for _, pid := range pids {
		sum += smapsField(pid, "Pss:")
	}
	return sum, len(pids)
}

func ppidOf(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// pid (comm) state ppid ...: comm may hold spaces, so count from its ')'.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(f[1])
	return ppid
}

// smapsField reads a kB field of /proc/PID/smaps_rollup, in bytes.
func smapsField(pid int, field string) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
