package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/throughgate/throughgate/internal/app"
	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/config"
	"github.com/throughgate/throughgate/internal/postgres"
)

// buildDev builds the binary `make run` runs (cmd/throughgate with the
// build tag dev) into .cache/bench/, unless bin names one already built.
// `go build` leaves an up-to-date binary alone, so after the first build
// this takes seconds.
func buildDev(ctx context.Context, bin string, logf func(string, ...any)) (string, error) {
	if bin != "" {
		return filepath.Abs(bin)
	}
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(out)))
	bin = filepath.Join(root, ".cache", "bench", "throughgate-dev")
	began := time.Now()
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", "dev", "-o", bin, "./cmd/throughgate")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building the dev binary: %w\n%s", err, b)
	}
	logf("dev binary built or up to date in %s: %s", time.Since(began).Round(100*time.Millisecond), bin)
	return bin, nil
}

// Stack is `throughgate dev` run as its own process, as a developer runs
// it, on free loopback ports with a data directory of its own: the
// process whose memory the caseload scenario measures. The harness
// reaches its PostgreSQL (to bulk-load, count and size), its Temporal
// frontend (for the bare workflows) and its HTTP API.
type Stack struct {
	Bin, Dir string
	Env      map[string]string // beyond the harness's own, minus every setting's variable
	URL      string            // the API's base address
	Temporal string            // host:port of the embedded Temporal frontend
	PGURL    string            // throughgate's database
	PGPort   int
	Started  time.Duration // how long the first start took, until ready

	DB   *postgres.DB  // the application's statements (bulk load, tokens, teams)
	Pool *pgxpool.Pool // the harness's own counts and sizes

	args []string
	pid  atomic.Int64 // of the running process, 0 between runs
	cmd  *exec.Cmd
	done chan error
	log  string
}

// StartStack starts `throughgate dev` with default settings except the
// ports, the data directory and env, and waits until /readyz says ready.
func StartStack(ctx context.Context, bin string, env map[string]string) (*Stack, error) {
	dir, err := os.MkdirTemp("", "throughgate-bench-")
	if err != nil {
		return nil, err
	}
	// Traversable by the postgres user, which the private cluster runs as
	// when the harness runs as root.
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, err
	}
	ports, err := freePorts(4)
	if err != nil {
		return nil, err
	}
	s := &Stack{Bin: bin, Dir: dir, Env: env, PGPort: ports[1], log: filepath.Join(dir, "throughgate.log"),
		URL: fmt.Sprintf("http://127.0.0.1:%d", ports[0]), Temporal: fmt.Sprintf("127.0.0.1:%d", ports[2])}
	s.PGURL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/throughgate?sslmode=disable", s.PGPort)
	s.args = []string{"dev", "--data-dir", filepath.Join(dir, "data"),
		"--http-addr", fmt.Sprintf("127.0.0.1:%d", ports[0]), "--pg-port", strconv.Itoa(ports[1]),
		"--temporal-port", strconv.Itoa(ports[2]), "--temporal-ui-port", "0",
		"--smtp-addr", fmt.Sprintf("127.0.0.1:%d", ports[3]), "--log-level", "warn"}
	began := time.Now()
	if err := s.start(ctx); err != nil {
		s.Close()
		return nil, err
	}
	s.Started = time.Since(began)
	if s.DB, err = postgres.Open(ctx, s.PGURL); err != nil {
		s.Close()
		return nil, err
	}
	if s.Pool, err = pgxpool.New(ctx, s.PGURL); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// start runs the process and waits for readiness.
func (s *Stack) start(ctx context.Context) error {
	logf, err := os.OpenFile(s.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(s.Bin, s.args...)
	cmd.Env = stackEnv(s.Env)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own process group, and killed if the harness dies.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return err
	}
	s.cmd, s.done = cmd, make(chan error, 1)
	s.pid.Store(int64(cmd.Process.Pid))
	go func() { s.done <- cmd.Wait(); logf.Close() }()

	deadline := time.Now().Add(5 * time.Minute)
	for {
		select {
		case err := <-s.done:
			s.done <- err
			return fmt.Errorf("throughgate dev exited before it was ready: %v\n%s", err, tail(s.log, 30))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if resp, err := http.Get(s.URL + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("throughgate dev not ready after 5 minutes\n%s", tail(s.log, 30))
		}
	}
}

// stackEnv is the harness's environment without any of Throughgate's
// settings (so the stack runs with its defaults), plus env.
func stackEnv(env map[string]string) []string {
	settings := map[string]bool{}
	for _, st := range config.Settings {
		settings[st.Env] = true
	}
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if !settings[k] && !strings.HasPrefix(k, "TEMPORAL_") && !strings.HasPrefix(k, "OTEL_") {
			out = append(out, kv)
		}
	}
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return out
}

