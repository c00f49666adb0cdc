// Package pgcluster runs the private PostgreSQL server behind
// `throughgate dev`, so that a developer gets the real database engine
// Throughgate uses in production without setting one up: only the
// distribution's server package has to be installed (see FindBinaries and
// .ci/ensure-postgres). Deployments that already have a database set
// DATABASE_URL and never touch this package.
//
// Start creates the cluster on first use (initdb into Options.Dir) and starts
// it on later runs. The server listens on 127.0.0.1 only and lets the
// "postgres" superuser in without a password (trust authentication), which is
// what makes URL usable as-is; its Unix socket lives in the data directory,
// which only the server's own user can enter, and URL names the socket when
// there is one. The server log is written to
// postgres.log next to the data directory.
//
// The server is a separate process in its own session. It outlives
// throughgate if throughgate crashes or is killed; the next Start finds it
// through postmaster.pid and reuses it rather than failing. If the server
// itself crashed, the next Start simply starts it again and PostgreSQL runs
// crash recovery. Stop performs a fast shutdown.
//
// PostgreSQL refuses to run as root. When throughgate runs as root (common in
// containers), initdb and postgres run as the "postgres" system user instead,
// which owns the data directory and must be able to reach it.
//
// A data directory must not be used by two Start calls at the same time.
package pgcluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// DefaultPort is one above PostgreSQL's usual 5432, so that the private
// server does not collide with a system PostgreSQL on the same machine.
const DefaultPort = 5433

const (
	host      = "127.0.0.1"
	superuser = "postgres"

	// The Temporal server keeps pools of connections per service and per
	// persistence store, and a worker fleet adds its own; the default of 100
	// runs out under load.
	maxConnections = 200
	sharedBuffers  = "128MB"
	// maxWALSize bounds the write-ahead log kept between checkpoints
	// (PostgreSQL's default is 1GB, as much as a 30,000-case caseload's
	// data): checkpoints come sooner, at the cost of more writes. At
	// 256MB the log kept was 257 MiB of the 1,336 MiB data directory of
	// a 30,000-case caseload (README, Performance); 128MB halves it, and
	// checkpoints come twice as often while the log is written fast.
	maxWALSize = "128MB"

	// unixSocketPathMax is sizeof(sockaddr_un.sun_path) minus the NUL.
	unixSocketPathMax = 107

	// The log is appended to across runs; past this size it is moved aside
	// to postgres.log.1 before a fresh server starts writing to it.
	maxLogSize = 16 << 20

	// Used when Start's context has no deadline, so that a server that
	// never becomes ready cannot hang `throughgate dev` forever.
	defaultStartTimeout = 2 * time.Minute
)

// ErrPortInUse is matched (errors.Is) by the error Start returns when
// something else already listens on the requested port.
var ErrPortInUse = errors.New("postgres port is already in use")

type portInUseError struct{ addr string }

func (e *portInUseError) Error() string {
	return "postgres port " + e.addr + " is already in use: stop the other process or choose another port with --pg-port / PG_PORT"
}

func (e *portInUseError) Is(target error) bool { return target == ErrPortInUse }

// Options configure Start.
type Options struct {
	// Dir is the cluster's data directory, e.g. ./.throughgate/postgres. It
	// is created (initdb) on first start and reused afterwards.
	Dir string
	// Port is the TCP port on 127.0.0.1; zero means DefaultPort.
	Port int
	// Logger receives progress messages; nil discards them.
	Logger *slog.Logger
	// BinDir, if set, is the directory holding postgres, initdb and pg_ctl,
	// used instead of searching with FindBinaries.
	BinDir string
}

// Cluster is a running private PostgreSQL server.
type Cluster struct {
	dir     string // absolute, symlinks resolved: compared with the server's cwd
	logPath string
	port    int
	bins    binaries
	acct    *account
	log     *slog.Logger

	mu      sync.Mutex
	pid     int
	proc    *serverProcess // nil when the server was left running by an earlier run
	stopped bool
}

