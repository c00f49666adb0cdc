// Command bench runs issue 11's benchmarks against Throughgate's own dev
// stack and prints one table: each figure for Throughgate, the same figure
// for bare Temporal on the same server in the same run where there is
// one, their ratio, the target, and pass or fail.
//
//	go run ./bench                          # every scenario at full size (make bench)
//	go run ./bench -scenario board          # one scenario
//	go run ./bench -scenario board -n 20000 # a smaller size: figures, no verdicts
//
// Scenarios (README, "Performance", says what each measures and its last
// full-size result):
//
//	board     the board, its summary, the case list, search and the case page
//	          as a head of service over 300,000 cases in the read model
//	onboard   opening cases through POST /api/v1/cases against bare workflows
//	          doing the same Temporal work, and the bulk path: one CSV
//	          file through POST /api/v1/imports
//	caseload  30,000 open cases on `throughgate dev`: memory and disk after
//	          loading and after a restart, then the 09:00 peak, every case's
//	          reminder due at one instant, against as many bare timers
//	temporal  the same 300,000 cases as workflows on a separate Temporal
//	          server (cmd/server on PostgreSQL)
//
// Each scenario starts its own `throughgate dev` (built with -tags dev
// into .cache/bench/, or -bin) on free loopback ports with a fresh data
// directory, and removes it afterwards. Sizes below a scenario's full size
// give a quick run: every figure is measured and the table printed, but no
// target is judged, the scenarios share one stack, and their waits are
// cut to seconds (the tests run it at -n 30, in about a minute on an idle
// machine). A full-size run that misses a target says which figure fell
// short and exits 1.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"
)

// scenario is one benchmark: its full size, and what it runs.
type scenario struct {
	name string
	size int // the size; smaller is a quick run
	run  func(ctx context.Context, e *env, n int) error
	// shares says the scenario runs on a stack with the default settings,
	// which a quick run shares (env.stack); they come first.
	shares bool
}

var scenarios = []scenario{
	{"board", 300_000, runBoard, true},
	{"onboard", 5_000, runOnboard, true},
	{"caseload", 30_000, runCaseload, false},
	{"temporal", 300_000, runRealTemporal, false},
}

// env is what every scenario shares.
type env struct {
	bin   string // the dev binary
	table *Table
	quick bool // this scenario runs below its full size
	keep  bool // load the board scenario, then leave its stack running to look into
	log   io.Writer

	// shared is the one `throughgate dev` the scenarios of a quick run
	// that take the default settings share (board, onboard), started by
	// the first that asks (stack). A full-size run gives each scenario a
	// fresh one, so that no scenario's cases weigh on another's figures.
	shared *Stack
}

// stack is a running `throughgate dev` for a scenario, with the settings
// env beyond the defaults, and a function to call when the scenario is
// done with it. In a quick run the scenarios that take the defaults share
// one, closed at the end of the run; otherwise each scenario starts its
// own and closes it when it is done.
func (e *env) stack(ctx context.Context, env map[string]string) (*Stack, func(), error) {
	if !e.quick || len(env) > 0 {
		s, err := StartStack(ctx, e.bin, env)
		if err != nil {
			return nil, nil, err
		}
		return s, s.Close, nil
	}
	if e.shared == nil {
		s, err := StartStack(ctx, e.bin, nil)
		if err != nil {
			return nil, nil, err
		}
		e.shared = s
		e.logf("  the quick run's shared stack is ready (started in %s)", s.Started.Round(100*time.Millisecond))
	}
	return e.shared, func() {}, nil
}

