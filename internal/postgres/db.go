package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/tern/v2/migrate"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

const versionTable = "schema_version"

// DB is the store. Its methods are safe for concurrent use, except on a
// DB that InTx hands out, which is bound to one transaction.
type DB struct {
	pool *pgxpool.Pool
	q    querier // the pool, or a transaction
}

// querier is what both a pool and a transaction offer.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Begin(ctx context.Context) (pgx.Tx, error)
	CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, rows pgx.CopyFromSource) (int64, error)
}

// InTx runs fn with a DB whose every method runs in one transaction,
// committed if fn returns nil.
func (db *DB) InTx(ctx context.Context, fn func(tx *DB) error) error {
	return pgx.BeginFunc(ctx, db.q, func(tx pgx.Tx) error { return fn(&DB{pool: db.pool, q: tx}) })
}

// Open connects to the database at url and checks it answers.
func Open(ctx context.Context, url string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL is not a valid PostgreSQL URL: %w", err)
	}
	cfg.MaxConns = 20
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("cannot reach PostgreSQL at %s:%d: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Port, err)
	}
	return &DB{pool: pool, q: pool}, nil
}

// Close releases the connections.
func (db *DB) Close() { db.pool.Close() }

// Ping checks the database answers, for the readiness probe.
func (db *DB) Ping(ctx context.Context) error { return db.pool.Ping(ctx) }

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

// Migrate applies every embedded migration not yet applied. Safe to run from
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
	to, err = m.GetCurrentVersion(ctx)
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

// isUniqueViolation reports whether err is PostgreSQL's unique_violation on the named constraint.
func isUniqueViolation(err error, constraint string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505" && (constraint == "" || pgErr.ConstraintName == constraint)
}