// serverProcess is a postmaster started by this process.
type serverProcess struct {
	p    *os.Process
	done chan struct{} // closed once it has exited and been reaped
	err  error         // its exit status, valid after done is closed
}

// Start makes sure the cluster in opts.Dir exists and is running, and returns
// once it accepts connections. The wait is bounded by ctx's deadline
// (two minutes if it has none). Errors wrap ErrBinariesNotFound or
// ErrPortInUse where those apply; startup failures include the last lines of
// the server log.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	if !supported {
		return nil, fmt.Errorf("a private PostgreSQL cluster is not supported on %s: set DATABASE_URL to an existing database", runtime.GOOS)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultStartTimeout)
		defer cancel()
	}
	c := &Cluster{port: opts.Port, log: opts.Logger}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.port == 0 {
		c.port = DefaultPort
	}
	if c.port < 1 || c.port > 65535 {
		return nil, fmt.Errorf("invalid postgres port %d", c.port)
	}
	if opts.Dir == "" {
		return nil, errors.New("pgcluster: Options.Dir (the data directory) is required")
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, err
	}
	c.logPath = filepath.Join(filepath.Dir(dir), "postgres.log")

	if opts.BinDir != "" {
		if c.bins, err = inspectBinDir(opts.BinDir); err != nil {
			return nil, fmt.Errorf("%w (%v)", ErrBinariesNotFound, err)
		}
	} else if c.bins, err = findBinaries(); err != nil {
		return nil, err
	}
	if c.acct, err = serverAccount(); err != nil {
		return nil, err
	}
	if err := makeParents(filepath.Dir(dir), c.acct != nil); err != nil {
		return nil, err
	}
	// Resolve symlinks so that the path compares equal to what the kernel
	// reports as a running server's working directory.
	if c.dir, err = filepath.EvalSymlinks(filepath.Dir(dir)); err != nil {
		return nil, err
	}
	c.dir = filepath.Join(c.dir, filepath.Base(dir))
	if real, err := filepath.EvalSymlinks(c.dir); err == nil {
		c.dir = real
	}
	if err := checkTraversable(c.dir, c.acct); err != nil {
		return nil, err
	}

	if err := c.prepare(ctx, opts.BinDir != ""); err != nil {
		return nil, err
	}
	adopted, err := c.adopt(ctx)
	if err != nil {
		return nil, err
	}
	if adopted {
		if err := c.waitReady(ctx); err != nil {
			return nil, err
		}
		return c, nil
	}
	if err := c.launch(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// URL returns a connection URL for database on this cluster, e.g.
// postgres://postgres@127.0.0.1:5433/temporal?sslmode=disable.
func (c *Cluster) URL(database string) string { return c.URLAs(superuser, database) }

// URLAs is URL for another role, one CreateRole made.
//
// The URL names the Unix socket in the data directory when the server has
// one (postgres://postgres@/temporal?host=/data/dir&port=5433&sslmode=disable):
// every statement of the engine and its Temporal server is a round trip, and
// one through a Unix socket costs the kernel less than one through TCP on
// loopback (README, Performance). Otherwise it names 127.0.0.1 and the port.
func (c *Cluster) URLAs(role, database string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.User(role),
		Host:     net.JoinHostPort(host, strconv.Itoa(c.port)),
		Path:     "/" + database,
		RawQuery: "sslmode=disable",
	}
	if c.hasSocket() {
		u.Host = ""
		u.RawQuery = url.Values{"host": {c.dir}, "port": {strconv.Itoa(c.port)}, "sslmode": {"disable"}}.Encode()
	}
	return u.String()
}

// Dir is the data directory, absolute, with symbolic links resolved.
func (c *Cluster) Dir() string { return c.dir }

// Host is the address the server listens on: always 127.0.0.1.
func (c *Cluster) Host() string { return host }

// Port is the TCP port the server listens on.
func (c *Cluster) Port() int { return c.port }

// User is the database superuser, which needs no password.
func (c *Cluster) User() string { return superuser }

