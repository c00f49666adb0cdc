//go:build unix

package pgcluster

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// other is a server account that owns none of the test's directories, as
// the postgres user owns none of root's.
var other = &account{name: "pgother", uid: 54321, gid: 54321, groups: []uint32{54321}}

// tree makes a temporary directory the account can reach (t.TempDir's
// parent is 0700), holding a "home" it cannot enter and a "var-tmp".
func tree(t *testing.T) (home, base string) {
	t.Helper()
	root := t.TempDir()
	for _, d := range []string{filepath.Dir(root), root} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	home, base = filepath.Join(root, "home"), filepath.Join(root, "var-tmp")
	for _, d := range []string{home, base} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(home, 0o700); err != nil {
		t.Fatal(err)
	}
	return home, base
}

// A data directory inside a home others cannot enter moves to a place of
// its own under base that the server's user can reach, linked from where
// it was asked for; the home's mode is left alone, and the next run finds
// the same place.
func TestReachableDirMovesOutOfAPrivateHome(t *testing.T) {
	home, base := tree(t)
	uid := os.Geteuid()
	dir := filepath.Join(home, "throughgate", ".throughgate", "postgres")
	got, err := reachableDir(dir, other, uid, base)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(dir))
	want := filepath.Join(base, "throughgate-"+strconv.Itoa(uid), hex.EncodeToString(sum[:6]), "postgres")
	if got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	if b := blocked(got, other); b != "" {
		t.Errorf("the server's user still cannot pass %s", b)
	}
	if err := checkTraversable(got, other); err != nil {
		t.Error(err)
	}
	for _, d := range []string{filepath.Dir(want), filepath.Dir(filepath.Dir(want))} {
		if fi, err := os.Stat(d); err != nil || fi.Mode().Perm() != 0o755 {
			t.Errorf("%s: %v %v, want mode 0755", d, fi.Mode(), err)
		}
	}
	if target, err := os.Readlink(dir); err != nil || target != want {
		t.Errorf("%s links to %q (%v), want %s", dir, target, err, want)
	}
	if fi, _ := os.Stat(home); fi.Mode().Perm() != 0o700 {
		t.Errorf("the home's mode changed to %v", fi.Mode())
	}
	again, err := reachableDir(dir, other, uid, base)
	if err != nil || again != want {
		t.Errorf("second run: %s %v", again, err)
	}
}

// Where the server's user can reach the directory, or runs as ourselves,
// nothing moves.
func TestReachableDirLeavesReachableDirectories(t *testing.T) {
	home, base := tree(t)
	open := filepath.Join(filepath.Dir(home), "open", ".throughgate", "postgres")
	if got, err := reachableDir(open, other, os.Geteuid(), base); err != nil || got != open {
		t.Errorf("reachable: %s %v", got, err)
	}
	private := filepath.Join(home, ".throughgate", "postgres")
	if got, err := reachableDir(private, nil, os.Geteuid(), base); err != nil || got != private {
		t.Errorf("as ourselves: %s %v", got, err)
	}
	if _, err := os.Lstat(private); !os.IsNotExist(err) {
		t.Errorf("something was made at %s: %v", private, err)
	}
	// An existing data directory is never swapped for an empty one: Start
	// says what bars the server instead.
	if err := os.MkdirAll(private, 0o700); err != nil {
		t.Fatal(err)
	}
	if got, err := reachableDir(private, other, os.Geteuid(), base); err != nil || got != private {
		t.Errorf("existing: %s %v", got, err)
	}
	if err := checkTraversable(private, other); err == nil {
		t.Error("checkTraversable passed a directory inside a 0700 home")
	}
}

// A directory on the way under base that others may write (made by
// someone else first, say) is refused.
func TestReachableDirRefusesAWritablePlace(t *testing.T) {
	home, base := tree(t)
	place := filepath.Join(base, "throughgate-"+strconv.Itoa(os.Geteuid()))
	if err := os.Mkdir(place, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(place, 0o777); err != nil {
		t.Fatal(err)
	}
	if _, err := reachableDir(filepath.Join(home, "postgres"), other, os.Geteuid(), base); err == nil {
		t.Error("a world-writable directory was used")
	}
}

// As root, in a directory the postgres user cannot enter (root's home in
// a fresh container), the cluster starts in the place ReachableDir chose.
// Only root can run this: it needs the real postgres user.
func TestStartAsRootInAPrivateDirectory(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the server then runs as the postgres user")
	}
	requireBinaries(t)
	private := t.TempDir() // 0700, under a 0700 directory
	if err := os.Chmod(private, 0o700); err != nil {
		t.Fatal(err)
	}
	dir, err := ReachableDir(filepath.Join(private, ".throughgate", "postgres"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(filepath.Dir(dir)) })
	if filepath.Dir(filepath.Dir(filepath.Dir(dir))) != "/var/tmp" {
		t.Errorf("data directory %s, want one under /var/tmp/throughgate-0", dir)
	}
	opts := testOptions(t)
	opts.Dir = dir
	c := start(t, opts)
	if c.Dir() != dir {
		t.Errorf("Dir %s, want %s", c.Dir(), dir)
	}
	insertRow(t, c, "as root")
	requireRow(t, c, "as root")
	if err := c.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
}
