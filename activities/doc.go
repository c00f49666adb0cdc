// Package activities holds the side effects of the ReleaseCase workflow:
// writing the case's read model to PostgreSQL, raising reminder and
// escalation emails into the outbox, and telling teams of a transfer.
//
// Each activity is idempotent — the workflow may run it again after a
// timeout or a worker crash — and holds its dependencies on the Activities
// struct, as Temporal's reference application does.
package activities