// CreateDatabase creates the named database unless it already exists.
func (c *Cluster) CreateDatabase(ctx context.Context, name string) error {
	if name == "" {
		return errors.New("CreateDatabase: empty database name")
	}
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var exists bool
	err = conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists)
	if err != nil || exists {
		return err
	}
	// CREATE DATABASE has no IF NOT EXISTS; a concurrent creator surfaces as
	// duplicate_database, which is just as good as success.
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P04" {
		return nil
	}
	if err != nil {
		return fmt.Errorf("creating database %q: %w", name, err)
	}
	return nil
}

// CreateRole creates a role that may sign in, unless it exists. Like the
// superuser it needs no password: the server trusts connections from
// 127.0.0.1. Roles are the cluster's, shared by all its databases.
func (c *Cluster) CreateRole(ctx context.Context, name string) error {
	if name == "" {
		return errors.New("CreateRole: empty role name")
	}
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var exists bool
	err = conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", name).Scan(&exists)
	if err != nil || exists {
		return err
	}
	_, err = conn.Exec(ctx, "CREATE ROLE "+pgx.Identifier{name}.Sanitize()+" LOGIN")
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && (pgErr.Code == "42710" || pgErr.Code == "23505") { // a concurrent creator
		return nil
	}
	if err != nil {
		return fmt.Errorf("creating role %q: %w", name, err)
	}
	return nil
}

// Stop shuts the server down (fast shutdown: open transactions are rolled
// back, then a checkpoint) and waits for it to exit, within ctx. If ctx ends
// first, the server is told to shut down immediately, which costs crash
// recovery on the next start but loses no committed data. Calling Stop again
// after it succeeded is a no-op.
func (c *Cluster) Stop(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return nil
	}
	if err := c.shutdown(ctx, c.pid, c.proc); err != nil {
		return err
	}
	c.stopped = true
	return nil
}

// prepare makes sure c.dir holds a data directory that c.bins can run,
// creating it if necessary.
func (c *Cluster) prepare(ctx context.Context, explicitBins bool) error {
	fi, err := os.Stat(c.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return c.initdb(ctx, false)
	}
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("data directory %s is not a directory", c.dir)
	}
	if uid, _, ok := fileOwner(fi); ok && int(uid) != expectedOwner(c.acct) {
		// As root we may adopt an empty directory someone prepared for us
		// (a volume mount, say); anything else belongs to someone and we
		// do not silently re-own their files.
		if empty, _ := isEmptyDir(c.dir); !empty || c.acct == nil {
			return c.ownerError(uid)
		}
		if err := c.acct.chown(c.dir); err != nil {
			return err
		}
	}
	raw, err := os.ReadFile(filepath.Join(c.dir, "PG_VERSION"))
	if errors.Is(err, fs.ErrNotExist) {
		if empty, err := isEmptyDir(c.dir); err != nil || !empty {
			return fmt.Errorf("%s exists but is neither empty nor a PostgreSQL data directory (no PG_VERSION file): move it aside or choose another directory", c.dir)
		}
		return c.initdb(ctx, true)
	}
	if err != nil {
		return fmt.Errorf("reading data directory: %w", err)
	}
	c.bins, err = binariesFor(c.bins, strings.TrimSpace(string(raw)), c.dir, explicitBins)
	return err
}

func (c *Cluster) ownerError(uid uint32) error {
	who, fix := "you", fmt.Sprintf("chown -R %d %s", os.Geteuid(), c.dir)
	if c.acct != nil {
		who = fmt.Sprintf("%q (throughgate is running as root)", c.acct.name)
		fix = fmt.Sprintf("chown -R %s: %s", c.acct.name, c.dir)
	}
	return fmt.Errorf("data directory %s is owned by uid %d, but PostgreSQL would run as %s and insists on owning its data directory: fix with %q (as root), or move the directory aside to start a fresh, empty cluster",
		c.dir, uid, who, fix)
}

