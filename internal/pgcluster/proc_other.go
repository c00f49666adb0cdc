//go:build !unix

package pgcluster

import (
	"errors"
	"io/fs"
	"syscall"
)

// The private cluster relies on Unix process semantics (sessions, switching
// user, signals); on other systems callers must use DATABASE_URL.
const supported = false

const (
	sigFast      = syscall.Signal(2)
	sigImmediate = syscall.Signal(3)
	sigKill      = syscall.Signal(9)
)

func sysProcAttr(*account, bool) *syscall.SysProcAttr { return nil }

func processAlive(int) bool { return false }

func signalProcess(int, syscall.Signal) error { return errors.ErrUnsupported }

func fileOwner(fs.FileInfo) (uid, gid uint32, ok bool) { return 0, 0, false }
