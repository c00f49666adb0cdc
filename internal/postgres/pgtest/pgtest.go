// Package pgtest gives tests a real PostgreSQL: one private cluster per
// test binary (package pgcluster, as `throughgate dev` runs), and a fresh
// migrated database of its own for every caller of New. A package that uses
// it calls Main from its TestMain, which stops the cluster after the tests.
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
	urls     = map[*postgres.DB]string{}
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
}

// New returns a migrated database of its own, closed when the test ends.
func New(t testing.TB) *postgres.DB {
	t.Helper()
	once.Do(start)
	if startErr != nil {
		t.Fatalf("starting PostgreSQL for the tests: %v (on a fresh machine, run .ci/ensure-postgres)", startErr)
	}
	mu.Lock()
	seq++
	name := fmt.Sprintf("pgtest_%d_%d", os.Getpid(), seq)
	mu.Unlock()
	ctx := context.Background()
	if err := cluster.CreateDatabase(ctx, name); err != nil {
		t.Fatal(err)
	}
	db, err := postgres.Open(ctx, cluster.URL(name))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	mu.Lock()
	urls[db] = cluster.URL(name)
	mu.Unlock()
	return db
}

// Int runs a query answering one integer (a count) on a database New gave,
// for tests that look at rows no method of the store reads.
func Int(t testing.TB, db *postgres.DB, sql string, args ...any) int {
	t.Helper()
	mu.Lock()
	url := urls[db]
	mu.Unlock()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}
