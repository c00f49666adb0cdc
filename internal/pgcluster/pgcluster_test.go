//go:build unix

package pgcluster

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// These tests run real PostgreSQL servers. On a machine without the server
// binaries they fail (deliberately, rather than skip): run .ci/ensure-postgres.

func requireBinaries(t *testing.T) {
	t.Helper()
	if _, err := FindBinaries(); err != nil {
		t.Fatalf("%v\n(on a fresh machine, run .ci/ensure-postgres)", err)
	}
}

// testOptions returns options for a fresh cluster on a free port.
func testOptions(t *testing.T) Options {
	t.Helper()
	requireBinaries(t)
	base := t.TempDir()
	if os.Geteuid() == 0 {
		// t.TempDir's directories are 0700 and owned by root; the server
		// runs as postgres and must be able to traverse them.
		for _, d := range []string{base, filepath.Dir(base)} {
			if err := os.Chmod(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	return Options{
		Dir:    filepath.Join(base, "postgres"),
		Port:   freePort(t),
		Logger: slog.New(slog.NewTextHandler(testWriter{t}, nil)),
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func start(t *testing.T, opts Options) *Cluster {
	t.Helper()
	c, err := Start(ctxFor(t), opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Stop(context.Background()); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return c
}

func connect(t *testing.T, c *Cluster, db string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(ctxFor(t), c.URL(db))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func insertRow(t *testing.T, c *Cluster, value string) {
	t.Helper()
	ctx := ctxFor(t)
	if err := c.CreateDatabase(ctx, "app"); err != nil {
		t.Fatal(err)
	}
	conn := connect(t, c, "app")
	if _, err := conn.Exec(ctx, "CREATE TABLE IF NOT EXISTS notes (body text)"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "INSERT INTO notes VALUES ($1)", value); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
}

func requireRow(t *testing.T, c *Cluster, value string) {
	t.Helper()
	var n int
	err := connect(t, c, "app").QueryRow(ctxFor(t), "SELECT count(*) FROM notes WHERE body = $1", value).Scan(&n)
	if err != nil || n != 1 {
		t.Fatalf("looking for row %q: count %d, err %v", value, n, err)
	}
}

func TestStartStopRestart(t *testing.T) {
	opts := testOptions(t)

	t0 := time.Now()
	c := start(t, opts)
	first := time.Since(t0)

	// URL names the socket in the data directory; TCP on 127.0.0.1 is open too.
	socketURL := "postgres://postgres@/temporal?" + url.Values{"host": {c.Dir()}, "port": {strconv.Itoa(opts.Port)}, "sslmode": {"disable"}}.Encode()
	if got := c.URL("temporal"); got != socketURL {
		t.Errorf("URL = %q, want %q", got, socketURL)
	}
	for _, u := range []string{c.URL("postgres"), fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", opts.Port)} {
		conn, err := pgx.Connect(ctxFor(t), u)
		if err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		var tcp bool // inet_server_addr is null on a Unix socket
		if err := conn.QueryRow(ctxFor(t), "SELECT inet_server_addr() IS NOT NULL").Scan(&tcp); err != nil {
			t.Fatal(err)
		}
		conn.Close(ctxFor(t))
		if want := !strings.Contains(u, "host="); tcp != want {
			t.Errorf("%s: connected over TCP %v, want %v", u, tcp, want)
		}
	}
	if c.Host() != "127.0.0.1" || c.Port() != opts.Port || c.User() != "postgres" {
		t.Errorf("Host/Port/User = %s/%d/%s", c.Host(), c.Port(), c.User())
	}
	if err := c.CreateDatabase(ctxFor(t), "app"); err != nil {
		t.Fatal(err)
	}
	insertRow(t, c, "survives restart") // calls CreateDatabase again: idempotent

	var maxConn, buffers, fsync, encoding string
	err := connect(t, c, "app").QueryRow(ctxFor(t),
		"SELECT current_setting('max_connections'), current_setting('shared_buffers'), current_setting('fsync'), current_setting('server_encoding')").
		Scan(&maxConn, &buffers, &fsync, &encoding)
	if err != nil {
		t.Fatal(err)
	}
	if maxConn != "200" || buffers != "128MB" || fsync != "on" || encoding != "UTF8" {
		t.Errorf("settings: max_connections=%s shared_buffers=%s fsync=%s encoding=%s", maxConn, buffers, fsync, encoding)
	}

	if err := c.Stop(ctxFor(t)); err != nil {
		t.Fatal(err)
	}
	if err := c.Stop(ctxFor(t)); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if _, err := os.Stat(filepath.Join(opts.Dir, "postmaster.pid")); !os.IsNotExist(err) {
		t.Errorf("postmaster.pid still there after Stop: %v", err)
	}

	t0 = time.Now()
	c = start(t, opts)
	second := time.Since(t0)
	requireRow(t, c, "survives restart")

	t.Logf("first Start (initdb + start): %v; second Start: %v", first.Round(time.Millisecond), second.Round(time.Millisecond))
	time.Sleep(2 * time.Second) // let autovacuum and the checkpointer settle
	logMemory(t, c.pid)
}

// logMemory reports the memory of the postmaster and its children. RSS
// counts shared buffers once per process that touched them, so PSS (shared
// pages divided among their users) is the honest total.
func logMemory(t *testing.T, pid int) {
	pids := []int{pid}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if len(fields) > 1 && fields[1] == strconv.Itoa(pid) {
			pids = append(pids, child)
		}
	}
	var rss, pss int
	for _, p := range pids {
		rss += procKB(t, fmt.Sprintf("/proc/%d/status", p), "VmRSS:")
		pss += procKB(t, fmt.Sprintf("/proc/%d/smaps_rollup", p), "Pss:")
	}
	t.Logf("idle server: %d processes, RSS sum %.1f MiB, PSS sum %.1f MiB", len(pids), float64(rss)/1024, float64(pss)/1024)
}

func procKB(t *testing.T, path, key string) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if f := strings.Fields(s.Text()); len(f) >= 2 && f[0] == key {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	return 0
}

func TestReuseRunningServer(t *testing.T) {
	opts := testOptions(t)
	c1 := start(t, opts)
	insertRow(t, c1, "one")

	// As if throughgate had crashed and been started again.
	c2 := start(t, opts)
	if c2.pid != c1.pid {
		t.Fatalf("second Start launched a new server (pid %d) instead of reusing %d", c2.pid, c1.pid)
	}
	requireRow(t, c2, "one")

	// A different port restarts the running server on it.
	opts.Port = freePort(t)
	c3 := start(t, opts)
	if c3.pid == c1.pid {
		t.Fatalf("server was not restarted for the new port")
	}
	requireRow(t, c3, "one")
	select {
	case <-c1.proc.done:
	case <-time.After(10 * time.Second):
		t.Fatal("old server still running")
	}
	// c1 and c2 refer to a server that is gone: stopping them is harmless.
	if err := c2.Stop(ctxFor(t)); err != nil {
		t.Fatal(err)
	}
	if err := c1.Stop(ctxFor(t)); err != nil {
		t.Fatal(err)
	}
	requireRow(t, c3, "one")
}

func TestCrashRecovery(t *testing.T) {
	opts := testOptions(t)
	c := start(t, opts)

	// Only the postmaster dies. Its children keep the old shared memory
	// attached, which postgres refuses to start alongside, and a backend
	// busy with a query (this one would run for many minutes) does not
	// notice its postmaster's death until the query ends.
	insertRow(t, c, "before kill -9 of postmaster")
	busy := connect(t, c, "postgres")
	go busy.Exec(context.Background(), "SELECT count(*) FROM (SELECT generate_series(1, 10000000000)) s")
	t.Cleanup(func() {
		for _, pid := range procOrphans(c.dir, c.bins.path("postgres")) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	time.Sleep(300 * time.Millisecond)
	if err := syscall.Kill(c.pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-c.proc.done
	t0 := time.Now()
	c = start(t, opts)
	t.Logf("restart after kill -9 of the postmaster took %v", time.Since(t0).Round(time.Millisecond))
	requireRow(t, c, "before kill -9 of postmaster")

	// The whole server dies at once, like an OOM kill or power cut as far
	// as the data directory is concerned: a stale postmaster.pid remains.
	insertRow(t, c, "before kill -9 of all")
	if err := syscall.Kill(-c.pid, syscall.SIGKILL); err != nil { // its session's process group
		t.Fatal(err)
	}
	<-c.proc.done
	if _, err := os.Stat(filepath.Join(opts.Dir, "postmaster.pid")); err != nil {
		t.Fatalf("expected a stale postmaster.pid: %v", err)
	}
	c = start(t, opts)
	requireRow(t, c, "before kill -9 of all")
}

// After a reboot, the pid recorded in postmaster.pid may belong to an
// unrelated live process; postgres would refuse to start.
func TestStaleLockWithRecycledPid(t *testing.T) {
	opts := testOptions(t)
	c := start(t, opts)
	insertRow(t, c, "x")
	if err := c.Stop(ctxFor(t)); err != nil {
		t.Fatal(err)
	}

	// The impostor runs as the server's user, so that postgres's own check
	// (kill(pid, 0)) would see it as alive.
	impostor := exec.Command("sleep", "60")
	impostor.Dir = "/"
	impostor.SysProcAttr = sysProcAttr(c.acct, false)
	if err := impostor.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { impostor.Process.Kill(); impostor.Wait() }()
	lock := fmt.Sprintf("%d\n%s\n%d\n%d\n%s\n127.0.0.1\n        0         0\nready   \n",
		impostor.Process.Pid, c.dir, time.Now().Unix(), opts.Port, c.dir)
	pidPath := filepath.Join(c.dir, "postmaster.pid")
	if err := os.WriteFile(pidPath, []byte(lock), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := c.acct.chown(pidPath); err != nil {
		t.Fatal(err)
	}
	c = start(t, opts)
	requireRow(t, c, "x")
}

func TestPortInUse(t *testing.T) {
	opts := testOptions(t)
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", opts.Port))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, err = Start(ctxFor(t), opts)
	want := fmt.Sprintf("postgres port 127.0.0.1:%d is already in use: stop the other process or choose another port with --pg-port / PG_PORT", opts.Port)
	if err == nil || err.Error() != want {
		t.Fatalf("got error %v\nwant %s", err, want)
	}
	if !errors.Is(err, ErrPortInUse) {
		t.Errorf("error does not match ErrPortInUse")
	}
}

func TestMissingBinaries(t *testing.T) {
	opts := testOptions(t)
	const want = "PostgreSQL server binaries not found: install them (Debian/Ubuntu: apt-get install postgresql) or set DATABASE_URL to an existing database"

	opts.BinDir = t.TempDir()
	_, err := Start(ctxFor(t), opts)
	if !errors.Is(err, ErrBinariesNotFound) || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("empty BinDir: got %v", err)
	}

	// Wrapper scripts, as /usr/local/bin sometimes holds, are not an installation.
	opts.BinDir = t.TempDir()
	for _, name := range serverPrograms {
		script := "#!/bin/sh\nexec /usr/lib/postgresql/15/bin/" + name + ` "$@"` + "\n"
		if err := os.WriteFile(filepath.Join(opts.BinDir, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	_, err = Start(ctxFor(t), opts)
	if !errors.Is(err, ErrBinariesNotFound) || !strings.Contains(err.Error(), "wrapper script") {
		t.Fatalf("wrapper scripts: got %v", err)
	}
	if _, err := os.Stat(opts.Dir); !os.IsNotExist(err) {
		t.Errorf("data directory created despite the error: %v", err)
	}
}

func TestVersionMismatch(t *testing.T) {
	opts := testOptions(t)
	c := start(t, opts)
	if err := c.Stop(ctxFor(t)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(opts.Dir, "PG_VERSION"), []byte("99\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Start(ctxFor(t), opts)
	if err == nil || !strings.Contains(err.Error(), "created by PostgreSQL 99") {
		t.Fatalf("got %v", err)
	}
}

func TestParentNotTraversable(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only root switches to the postgres user")
	}
	opts := testOptions(t)
	locked := filepath.Join(filepath.Dir(opts.Dir), "locked")
	if err := os.Mkdir(locked, 0o700); err != nil {
		t.Fatal(err)
	}
	opts.Dir = filepath.Join(locked, "postgres")
	_, err := Start(ctxFor(t), opts)
	if err == nil || !strings.Contains(err.Error(), "directory "+locked+" (mode -rwx------) is not traversable") {
		t.Fatalf("got %v", err)
	}
}

func TestLocaleFallback(t *testing.T) {
	defer func(saved []string) { initdbLocales = saved }(initdbLocales)
	initdbLocales = []string{"xx_NOSUCH.UTF-8", "C"}
	c := start(t, testOptions(t))
	var collate, encoding string
	err := connect(t, c, "postgres").QueryRow(ctxFor(t), "SELECT current_setting('lc_collate'), current_setting('server_encoding')").Scan(&collate, &encoding)
	if err != nil || collate != "C" || encoding != "UTF8" {
		t.Fatalf("lc_collate=%q server_encoding=%q err=%v", collate, encoding, err)
	}
}

func TestStartupFailureShowsLog(t *testing.T) {
	opts := testOptions(t)
	c := start(t, opts)
	if err := c.Stop(ctxFor(t)); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(opts.Dir, "postgresql.conf")
	f, err := os.OpenFile(conf, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(f, "no_such_setting = 1")
	f.Close()
	_, err = Start(ctxFor(t), opts)
	if err == nil || !strings.Contains(err.Error(), `unrecognized configuration parameter "no_such_setting"`) {
		t.Fatalf("got %v", err)
	}
	t.Logf("error as reported:\n%v", err)
}

// An initdb cut short (Ctrl-C during the first `throughgate dev`) must not
// leave a half-made data directory behind that later starts would trip over.
func TestInterruptedInitdb(t *testing.T) {
	opts := testOptions(t)
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	if _, err := Start(ctx, opts); err == nil || !strings.Contains(err.Error(), "initdb was interrupted") {
		t.Fatalf("got %v", err)
	}
	if _, err := os.Stat(opts.Dir); !os.IsNotExist(err) {
		t.Fatalf("data directory exists after interrupted initdb: %v", err)
	}
	start(t, opts)
}

// A data directory too deep for a Unix socket's path: the server listens on
// TCP only, and URL names TCP.
func TestDeepDirectoryUsesTCP(t *testing.T) {
	opts := testOptions(t)
	deep := filepath.Dir(opts.Dir)
	for len(filepath.Join(deep, "postgres", ".s.PGSQL.65535")) <= unixSocketPathMax {
		deep = filepath.Join(deep, "deeper-still")
		if err := os.Mkdir(deep, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	opts.Dir = filepath.Join(deep, "postgres")
	c := start(t, opts)
	if got, want := c.URL("postgres"), fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", opts.Port); got != want {
		t.Errorf("URL = %q, want %q", got, want)
	}
	conn, err := pgx.Connect(ctxFor(t), c.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	conn.Close(ctxFor(t))
}