// initdb creates the cluster. Unless the directory already exists (it may be
// a mount point, which cannot be replaced), initdb works in a sibling
// directory that is renamed into place only on success: initdb writes
// PG_VERSION early, so an interrupted run would otherwise leave something
// that looks like a data directory but cannot start.
func (c *Cluster) initdb(ctx context.Context, inPlace bool) error {
	target := c.dir
	if !inPlace {
		target = c.dir + ".initdb"
		if err := os.RemoveAll(target); err != nil {
			return err
		}
		if err := os.Mkdir(target, 0o700); err != nil {
			return err
		}
		defer os.RemoveAll(target) // no-op once renamed
		if err := c.acct.chown(target); err != nil {
			return err
		}
	}
	c.log.Info("creating PostgreSQL cluster (initdb)", "dir", c.dir, "version", c.bins.version)
	start := time.Now()
	var out []byte
	var err error
	for i, locale := range initdbLocales {
		out, err = c.runInitdb(ctx, target, locale)
		if err == nil || ctx.Err() != nil || !strings.Contains(string(out), "invalid locale") || i == len(initdbLocales)-1 {
			break
		}
		c.log.Info("locale not available, trying the next", "locale", locale, "next", initdbLocales[i+1])
	}
	if ctx.Err() != nil {
		return fmt.Errorf("initdb was interrupted (%w); it will start over next time", ctx.Err())
	}
	if err != nil {
		return fmt.Errorf("initdb failed (%v):\n%s", err, indent(string(out)))
	}
	if !inPlace {
		if err := os.Rename(target, c.dir); err != nil {
			return err
		}
		syncDir(filepath.Dir(c.dir))
	}
	c.log.Info("created PostgreSQL cluster", "dir", c.dir, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// initdbLocales are tried in order. C.UTF-8 is built into glibc 2.35+ and
// shipped by Debian, but not by every system; plain C sorts identically
// (bytewise) and still allows the UTF8 encoding, it only loses Unicode-aware
// upper()/lower() and character classes.
var initdbLocales = []string{"C.UTF-8", "C"}

func (c *Cluster) runInitdb(ctx context.Context, target, locale string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, c.bins.path("initdb"),
		"-D", target,
		"--auth=trust", "-U", superuser,
		"--encoding=UTF8", "--locale="+locale)
	// initdb calls getcwd(), which fails for the postgres user if we sit
	// in, say, /root.
	cmd.Dir = target
	cmd.Env = childEnv()
	cmd.SysProcAttr = sysProcAttr(c.acct, false)
	// On cancellation, ask rather than kill: initdb then finishes its
	// current step, reaps the postgres it runs as a subprocess and removes
	// what it created. A killed initdb orphans that subprocess, which lingers
	// as a zombie in containers whose init does not reap.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	return cmd.CombinedOutput()
}

// adopt looks at postmaster.pid and reports whether a server for this data
// directory is already running on the right port, in which case it is taken
// over as c's server. Stale or foreign lock files are dealt with so that a
// subsequent launch can succeed.
func (c *Cluster) adopt(ctx context.Context) (bool, error) {
	pidPath := filepath.Join(c.dir, "postmaster.pid")
	pf, err := readPidFile(pidPath)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if pf.pid <= 0 {
		return false, nil // unreadable; postgres itself will judge it
	}
	if !processAlive(pf.pid) {
		// PostgreSQL removes such a lock file itself and runs crash
		// recovery. What it will not do is start while backends of the dead
		// postmaster still have its shared memory attached, and a backend
		// busy with a long query only notices its postmaster's death when
		// the query ends. Those backends are doomed anyway (the postmaster
		// would have killed them itself on a crash), so end them now.
		c.log.Info("the previous PostgreSQL server did not shut down cleanly; it will recover on start", "old_pid", pf.pid)
		if orphans := procOrphans(c.dir, c.bins.path("postgres")); len(orphans) > 0 {
			c.log.Warn("killing leftover processes of the crashed PostgreSQL server", "pids", orphans)
			for _, pid := range orphans {
				_ = signalProcess(pid, sigKill)
			}
		}
		return false, nil
	}
	cwd, err := procCwd(pf.pid)
	if err != nil {
		return false, nil // cannot tell whose process it is; postgres will judge
	}
	if pf.pid == os.Getpid() || filepath.Clean(cwd) != c.dir {
		// After a crash and reboot (or container restart) the pid in the
		// lock file can belong to an unrelated process, and postgres would
		// then refuse to start, believing another server is running.
		c.log.Warn("removing stale postmaster.pid: its pid now belongs to an unrelated process", "pid", pf.pid, "process_dir", cwd)
		if err := os.Remove(pidPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return false, err
		}
		return false, nil
	}
	if pf.status == "stopping" {
		c.log.Info("waiting for the PostgreSQL server that is shutting down", "pid", pf.pid)
		return false, c.waitGone(ctx, pf.pid, nil)
	}
	if (pf.port != 0 && pf.port != c.port) || (pf.listen != "" && pf.listen != host) {
		c.log.Info("restarting the running PostgreSQL server on the requested address", "pid", pf.pid, "was", net.JoinHostPort(pf.listen, strconv.Itoa(pf.port)), "now", net.JoinHostPort(host, strconv.Itoa(c.port)))
		return false, c.shutdown(ctx, pf.pid, nil)
	}
	c.log.Info("reusing the PostgreSQL server left running by an earlier run", "pid", pf.pid, "dir", c.dir)
	c.pid = pf.pid
	return true, nil
}

// launch starts a postmaster and waits until it accepts connections.
func (c *Cluster) launch(ctx context.Context) error {
	c.log.Info("starting PostgreSQL", "version", c.bins.version, "addr", net.JoinHostPort(host, strconv.Itoa(c.port)), "dir", c.dir, "log", c.logPath)
	for waiting := false; ; waiting = true {
		err := c.spawn(ctx)
		if !errors.Is(err, errShmemInUse) {
			return err
		}
		// Backends of a killed postmaster notice its death and exit, but
		// until the last one has, the old shared memory is attached and
		// postgres refuses to start.
		if !waiting {
			c.log.Info("waiting for processes of the previous, crashed PostgreSQL server to exit")
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(200 * time.Millisecond):
		}
	}
}

var errShmemInUse = errors.New("shared memory of a previous server is still in use")

func (c *Cluster) spawn(ctx context.Context) error {
	// Checked up front because postgres reports a busy port only in its log,
	// after a second or so.
	addr := net.JoinHostPort(host, strconv.Itoa(c.port))
	ln, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return &portInUseError{addr}
	}
	if err != nil {
		return fmt.Errorf("checking postgres port: %w", err)
	}
	ln.Close()

	if fi, err := os.Stat(c.logPath); err == nil && fi.Size() > maxLogSize {
		_ = os.Rename(c.logPath, c.logPath+".1")
	}
	logf, err := os.OpenFile(c.logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return err
	}
	if err := c.acct.chown(c.logPath); err != nil {
		logf.Close()
		return err
	}
	logStart, _ := logf.Seek(0, io.SeekEnd)

	cmd := exec.Command(c.bins.path("postgres"), c.serverArgs()...)
	cmd.Dir = c.dir
	cmd.Env = childEnv()
	cmd.Stdout, cmd.Stderr = logf, logf // a file: handed over as is, no copying goroutine
	cmd.SysProcAttr = sysProcAttr(c.acct, true)
	start := time.Now()
	err = cmd.Start()
	logf.Close()
	if err != nil {
		return fmt.Errorf("starting postgres: %w", err)
	}
	sp := &serverProcess{p: cmd.Process, done: make(chan struct{})}
	go func() {
		sp.err = cmd.Wait()
		close(sp.done)
	}()
	c.pid, c.proc = cmd.Process.Pid, sp

	err = c.waitReady(ctx)
	if err == nil {
		c.log.Info("PostgreSQL is ready", "url", c.URL(""), "pid", c.pid, "took", time.Since(start).Round(time.Millisecond))
		return nil
	}
	select {
	case <-sp.done:
		tail := logTail(c.logPath, logStart, 20)
		switch {
		case strings.Contains(tail, "Address already in use"):
			return &portInUseError{addr}
		case strings.Contains(tail, "is still in use"):
			return fmt.Errorf("%w; last lines of %s:\n%s", errShmemInUse, c.logPath, tail)
		}
		return fmt.Errorf("PostgreSQL failed to start (%v); last lines of %s:\n%s", sp.err, c.logPath, tail)
	default:
	}
	// Still starting (or hung) when time ran out: do not leave a server
	// behind that nobody will stop.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	_ = c.shutdown(sctx, c.pid, sp)
	return fmt.Errorf("%w; last lines of %s:\n%s", err, c.logPath, logTail(c.logPath, logStart, 20))
}

