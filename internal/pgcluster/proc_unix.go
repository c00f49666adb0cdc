//go:build unix

package pgcluster

import (
	"errors"
	"io/fs"
	"syscall"
)

const supported = true

// Fast shutdown: postgres aborts open transactions, checkpoints and exits
// (what "pg_ctl stop -m fast" sends). Immediate shutdown skips the
// checkpoint; the next start runs crash recovery, which is safe.
const (
	sigFast      = syscall.SIGINT
	sigImmediate = syscall.SIGQUIT
	sigKill      = syscall.SIGKILL
)

// sysProcAttr drops to the server account when we are root. newSession puts
// the server in its own session so that a Ctrl-C in the terminal reaches
// throughgate only: throughgate first drains the Temporal server, which still
// needs its database, and then stops postgres itself. It also lets the server
// outlive a crashed throughgate, to be reused by the next run.
func sysProcAttr(a *account, newSession bool) *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{Setsid: newSession}
	if a != nil {
		attr.Credential = &syscall.Credential{Uid: a.uid, Gid: a.gid, Groups: a.groups}
	}
	return attr
}

// processAlive reports whether pid names a live process. EPERM means it
// exists but belongs to someone else. A zombie is not alive: in containers
// whose init does not reap orphans, a crashed postmaster lingers as one.
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	if err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	return !procZombie(pid)
}

func signalProcess(pid int, sig syscall.Signal) error {
	return syscall.Kill(pid, sig)
}

func fileOwner(fi fs.FileInfo) (uid, gid uint32, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, false
	}
	return st.Uid, st.Gid, true
}
