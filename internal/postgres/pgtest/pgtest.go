// Package pgtest gives tests a real PostgreSQL: one private cluster per
// test binary (package pgcluster, as `throughgate dev` runs), and a fresh
// migrated database of its own for every caller of New. A package that uses
// it calls Main from its TestMain, which stops the cluster after the tests.
//
// As in `throughgate dev`, the cluster's superuser migrates (it owns the
// tables), and the store New returns connects as postgres.AppRole, so the
// tests run with the application's privileges: a statement the
// application may not make fails in the tests too. Int and AsOwner run as
// the owner, AsApp as the application.
//
// On a machine without PostgreSQL's server programs the tests fail rather
// than skip: run .ci/ensure-postgres.
package pgtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/throughgate/throughgate/internal/pgcluster"
	"github.com/throughgate/throughgate/internal/postgres"
)

var (
	once     sync.Once
	cluster  *pgcluster.Cluster
	dir      string
	startErr error
	mu       sync.Mutex
	seq      int
	urls     = map[*postgres.DB]string{} // database names
)

// Main runs the tests, then stops the cluster if one was started.
func Main(m *testing.M) {
	code := m.Run()
	if cluster != nil {
		_ = cluster.Stop(context.Background())
	}
	if dir != "" {
		_ = os.RemoveAll(dir)
	}
	os.Exit(code)
}

func start() {
	if dir, startErr = os.MkdirTemp("", "throughgate-pgtest-"); startErr != nil {
		return
	}
	// The server runs as the postgres user when the tests run as root: it
	// must be able to reach the directory.
	_ = os.Chmod(dir, 0o755)
	ln, lerr := net.Listen("tcp", "127.0.0.1:0")
	if lerr != nil {
		startErr = lerr
		return
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cluster, startErr = pgcluster.Start(context.Background(), pgcluster.Options{Dir: filepath.Join(dir, "pg"), Port: port})
	if startErr == nil {
		startErr = cluster.CreateRole(context.Background(), postgres.AppRole)
	}
}

// newDatabase creates an empty database and returns its name.
func newDatabase(t testing.TB) string {
	t.Helper()
	once.Do(start)
	if startErr != nil {
		t.Fatalf("starting PostgreSQL for the tests: %v (on a fresh machine, run .ci/ensure-postgres)", startErr)
	}
	mu.Lock()
	seq++
	name := fmt.Sprintf("pgtest_%d_%d", os.Getpid(), seq)
	mu.Unlock()
	if err := cluster.CreateDatabase(context.Background(), name); err != nil {
		t.Fatal(err)
	}
	return name
}

// Empty creates a database with nothing in it, not even the migrations,
// and returns the URLs to reach it as its owner (the superuser) and as
// the application's role: for tests of the migrations themselves.
func Empty(t testing.TB) (ownerURL, appURL string) {
	t.Helper()
	name := newDatabase(t)
	return cluster.URL(name), cluster.URLAs(postgres.AppRole, name)
}

// New returns a migrated database of its own, closed when the test ends.
func New(t testing.TB) *postgres.DB {
	t.Helper()
	name := newDatabase(t)
	ctx := context.Background()
	owner, err := postgres.Open(ctx, cluster.URL(name))
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = owner.Migrate(ctx)
	owner.Close()
	if err != nil {
		t.Fatal(err)
	}
	db, err := postgres.Open(ctx, cluster.URLAs(postgres.AppRole, name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	mu.Lock()
	urls[db] = name
	mu.Unlock()
	return db
}

// connect opens a connection to the database of db as role.
func connect(t testing.TB, db *postgres.DB, role string) *pgx.Conn {
	t.Helper()
	mu.Lock()
	name, ok := urls[db]
	mu.Unlock()
	if !ok {
		t.Fatal("pgtest: not a database New gave")
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, cluster.URLAs(role, name))
	if err != nil {
		t.Fatal(err)
	}
	return conn
}

// AsOwner is a connection to db's database as the owner of its tables
// (the cluster's superuser), for tests that do what the application may
// not; it is closed when the test ends.
func AsOwner(t testing.TB, db *postgres.DB) *pgx.Conn {
	t.Helper()
	conn := connect(t, db, cluster.User())
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// AsApp is a connection to db's database as the application's role, for
// tests of what that role may not do; it is closed when the test ends.
func AsApp(t testing.TB, db *postgres.DB) *pgx.Conn {
	t.Helper()
	conn := connect(t, db, postgres.AppRole)
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// Int runs a query answering one integer (a count) on a database New gave,
// for tests that look at rows no method of the store reads.
func Int(t testing.TB, db *postgres.DB, sql string, args ...any) int {
	t.Helper()
	conn := connect(t, db, cluster.User())
	ctx := context.Background()
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}
