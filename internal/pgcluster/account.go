package pgcluster

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
)

// serverAccountName is the system user the server runs as when throughgate
// itself runs as root. Debian's postgresql-common creates it.
const serverAccountName = "postgres"

// account is the identity initdb and postgres run under. A nil *account means
// "as ourselves", which is the normal, non-root case.
type account struct {
	name   string
	uid    uint32
	gid    uint32
	groups []uint32
}

// serverAccount decides who runs the server. initdb and postgres refuse to run
// as root (a compromised superuser session could otherwise own the machine),
// and root is common in containers and CI, so as root we switch to the
// postgres system user for those processes.
func serverAccount() (*account, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup(serverAccountName)
	if err != nil {
		return nil, fmt.Errorf("throughgate is running as root, and PostgreSQL refuses to run as root, so the server must run as the %q system user, but it does not exist (%v): create it (Debian/Ubuntu: adduser --system --group --home /var/lib/postgresql postgres; installing the postgresql package also creates it) or run throughgate as a non-root user",
			serverAccountName, err)
	}
	a := &account{name: u.Username}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("user %q has a non-numeric uid or gid: %v", u.Username, err)
	}
	a.uid, a.gid = uint32(uid), uint32(gid)
	a.groups = []uint32{a.gid}
	if ids, err := u.GroupIds(); err == nil {
		for _, id := range ids {
			if g, err := strconv.ParseUint(id, 10, 32); err == nil && !slices.Contains(a.groups, uint32(g)) {
				a.groups = append(a.groups, uint32(g))
			}
		}
	}
	return a, nil
}

// expectedOwner is the uid that must own the data directory: postgres checks
// this itself and refuses to start otherwise.
func expectedOwner(a *account) int {
	if a != nil {
		return int(a.uid)
	}
	return os.Geteuid()
}

// chown hands a path we created as root over to the server account.
func (a *account) chown(path string) error {
	if a == nil {
		return nil
	}
	return os.Chown(path, int(a.uid), int(a.gid))
}

// checkTraversable makes sure the server account can reach dir: every
// ancestor needs search (x) permission for it. Without this the failure shows
// up as a terse "Permission denied" from initdb or postgres about a path the
// user never thinks of (typically /root or a 0700 home directory), so we name
// the offending directory up front. Only plain mode bits are evaluated; ACLs
// are rare enough on such paths to ignore.
func checkTraversable(dir string, a *account) error {
	if a == nil {
		return nil
	}
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		if !searchable(fi, a) {
			return fmt.Errorf("directory %s (mode %v) is not traversable by the %q user, which the PostgreSQL server runs as because throughgate is running as root: allow it with \"chmod o+x %s\", or put the data directory somewhere %s can reach",
				p, fi.Mode().Perm(), a.name, p, a.name)
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

func searchable(fi fs.FileInfo, a *account) bool {
	uid, gid, ok := fileOwner(fi)
	if !ok {
		return true // cannot tell; let the server report it
	}
	perm := fi.Mode().Perm()
	switch {
	case uid == a.uid:
		return perm&0o100 != 0
	case slices.Contains(a.groups, gid):
		return perm&0o010 != 0
	default:
		return perm&0o001 != 0
	}
}
