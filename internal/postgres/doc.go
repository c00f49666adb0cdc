// Package postgres is Throughgate's PostgreSQL store: people and staff, the
// read model of every case that the API lists from, notes, the case
// timeline, the email outbox and the audit log.
//
// All SQL lives in this package. Migrations are embedded (migrations/*.sql)
// and applied with tern; every process checks the schema version on start.
package postgres
