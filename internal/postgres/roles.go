package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Two roles keep the audit log out of the application's reach (docs/
// design.md, "Personal data"). The owner — whoever runs the migrations:
// MIGRATE_DATABASE_URL in production, the cluster's superuser in dev and
// the tests — owns every table and the audit log's triggers. The
// application connects as AppRole, or as a role that is a member of it
// (GrantAppRoleTo): it reads and changes the other tables, but may only
// add to and read the audit log, never update, delete or truncate it.

// AppRole is the role whose privileges the application works with.
const AppRole = "throughgate_app"

// grantLockKey serialises grantAppRole between processes that migrate at
// once: concurrent GRANTs on one object fail ("tuple concurrently updated").
const grantLockKey = 0x7467_6772_616e_74 // "tggrant"

// grantAppRole gives AppRole exactly what the application needs, after
// every migration, so that tables a later migration adds are covered too.
// It creates AppRole (without login) when it is missing and the owner may
// create roles; when neither, it grants nothing and reports false: the
// application then runs as the owner, and says at start that the audit
// log is not protected (AuditProtected).
func (db *DB) grantAppRole(ctx context.Context) (bool, error) {
	ok := true
	err := pgx.BeginFunc(ctx, db.q, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `select pg_advisory_xact_lock($1)`, grantLockKey); err != nil {
			return err
		}
		var exists bool
		if err := tx.QueryRow(ctx, `select exists (select from pg_roles where rolname = $1)`, AppRole).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			err := savepoint(ctx, tx, `create role `+AppRole+` nologin`)
			switch pgCode(err) {
			case "":
			case "42501": // insufficient_privilege
				ok = false
				return nil
			case "42710", "23505": // created meanwhile
			default:
				return err
			}
		}
		// The database may refuse CONNECT to PUBLIC (deploy/postgres/init-roles.sh
		// does); only its owner can grant it, and may have done so already.
		if err := savepoint(ctx, tx, `do $$ begin execute format('grant connect on database %I to `+AppRole+`', current_database()); end $$`); err != nil && pgCode(err) != "42501" {
			return err
		}
		for _, stmt := range []string{
			`do $$ begin
				execute format('grant usage on schema %I to ` + AppRole + `', current_schema());
				execute format('grant select, insert, update, delete on all tables in schema %I to ` + AppRole + `', current_schema());
				execute format('grant usage, select on all sequences in schema %I to ` + AppRole + `', current_schema());
			end $$`,
			`revoke all on audit, audit_chain, ` + versionTable + ` from ` + AppRole,
			`revoke all on sequence audit_id_seq from ` + AppRole,
			`grant select, insert on audit to ` + AppRole,
			`grant select on audit_chain, ` + versionTable + ` to ` + AppRole,
		} {
			if _, err := tx.Exec(ctx, stmt); err != nil {
				return fmt.Errorf("granting %s its privileges: %w", AppRole, err)
			}
		}
		return nil
	})
	return ok, err
}

// savepoint runs one statement that may fail without ending tx.
func savepoint(ctx context.Context, tx pgx.Tx, sql string) error {
	return pgx.BeginFunc(ctx, tx, func(sp pgx.Tx) error {
		_, err := sp.Exec(ctx, sql)
		return err
	})
}

func pgCode(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	if err != nil {
		return "?"
	}
	return ""
}

// GrantAppRoleTo makes login, the role DATABASE_URL signs in as, a member
// of AppRole, so the application has AppRole's privileges and no more. It
// is for `throughgate migrate` with MIGRATE_DATABASE_URL, run as the owner.
func (db *DB) GrantAppRoleTo(ctx context.Context, login string) error {
	if login == "" || login == AppRole {
		return nil
	}
	var exists bool
	if err := db.q.QueryRow(ctx, `select exists (select from pg_roles where rolname = $1)`, AppRole).Scan(&exists); err != nil {
		return err
	}
	if !exists {
		return fmt.Errorf("the role %s does not exist and the role of MIGRATE_DATABASE_URL may not create it: as an administrator, CREATE ROLE %s NOLOGIN, then run throughgate migrate again", AppRole, AppRole)
	}
	var owner bool
	if err := db.q.QueryRow(ctx, `select pg_has_role($1, c.relowner, 'USAGE') from pg_class c where c.oid = 'audit'::regclass`, login).Scan(&owner); err != nil {
		return fmt.Errorf("looking up the role %q of DATABASE_URL: %w", login, err)
	}
	if owner {
		return fmt.Errorf("DATABASE_URL's role %q owns the tables (or is a member of their owner), so it could change the audit log: give the application a role of its own", login)
	}
	if _, err := db.q.Exec(ctx, `grant `+AppRole+` to `+pgx.Identifier{login}.Sanitize()); err != nil {
		return fmt.Errorf("making DATABASE_URL's role %q a member of %s: %w", login, AppRole, err)
	}
	return nil
}

// AuditProtected reports whether the role this store connects as is kept
// from changing the audit log: it may not update, delete or truncate it,
// and neither owns the table nor is a superuser.
func (db *DB) AuditProtected(ctx context.Context) (bool, error) {
	var protected bool
	err := db.q.QueryRow(ctx, `select not (has_table_privilege('audit', 'UPDATE') or has_table_privilege('audit', 'DELETE')
		or has_table_privilege('audit', 'TRUNCATE') or pg_has_role(c.relowner, 'USAGE'))
		from pg_class c where c.oid = 'audit'::regclass`).Scan(&protected)
	return protected, err
}

// CurrentRole is the role this store's connections act as.
func (db *DB) CurrentRole(ctx context.Context) (string, error) {
	var r string
	err := db.q.QueryRow(ctx, `select current_user`).Scan(&r)
	return r, err
}