// Stop stops the process as Ctrl-C does, and waits for it.
func (s *Stack) Stop() error {
	if s.cmd == nil {
		return nil
	}
	_ = s.cmd.Process.Signal(os.Interrupt)
	var err error
	select {
	case err = <-s.done:
	case <-time.After(2 * time.Minute):
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		err = <-s.done
	}
	s.cmd = nil
	s.pid.Store(0)
	return err
}

// Restart stops the process and starts it again on the same data.
func (s *Stack) Restart(ctx context.Context) error {
	if err := s.Stop(); err != nil {
		return fmt.Errorf("stopping throughgate dev: %w", err)
	}
	return s.start(ctx)
}

// Close stops the process and removes its data.
func (s *Stack) Close() {
	if s.Pool != nil {
		s.Pool.Close()
	}
	if s.DB != nil {
		s.DB.Close()
	}
	_ = s.Stop()
	if pg, err := filepath.EvalSymlinks(filepath.Join(s.Dir, "data", "postgres")); err == nil && !strings.HasPrefix(pg, s.Dir) {
		_ = os.RemoveAll(pg) // as root the cluster lives elsewhere, linked from the data directory
	}
	_ = os.RemoveAll(s.Dir)
}

// RSS is the resident set of the throughgate process, in bytes.
func (s *Stack) RSS() int64 {
	pid := s.pid.Load()
	if pid == 0 {
		return 0
	}
	return rssOf(int(pid))
}

// rssOf reads VmRSS from /proc/PID/status.
func rssOf(pid int) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// PGDataBytes is the size on disk of the private PostgreSQL's data
// directory: every database (Throughgate's and Temporal's two) and the WAL.
func (s *Stack) PGDataBytes() int64 {
	dir, err := filepath.EvalSymlinks(filepath.Join(s.Dir, "data", "postgres"))
	if err != nil {
		return 0
	}
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// DatabaseBytes is what pg_database_size says of each database (no WAL).
func (s *Stack) DatabaseBytes(ctx context.Context) (map[string]int64, error) {
	rows, err := s.Pool.Query(ctx, `select datname, pg_database_size(datname) from pg_database where not datistemplate`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var name string
		var n int64
		if err := rows.Scan(&name, &n); err != nil {
			return nil, err
		}
		out[name] = n
	}
	return out, rows.Err()
}

// Token makes a personal access token for a member of staff straight in
// the database, as POST /api/v1/tokens would after a sign-in (with its
// second factor, for a head of service), and returns its secret.
func (s *Stack) Token(ctx context.Context, staffID string) (string, error) {
	return tokenFor(ctx, s.DB, staffID)
}

func tokenFor(ctx context.Context, db *postgres.DB, staffID string) (string, error) {
	plain, hash := auth.NewSecret(auth.TokenPrefix)
	exp := time.Now().Add(24 * time.Hour)
	_, err := db.CreateToken(ctx, staffID, "bench", hash, &exp)
	return plain, err
}

// Dial connects a Temporal client to the stack's embedded server as the
// stack's own client does — uncompressed, sealing payloads with the stack's
// payload key — so the bare workflows pay for Temporal what its cases pay.
func (s *Stack) Dial(ctx context.Context) (client.Client, error) {
	opts := client.Options{HostPort: s.Temporal, Namespace: "default",
		Logger:            sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler)),
		ConnectionOptions: client.ConnectionOptions{GrpcCompression: &client.GrpcCompressionNone{}}}
	if b, err := os.ReadFile(filepath.Join(s.Dir, "data", "payload-keys")); err == nil {
		c, err := app.PayloadCodec(strings.TrimSpace(string(b)))
		if err != nil {
			return nil, err
		}
		if c != nil {
			opts.DataConverter = c.DataConverter()
		}
	}
	return client.DialContext(ctx, opts)
}