func (c *Cluster) serverArgs() []string {
	// Everything that matters is passed on the command line rather than
	// written to postgresql.conf, so that it applies to clusters created by
	// older versions of throughgate and cannot be overridden by an edit or
	// ALTER SYSTEM: listen_addresses in particular is what makes trust
	// authentication acceptable. fsync is deliberately left on: developers
	// keep workflow history across runs, and a laptop crash with fsync off
	// corrupts the cluster.
	return []string{
		"-D", c.dir,
		"-p", strconv.Itoa(c.port),
		"-c", "listen_addresses=" + host,
		"-c", "unix_socket_directories=" + c.socketDirSetting(),
		"-c", "max_connections=" + strconv.Itoa(maxConnections),
		"-c", "shared_buffers=" + sharedBuffers,
		"-c", "max_wal_size=" + maxWALSize,
	}
}

// socketDirSetting puts the Unix socket in the data directory: the
// compiled-in default, /var/run/postgresql, may not exist or not be writable,
// and it is where a system PostgreSQL's socket lives. If the socket path
// would exceed the kernel's limit postgres would refuse to start, so we do
// without a socket, and URL names TCP instead.
func (c *Cluster) socketDirSetting() string {
	if !c.hasSocket() {
		c.log.Info("data directory path too long for a Unix socket; listening on TCP only", "dir", c.dir)
		return "" // none; the argument reaches postgres unquoted, with no shell between
	}
	// A list setting: double quotes protect commas and spaces in the path.
	return `"` + strings.ReplaceAll(c.dir, `"`, `""`) + `"`
}

