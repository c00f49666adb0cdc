package pgcluster

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
)

// ReachableDir returns where the data directory asked for as dir can live.
// Running as ourselves, that is dir. As root the server runs as the
// postgres user, which must be able to reach its data directory; when an
// existing ancestor of dir bars it (root's home, mode 0700, as in a fresh
// container), the cluster lives instead in
// /var/tmp/throughgate-<uid>/<hash of dir>/<base of dir> — a place of its
// own for each dir, kept across reboots — and a symbolic link at dir
// points there, so the data is still found where it was asked for. The
// same dir always gives the same place, so a restart finds its data.
//
// dir is left as it is when something already exists there that is not
// that link (the cluster Start then explains what bars the server), and
// when the other place cannot be made safely: a directory on the way that
// someone else owns, or that others may write, is refused.
func ReachableDir(dir string) (string, error) {
	a, err := serverAccount()
	if err != nil {
		return "", err
	}
	base := "/var/tmp"
	if fi, err := os.Stat(base); err != nil || !fi.IsDir() {
		base = os.TempDir()
	}
	return reachableDir(dir, a, os.Geteuid(), base)
}

// reachableDir is ReachableDir for the server account a (nil: ourselves),
// with the place for unreachable directories under base, owned by uid.
func reachableDir(dir string, a *account, uid int, base string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil || a == nil {
		return dir, err
	}
	sum := sha256.Sum256([]byte(abs))
	home := filepath.Join(base, "throughgate-"+strconv.Itoa(uid))
	alt := filepath.Join(home, hex.EncodeToString(sum[:6]), filepath.Base(abs))
	if target, err := os.Readlink(abs); err == nil && filepath.Clean(target) == alt {
		return alt, ensurePrivateDirs(home, filepath.Dir(alt), uid)
	}
	if blocked(abs, a) == "" {
		return abs, nil
	}
	if _, err := os.Lstat(abs); !errors.Is(err, fs.ErrNotExist) {
		return abs, nil
	}
	if blocked(alt, a) != "" {
		return abs, nil
	}
	if err := ensurePrivateDirs(home, filepath.Dir(alt), uid); err != nil {
		return "", err
	}
	if err := makeParents(filepath.Dir(abs), false); err != nil {
		return "", err
	}
	if err := os.Symlink(alt, abs); err != nil {
		return "", fmt.Errorf("linking %s to the cluster's data directory %s: %w", abs, alt, err)
	}
	return alt, nil
}

// blocked returns the first existing ancestor of dir that the account
// cannot traverse, or "" when there is none. Ancestors that do not exist
// yet are created traversable (makeParents).
func blocked(dir string, a *account) string {
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		if fi, err := os.Stat(p); err == nil && !searchable(fi, a) {
			return p
		}
		if p == filepath.Dir(p) {
			return ""
		}
	}
}

// ensurePrivateDirs makes home and then dir inside it, each mode 0755 and
// owned by uid. In a directory anyone may write to (/var/tmp) another user
// could have made home first, to own what the server later writes there,
// so an existing one must be a real directory of uid's that nobody else may
// write.
func ensurePrivateDirs(home, dir string, uid int) error {
	for _, d := range []string{home, dir} {
		if err := os.Mkdir(d, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
		fi, err := os.Lstat(d)
		if err != nil {
			return err
		}
		owner, _, ok := fileOwner(fi)
		if !fi.IsDir() || (ok && int(owner) != uid) || fi.Mode().Perm()&0o022 != 0 {
			return fmt.Errorf("%s is not a directory of uid %d that only it may write to (mode %v): remove it and start again", d, uid, fi.Mode())
		}
		if err := os.Chmod(d, 0o755); err != nil { // whatever the umask
			return err
		}
	}
	return nil
}
