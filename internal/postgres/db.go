package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/throughgate/throughgate/resettlement"
)

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

// snapshot runs fn in a read-only repeatable-read transaction (a savepoint
// when the DB is already a transaction).
func (db *DB) snapshot(ctx context.Context, fn func(pgx.Tx) error) error {
	if p, ok := db.q.(*pgxpool.Pool); ok {
		return pgx.BeginTxFunc(ctx, p, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, fn)
	}
	return pgx.BeginFunc(ctx, db.q, fn)
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

// ErrNotFound means there is no such row.
var ErrNotFound = errors.New("not found")

// ErrExists means a row with that id (or email) is already there.
var ErrExists = errors.New("already exists")

// isUniqueViolation reports whether err is PostgreSQL's unique_violation on the named constraint.
func isUniqueViolation(err error, constraint string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505" && (constraint == "" || pgErr.ConstraintName == constraint)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// date turns a domain date into a value pgx writes as a SQL date (nil when unknown).
func date(d resettlement.Date) *time.Time {
	if d.IsZero() {
		return nil
	}
	t := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
	return &t
}

// dateOf reads a SQL date (midnight UTC) as a domain date.
func dateOf(t time.Time) resettlement.Date {
	return resettlement.Date{Year: t.Year(), Month: t.Month(), Day: t.Day()}
}