// hasSocket reports whether the server listens on a Unix socket in the
// data directory: whether the socket's path fits the kernel's limit.
func (c *Cluster) hasSocket() bool {
	return len(filepath.Join(c.dir, ".s.PGSQL."+strconv.Itoa(c.port))) <= unixSocketPathMax
}

// waitReady polls until the server accepts connections.
func (c *Cluster) waitReady(ctx context.Context) error {
	var exited <-chan struct{}
	if c.proc != nil {
		exited = c.proc.done
	}
	delay := 10 * time.Millisecond
	for {
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := ping(pctx, c.URL("postgres"))
		cancel()
		if err == nil {
			return nil
		}
		if c.proc == nil && !processAlive(c.pid) {
			return fmt.Errorf("the PostgreSQL server (pid %d) exited; see %s", c.pid, c.logPath)
		}
		select {
		case <-exited:
			return errors.New("postgres exited")
		case <-ctx.Done():
			return fmt.Errorf("PostgreSQL on %s did not accept connections in time (%w); last attempt: %v", net.JoinHostPort(host, strconv.Itoa(c.port)), ctx.Err(), err)
		case <-time.After(delay):
		}
		delay = min(2*delay, 200*time.Millisecond)
	}
}

func ping(ctx context.Context, url string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return conn.Ping(ctx)
}

