package drill

import (
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Process is one program of the topology, run as its own OS process with
// its own environment, its output appended to a log file. It can be
// stopped (SIGTERM), killed (SIGKILL) and started again with the same
// command and environment.
type Process struct {
	Name string
	Path string
	Args []string
	Env  map[string]string // the whole environment, besides PATH and HOME
	Log  string            // file the output is appended to

	mu      sync.Mutex
	cmd     *exec.Cmd
	done    chan struct{}
	exitErr error
	starts  int
}

// Start starts the process. It returns once the program is running (not
// once it is ready: see the topology's waits).
func (p *Process) Start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil && !p.exited() {
		return fmt.Errorf("%s is already running (pid %d)", p.Name, p.cmd.Process.Pid)
	}
	logf, err := os.OpenFile(p.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	p.starts++
	fmt.Fprintf(logf, "\n==== drill: start %d of %s at %s ====\n", p.starts, p.Name, time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(p.Path, p.Args...)
	// A clean environment, as a container has: only what the topology
	// gives, so nothing of the developer's shell leaks in.
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.TempDir()}
	for _, k := range slices.Sorted(maps.Keys(p.Env)) {
		cmd.Env = append(cmd.Env, k+"="+p.Env[k])
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own process group, killed with the harness if the harness dies.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("starting %s: %w", p.Name, err)
	}
	done := make(chan struct{})
	p.cmd, p.done, p.exitErr = cmd, done, nil
	go func() {
		err := cmd.Wait()
		logf.Close()
		p.mu.Lock()
		p.exitErr = err
		p.mu.Unlock()
		close(done)
	}()
	return nil
}

func (p *Process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Pid is the running process's id (0 when none runs).
func (p *Process) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil || p.exited() {
		return 0
	}
	return p.cmd.Process.Pid
}

// Running reports whether the process is running.
func (p *Process) Running() bool { return p.Pid() != 0 }

// Done is closed when the current run exits.
func (p *Process) Done() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done == nil {
		c := make(chan struct{})
		close(c)
		return c
	}
	return p.done
}

// ExitErr is how the last run ended (nil: exit status 0, or still running).
func (p *Process) ExitErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exitErr
}

// Kill sends SIGKILL (kill -9) to the process and waits for it to die.
func (p *Process) Kill() error { return p.signal(syscall.SIGKILL, 10*time.Second) }

// Stop sends SIGTERM and waits up to grace for the process to exit, then
// kills it.
func (p *Process) Stop(grace time.Duration) error {
	if err := p.signal(syscall.SIGTERM, grace); err == nil {
		return nil
	}
	return p.Kill()
}

func (p *Process) signal(sig syscall.Signal, wait time.Duration) error {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil {
		return nil
	}
	select {
	case <-done:
		return nil
	default:
	}
	_ = cmd.Process.Signal(sig)
	select {
	case <-done:
		return nil
	case <-time.After(wait):
		return fmt.Errorf("%s (pid %d) did not exit within %s of %s", p.Name, cmd.Process.Pid, wait, sig)
	}
}

// Wait waits for the current run to exit and returns its error, with the
// end of the log when it failed.
func (p *Process) Wait(timeout time.Duration) error {
	select {
	case <-p.Done():
	case <-time.After(timeout):
		_ = p.Kill()
		return fmt.Errorf("%s did not finish within %s:\n%s", p.Name, timeout, p.Tail(40))
	}
	if err := p.ExitErr(); err != nil {
		return fmt.Errorf("%s: %w:\n%s", p.Name, err, p.Tail(40))
	}
	return nil
}

// Tail is the last n lines of the process's log.
func (p *Process) Tail(n int) string { return tailFile(p.Log, n) }

func tailFile(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	defer f.Close()
	st, _ := f.Stat()
	const max = 64 << 10
	off := int64(0)
	if st != nil && st.Size() > max {
		off = st.Size() - max
	}
	_, _ = f.Seek(off, io.SeekStart)
	b, _ := io.ReadAll(f)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	for i, l := range lines {
		if len(l) > 500 {
			lines[i] = l[:500] + "…"
		}
	}
	return "    " + strings.Join(lines, "\n    ")
}

// run runs a program to completion with the given environment (added to a
// clean one), its output appended to log.
func run(name, log string, env map[string]string, timeout time.Duration, path string, args ...string) error {
	p := &Process{Name: name, Path: path, Args: args, Env: env, Log: log}
	if err := p.Start(); err != nil {
		return err
	}
	return p.Wait(timeout)
}

// logPath is a log file for name in dir.
func logPath(dir, name string) string { return filepath.Join(dir, name+".log") }
