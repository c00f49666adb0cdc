package postgres_test

import (
	"context"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/tern/v2/migrate"

	"github.com/throughgate/throughgate/internal/postgres/pgtest"
)

// migratedTo is a new database taken by the migrations up to version only,
// for a test of what a later migration does to rows written before it. It
// answers the owner's connection (closed when the test ends) and the
// owner's and the application's URLs; owner.Migrate then applies the rest.
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