// freePorts finds n ports nothing listens on, distinct from one another.
func freePorts(n int) ([]int, error) {
	var ports []int
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	for len(ports) < n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		lns = append(lns, ln)
		p := ln.Addr().(*net.TCPAddr).Port
		if !slices.Contains(ports, p) {
			ports = append(ports, p)
		}
	}
	return ports, nil
}

// tail returns the last n lines of a file.
func tail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	b, _ := io.ReadAll(f)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

var errSkip = errors.New("skipped")

// CPU is the processor time, user and system, that the stack's processes
// (throughgate, its PostgreSQL and every child they reaped) and this
// harness have used so far. Differences of it measure work done whatever
// else the machine is running, which wall-clock rates do not.
func (s *Stack) CPU() time.Duration {
	return treeCPU(int(s.pid.Load())) + treeCPU(os.Getpid())
}

// CPUSplit is CPU in its three parts: the throughgate process itself
// (Temporal server, worker, API), its PostgreSQL (every descendant), and
// this harness.
func (s *Stack) CPUSplit() (tg, pg, harness time.Duration) {
	pid := int(s.pid.Load())
	if pid != 0 {
		all := treeCPU(pid)
		tg = time.Duration(cpuTicksSelf(pid)) * time.Second / 100
		pg = all - tg
	}
	return tg, pg, treeCPU(os.Getpid())
}

// cpuTicksSelf is a process's own utime+stime.
func cpuTicksSelf(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return u + st
}

// treeCPU sums utime, stime, cutime and cstime over pid and its living
// descendants other than this process's (each counted once).
func treeCPU(root int) time.Duration {
	if root == 0 {
		return 0
	}
	children := map[int][]int{}
	entries, _ := os.ReadDir("/proc")
	for _, en := range entries {
		pid, err := strconv.Atoi(en.Name())
		if err != nil {
			continue
		}
		if pp := ppidOf(pid); pp != 0 {
			children[pp] = append(children[pp], pid)
		}
	}
	var ticks int64
	var walk func(pid int)
	walk = func(pid int) {
		ticks += cpuTicks(pid)
		for _, c := range children[pid] {
			if pid == os.Getpid() {
				continue // the harness's children are stacks, counted on their own
			}
			walk(c)
		}
	}
	walk(root)
	return time.Duration(ticks) * time.Second / 100 // USER_HZ
}

// cpuTicks reads utime+stime (and cutime+cstime, the reaped children's,
// unless the process is the harness) from /proc/PID/stat.
func cpuTicks(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	// After the comm: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14).
	if len(f) < 15 {
		return 0
	}
	var sum int64
	last := 14
	if pid == os.Getpid() {
		last = 12 // the harness reaps go build and stacks: not its own work
	}
	for i := 11; i <= last; i++ {
		v, _ := strconv.ParseInt(f[i], 10, 64)
		sum += v
	}
	return sum
}

// machineBusy is the processor time every process on the machine has used
// (all of /proc/stat but idle and iowait), and cores the number of cores.
func machineBusy() (busy time.Duration, cores int) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	var ticks int64
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if f[0] == "cpu" {
			for i, v := range f[1:] {
				if i == 3 || i == 4 { // idle, iowait
					continue
				}
				if i >= 8 { // guest time is already in user
					break
				}
				n, _ := strconv.ParseInt(v, 10, 64)
				ticks += n
			}
		} else if strings.HasPrefix(f[0], "cpu") {
			cores++
		}
	}
	return time.Duration(ticks) * time.Second / 100, cores
}

// ownCPU is the processor time this harness and everything it started
// (stacks, their PostgreSQL, builds) have used, living or reaped.
func ownCPU() time.Duration {
	self := os.Getpid()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", self))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	var ticks int64
	for i := 11; i <= 14 && i < len(f); i++ {
		v, _ := strconv.ParseInt(f[i], 10, 64)
		ticks += v
	}
	own := time.Duration(ticks) * time.Second / 100
	children := map[int][]int{}
	entries, _ := os.ReadDir("/proc")
	for _, en := range entries {
		if pid, err := strconv.Atoi(en.Name()); err == nil {
			if pp := ppidOf(pid); pp != 0 {
				children[pp] = append(children[pp], pid)
			}
		}
	}
	for _, c := range children[self] {
		own += treeCPU(c)
	}
	return own
}

// loadAverage is the one-minute load average.
func loadAverage() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}
