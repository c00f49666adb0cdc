package postgres_test

import (
	"context"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/tern/v2/migrate"

	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/internal/postgres/pgtest"
)

// migratedTo is a new database taken by the migrations up to version only,
// for a test of what a later migration does to rows written before it. It
// answers the owner's connection (closed when the test ends) and the
// owner's and the application's URLs; migrateRest then applies the rest.
func migratedTo(t *testing.T, version int32) (conn *pgx.Conn, ownerURL, appURL string) {
	t.Helper()
	ownerURL, appURL = pgtest.Empty(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, ownerURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	m, err := migrate.NewMigrator(ctx, conn, "schema_version")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.LoadMigrations(os.DirFS("migrations")); err != nil {
		t.Fatal(err)
	}
	if err := m.MigrateTo(ctx, version); err != nil {
		t.Fatal(err)
	}
	return conn, ownerURL, appURL
}

// migrateRest applies, as the owner, the migrations migratedTo left out,
// and opens the database as the application (closed when the test ends).
func migrateRest(t *testing.T, ownerURL, appURL string) *postgres.DB {
	t.Helper()
	ctx := context.Background()
	owner, err := postgres.Open(ctx, ownerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	if _, _, err := owner.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	db, err := postgres.Open(ctx, appURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return db
}