func (e *env) logf(format string, args ...any) {
	fmt.Fprintf(e.log, "%s  "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

// Options are the command's flags.
type Options struct {
	Scenarios []string // empty: all
	N         int      // 0: each scenario's full size
	Bin       string   // a dev binary already built; "": build one
	Keep      bool     // load the board scenario, then keep its stack until interrupted
	Log       io.Writer
}

// Run runs the scenarios and returns the table. A scenario that fails to
// run (not one that misses a target) is an error; the rows so far are kept.
func Run(ctx context.Context, o Options) (*Table, error) {
	if o.Log == nil {
		o.Log = io.Discard
	}
	t := &Table{}
	e := &env{table: t, log: o.Log, keep: o.Keep}
	var err error
	if e.bin, err = buildDev(ctx, o.Bin, e.logf); err != nil {
		return t, err
	}
	closeShared := func() {
		if e.shared != nil {
			e.shared.Close()
			e.shared = nil
		}
	}
	defer closeShared()
	for _, s := range scenarios {
		if len(o.Scenarios) > 0 && !slices.Contains(o.Scenarios, s.name) {
			continue
		}
		if !s.shares {
			closeShared() // no other scenario's stack runs beside this one's
		}
		n := s.size
		if o.N > 0 {
			n = o.N
		}
		e.quick = n < s.size
		t.Quick = t.Quick || e.quick
		e.logf("scenario %s, n=%d%s", s.name, n, map[bool]string{true: " (quick: no verdicts)"}[e.quick])
		began := time.Now()
		busy0, cores := machineBusy()
		own0, load0 := ownCPU(), loadAverage()
		if err := s.run(ctx, e, n); err != nil {
			return t, fmt.Errorf("scenario %s: %w", s.name, err)
		}
		took := time.Since(began)
		busy1, _ := machineBusy()
		others := (busy1 - busy0 - (ownCPU() - own0)).Seconds() / took.Seconds()
		t.add(Row{Scenario: s.name, Figure: "the machine's other work while this ran", Outcome: Info,
			TG: fmt.Sprintf("%.1f of %d cores", max(others, 0), cores),
			Note: fmt.Sprintf("processor time of every process not started by this benchmark, over its %s; load average %s at the start, %s at the end",
				took.Round(time.Second), load0, loadAverage())})
		e.logf("scenario %s done in %s", s.name, took.Round(time.Second))
	}
	return t, nil
}

func main() {
	var (
		scen = flag.String("scenario", "", "comma-separated scenarios to run: "+names()+" (default: all)")
		n    = flag.Int("n", 0, "size of each scenario (default: each one's full size)")
		bin  = flag.String("bin", "", "a dev binary already built (make build-dev: bin/throughgate-dev); default: build one into .cache/bench")
		md   = flag.Bool("markdown", false, "print the table as Markdown too, for README")
		keep = flag.Bool("keep", false, "load the board scenario's cases, then keep its stack running (its database URL and a head of service's token printed) until interrupted, instead of measuring")
	)
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	o := Options{N: *n, Bin: *bin, Keep: *keep, Log: os.Stderr}
	if *scen != "" {
		for _, s := range strings.Split(*scen, ",") {
			if !slices.ContainsFunc(scenarios, func(x scenario) bool { return x.name == s }) {
				fmt.Fprintf(os.Stderr, "bench: no scenario %q (there are %s)\n", s, names())
				os.Exit(2)
			}
			o.Scenarios = append(o.Scenarios, s)
		}
	}
	t, err := Run(ctx, o)
	fmt.Println()
	t.Print(os.Stdout)
	if *md {
		fmt.Println()
		t.Markdown(os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "\nbench:", err)
		os.Exit(2)
	}
	if failed := t.Failed(); len(failed) > 0 {
		fmt.Fprintln(os.Stderr, "\nbench: targets missed:")
		for _, r := range failed {
			fmt.Fprintf(os.Stderr, "  %s / %s: %s, target %s\n", r.Scenario, r.Figure, r.TG, r.Target)
		}
		os.Exit(1)
	}
}

func names() string {
	var out []string
	for _, s := range scenarios {
		out = append(out, s.name)
	}
	return strings.Join(out, ", ")
}
