package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/tern/v2/migrate"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

const versionTable = "schema_version"

func newMigrator(ctx context.Context, conn *pgx.Conn) (*migrate.Migrator, error) {
	m, err := migrate.NewMigrator(ctx, conn, versionTable)
	if err != nil {
		return nil, err
	}
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	if err := m.LoadMigrations(sub); err != nil {
		return nil, err
	}
	return m, nil
}

// Migrate applies every embedded migration not yet applied, then grants
// the application's role (AppRole) its privileges. Safe to run from
// several processes at once: tern holds an advisory lock while it works.
func (db *DB) Migrate(ctx context.Context) (from, to int32, err error) {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return 0, 0, err
	}
	defer conn.Release()
	m, err := newMigrator(ctx, conn.Conn())
	if err != nil {
		return 0, 0, err
	}
	from, err = m.GetCurrentVersion(ctx)
	if err != nil {
		return 0, 0, err
	}
	if err := m.Migrate(ctx); err != nil {
		return from, from, fmt.Errorf("migrating the database: %w", err)
	}
	if to, err = m.GetCurrentVersion(ctx); err != nil {
		return from, to, err
	}
	// What the application's role may do, tables new and old (roles.go).
	_, err = db.grantAppRole(ctx)
	return from, to, err
}

// ErrSchemaOutOfDate means the database needs `throughgate migrate`.
var ErrSchemaOutOfDate = errors.New("database schema out of date")

// CheckSchema returns ErrSchemaOutOfDate (wrapped, with both versions) unless
// every embedded migration has been applied.
func (db *DB) CheckSchema(ctx context.Context) error {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	m, err := newMigrator(ctx, conn.Conn())
	if err != nil {
		return err
	}
	have, err := m.GetCurrentVersion(ctx)
	if err != nil {
		return err
	}
	if want := int32(len(m.Migrations)); have != want {
		return fmt.Errorf("%w: at version %d, this build needs %d: run `throughgate migrate`", ErrSchemaOutOfDate, have, want)
	}
	return nil
}
