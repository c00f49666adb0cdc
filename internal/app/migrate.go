package app

import (
	"context"
	"log/slog"

	"github.com/jackc/pgx/v5"

	"github.com/throughgate/throughgate/internal/postgres"
)

// MigrateDB applies the migrations as the tables' owner, migrateURL
// (MIGRATE_DATABASE_URL; empty means appURL), which also grants
// postgres.AppRole its privileges. When the owner is another role than
// appURL's (DATABASE_URL's), that role is made a member of AppRole: the
// application may then add to and read the audit log, never change it.
func MigrateDB(ctx context.Context, migrateURL, appURL string, logger *slog.Logger) error {
	if migrateURL == "" {
		migrateURL = appURL
	}
	owner, err := postgres.Open(ctx, migrateURL)
	if err != nil {
		return err
	}
	defer owner.Close()
	from, to, err := owner.Migrate(ctx)
	if err != nil {
		return err
	}
	if from != to {
		logger.Info("database migrated", "from", from, "to", to)
	}
	if migrateURL == appURL {
		return nil
	}
	app, err := pgx.ParseConfig(appURL)
	if err != nil {
		return err
	}
	ownerRole, err := owner.CurrentRole(ctx)
	if err != nil {
		return err
	}
	if app.User == ownerRole {
		return nil
	}
	return owner.GrantAppRoleTo(ctx, app.User)
}

// warnUnprotectedAudit says at start when the application's role could
// change the audit log: it owns the tables, is a superuser, or was
// granted more than postgres.AppRole's privileges.
func warnUnprotectedAudit(ctx context.Context, db *postgres.DB, logger *slog.Logger) {
	ok, err := db.AuditProtected(ctx)
	if err != nil || ok {
		return
	}
	role, _ := db.CurrentRole(ctx)
	logger.Warn("the audit log is not protected from this process: its database role can change or remove audit rows (the hash chain still shows it). "+
		"Run `throughgate migrate` with MIGRATE_DATABASE_URL as the tables' owner and DATABASE_URL as a role of its own (see deploy/README.md)", "role", role)
}
