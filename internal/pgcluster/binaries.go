package pgcluster

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// ErrBinariesNotFound is returned (wrapped) by FindBinaries and Start when no
// usable PostgreSQL server installation exists. Callers can test for it with
// errors.Is to suggest DATABASE_URL instead.
var ErrBinariesNotFound = errors.New("PostgreSQL server binaries not found: install them (Debian/Ubuntu: apt-get install postgresql) or set DATABASE_URL to an existing database")

// serverPrograms are the programs a directory must hold to count as a server
// installation. pg_ctl is not run by this package, but client-only packages
// never ship it, so requiring it keeps us from settling on a half install, and
// it is what a developer will reach for when inspecting the cluster by hand.
var serverPrograms = []string{"postgres", "initdb", "pg_ctl"}

// debianRoot is where Debian and Ubuntu install one directory per major
// version; those binaries are deliberately not on PATH there.
const debianRoot = "/usr/lib/postgresql"

// binaries is a verified server installation.
type binaries struct {
	dir     string // directory holding postgres, initdb and pg_ctl (symlinks resolved)
	version string // e.g. "15.18"
	major   string // e.g. "15"; what PG_VERSION in a data directory must match
}

func (b binaries) path(program string) string { return filepath.Join(b.dir, program) }

// FindBinaries returns the directory holding the PostgreSQL server programs
// (postgres, initdb, pg_ctl). It prefers the ones on PATH and otherwise takes
// the newest major version under /usr/lib/postgresql/*/bin. The error wraps
// ErrBinariesNotFound.
func FindBinaries() (dir string, err error) {
	b, err := findBinaries()
	return b.dir, err
}

func findBinaries() (binaries, error) {
	var rejected []string
	if dir, ok := binDirOnPath(); ok {
		b, err := inspectBinDir(dir)
		if err == nil {
			return b, nil
		}
		rejected = append(rejected, err.Error())
	}
	for _, dir := range debianBinDirs() {
		b, err := inspectBinDir(dir)
		if err == nil {
			return b, nil
		}
		rejected = append(rejected, err.Error())
	}
	detail := "searched PATH and " + debianRoot + "/*/bin"
	if len(rejected) > 0 {
		detail += "; rejected: " + strings.Join(rejected, "; ")
	}
	return binaries{}, fmt.Errorf("%w (%s)", ErrBinariesNotFound, detail)
}

// binDirOnPath reports the real directory of the server programs found on
// PATH, provided all of them resolve to the same directory. /usr/local/bin and
// similar often hold symlinks (fine, we follow them) or wrapper scripts (not
// fine: initdb and pg_ctl locate their sibling programs relative to their own
// real location, so a wrapper directory is not a server installation).
func binDirOnPath() (string, bool) {
	dir := ""
	for _, name := range serverPrograms {
		p, err := exec.LookPath(name)
		if err != nil {
			return "", false
		}
		real, err := filepath.EvalSymlinks(p)
		if err != nil || isScript(real) {
			return "", false
		}
		d, err := filepath.Abs(filepath.Dir(real))
		if err != nil {
			return "", false
		}
		if dir != "" && d != dir {
			return "", false
		}
		dir = d
	}
	return dir, true
}

// debianBinDirs lists /usr/lib/postgresql/*/bin, newest major version first.
func debianBinDirs() []string {
	matches, _ := filepath.Glob(filepath.Join(debianRoot, "*", "bin"))
	key := func(p string) [2]int {
		var k [2]int
		for i, part := range strings.SplitN(filepath.Base(filepath.Dir(p)), ".", 2) {
			k[i], _ = strconv.Atoi(part)
		}
		return k
	}
	sort.Slice(matches, func(i, j int) bool {
		a, b := key(matches[i]), key(matches[j])
		return a[0] > b[0] || (a[0] == b[0] && a[1] > b[1])
	})
	return matches
}

var versionRE = regexp.MustCompile(`\(PostgreSQL\) (\d+)(\.\d+)?`)

// inspectBinDir checks that dir holds real, executable server programs of one
// and the same PostgreSQL version, by asking each for its version.
func inspectBinDir(dir string) (binaries, error) {
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return binaries{}, fmt.Errorf("%s: %v", dir, err)
	}
	b := binaries{dir: real}
	for _, name := range serverPrograms {
		p := b.path(name)
		fi, err := os.Stat(p)
		if err != nil {
			return binaries{}, fmt.Errorf("%s: no %s", dir, name)
		}
		if fi.IsDir() || fi.Mode()&0o111 == 0 {
			return binaries{}, fmt.Errorf("%s is not executable", p)
		}
		if isScript(p) {
			return binaries{}, fmt.Errorf("%s is a wrapper script, not the server program", p)
		}
		out, err := exec.Command(p, "--version").Output()
		if err != nil {
			return binaries{}, fmt.Errorf("%s --version: %v", p, err)
		}
		m := versionRE.FindSubmatch(out)
		if m == nil {
			return binaries{}, fmt.Errorf("%s --version printed %q, which is not a PostgreSQL version", p, bytes.TrimSpace(out))
		}
		major, version := string(m[1]), string(m[1])+string(m[2])
		if b.major == "" {
			b.major, b.version = major, version
		} else if major != b.major {
			return binaries{}, fmt.Errorf("%s: mixed PostgreSQL versions (%s is %s, postgres is %s)", dir, name, version, b.version)
		}
	}
	return b, nil
}

func isScript(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 2)
	_, err = io.ReadFull(f, head)
	return err == nil && string(head) == "#!"
}

// binariesFor picks the installation to run an existing data directory with.
// A data directory can only be opened by the major version that created it,
// and a routine package upgrade can change which version FindBinaries
// prefers, so we look for the matching version before giving up.
func binariesFor(found binaries, dataMajor, dataDir string, explicit bool) (binaries, error) {
	if found.major == dataMajor {
		return found, nil
	}
	if !explicit {
		if b, err := inspectBinDir(filepath.Join(debianRoot, dataMajor, "bin")); err == nil && b.major == dataMajor {
			return b, nil
		}
	}
	return binaries{}, fmt.Errorf("data directory %s was created by PostgreSQL %s, but the server binaries in %s are version %s, which cannot open it: install PostgreSQL %s's server (Debian/Ubuntu: apt-get install postgresql-%s), or move the directory aside to start a fresh, empty cluster",
		dataDir, dataMajor, found.dir, found.version, dataMajor, dataMajor)
}