// shutdown asks the postmaster pid for a fast shutdown and waits for it to
// exit; sp is its process if we started it, nil if we adopted it.
func (c *Cluster) shutdown(ctx context.Context, pid int, sp *serverProcess) error {
	signal := func(sig syscall.Signal) error {
		if sp != nil {
			return sp.p.Signal(sig)
		}
		// Only signal a server we did not start if the lock file still
		// names it: the pid may have been reused since.
		if pf, err := readPidFile(filepath.Join(c.dir, "postmaster.pid")); err != nil || pf.pid != pid {
			return os.ErrProcessDone
		}
		return signalProcess(pid, sig)
	}
	var done <-chan struct{}
	if sp != nil {
		done = sp.done
	}
	if err := signal(sigFast); err != nil {
		if errors.Is(err, os.ErrProcessDone) || !processAlive(pid) {
			return nil
		}
		return fmt.Errorf("stopping PostgreSQL (pid %d): %w", pid, err)
	}
	start := time.Now()
	if err := c.waitGone(ctx, pid, done); err != nil {
		_ = signal(sigImmediate)
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = c.waitGone(wctx, pid, done)
		return fmt.Errorf("PostgreSQL (pid %d) did not finish its fast shutdown in time (%w), so it was told to stop immediately; the next start will run crash recovery", pid, err)
	}
	c.log.Info("PostgreSQL stopped", "pid", pid, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// waitGone waits for the postmaster to exit: done closes for our own child;
// for an adopted server, postgres removes postmaster.pid as its last act.
func (c *Cluster) waitGone(ctx context.Context, pid int, done <-chan struct{}) error {
	pidPath := filepath.Join(c.dir, "postmaster.pid")
	for {
		if done == nil {
			pf, err := readPidFile(pidPath)
			if err != nil || pf.pid != pid || !processAlive(pid) {
				return nil
			}
		}
		select {
		case <-done:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// pidFile is the content of postmaster.pid; see "postmaster.pid" in
// PostgreSQL's storage file layout documentation.
type pidFile struct {
	pid     int
	port    int
	listen  string
	status  string // "starting", "ready", "stopping", "standby"; may be absent early in startup
	dataDir string
}

func readPidFile(path string) (pidFile, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return pidFile{}, err
	}
	lines := strings.Split(string(raw), "\n")
	line := func(i int) string {
		if i < len(lines) {
			return strings.TrimSpace(lines[i])
		}
		return ""
	}
	var pf pidFile
	pf.pid, _ = strconv.Atoi(line(0))
	pf.dataDir = line(1)
	pf.port, _ = strconv.Atoi(line(3))
	pf.listen = line(5)
	pf.status = line(7)
	return pf, nil
}

// childEnv is our environment minus settings that would change what initdb
// and postgres do or say: PG* variables are meant for the developer's own
// client tools, and the locale must be plain C because we look for English
// phrases in their output.
func childEnv() []string {
	env := []string{"LANG=C"}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "PG") || strings.HasPrefix(k, "LC_") || k == "LANG" || k == "LANGUAGE" {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// makeParents creates dir and its missing ancestors. As root it also makes
// sure the ones it creates are world-traversable whatever the umask, since
// the server runs as another user and must reach the data directory.
func makeParents(dir string, root bool) error {
	var missing []string
	for p := dir; ; p = filepath.Dir(p) {
		if _, err := os.Stat(p); err == nil || p == filepath.Dir(p) {
			break
		}
		missing = append(missing, p)
	}
	for i := len(missing) - 1; i >= 0; i-- {
		if err := os.Mkdir(missing[i], 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
		if root {
			if err := os.Chmod(missing[i], 0o755); err != nil {
				return err
			}
		}
	}
	return nil
}

func isEmptyDir(dir string) (bool, error) {
	f, err := os.Open(dir)
	if err != nil {
		return false, err
	}
	defer f.Close()
	_, err = f.Readdirnames(1)
	if err == io.EOF {
		return true, nil
	}
	return false, err
}

// syncDir makes a rename durable; best effort, as a lost rename only means
// initdb runs again.
func syncDir(dir string) {
	if f, err := os.Open(dir); err == nil {
		_ = f.Sync()
		f.Close()
	}
}

// logTail returns the last n lines written to the log at or after offset,
// so that an error shows this start's messages rather than an old run's.
func logTail(path string, offset int64, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return "  (" + err.Error() + ")"
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size()-offset > 64<<10 {
		offset = fi.Size() - 64<<10
	}
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return "  (" + err.Error() + ")"
	}
	raw, _ := io.ReadAll(f)
	lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	s := indent(strings.Join(lines, "\n"))
	if strings.TrimSpace(s) == "" {
		return "  (nothing was logged)"
	}
	return s
}

func indent(s string) string {
	s = strings.TrimRight(s, "\n")
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}
