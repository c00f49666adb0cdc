// Package postgres is Throughgate's PostgreSQL store: teams and staff,
// sign-in sessions and API tokens, each case's personal data and the read
// model the workflow writes (with its steps, notes and timeline), the email
// outbox with a record of every attempt to send, and the audit log.
//
// Every query Throughgate makes on its own database lives in this package,
// in the file named after the table it is about (the migrations in
// migrations/*.sql create them):
//
//	db.go              the connection pool, transactions, shared errors and date conversions
//	migrate.go         schema_version: the embedded migrations, applied with tern
//	cases.go           cases: opening, the workflow's projection (with its steps and events), the list, the board
//	steps.go           steps: the rows of a case's steps, steps due, overdue steps week by week
//	case_events.go     case_events: a case's timeline
//	notes.go           notes
//	staff.go           staff: the directory, preferences, passwords and what a role reaches
//	teams.go           teams
//	sessions.go        sessions
//	api_tokens.go      api_tokens
//	outbox.go          outbox: raising emails, claiming and settling them, digests, undeliverable emails
//	outbox_attempts.go outbox_attempts
//	audit.go           audit, audit_chain: the audit log, its hash chain and its verification
//	roles.go           the application's role (AppRole) and what it may do
//	retention.go       anonymising the cases closed longer ago than the retention period
//	export.go          everything held about a person, for a subject access request
//	bulkload.go        a bulk loader of cases and steps for the benchmarks
//
// A query that joins tables lives with the table it answers about. Every
// process checks the schema version on start; only dev and `throughgate
// migrate` apply migrations.
package postgres
