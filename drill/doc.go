// Package drill runs Throughgate in its separated, production-shaped
// topology — the one deploy/compose.yaml describes — as separate operating
// system processes on free loopback ports, and breaks it on purpose:
//
//   - PostgreSQL, a private cluster from Debian's binaries (package
//     pgcluster), with the roles and databases deploy/postgres/init-roles.sh
//     creates (the script itself is run): migrate migrates as the tables'
//     owner, api and the workers sign in as a role of their own, and the
//     payloads in Temporal are encrypted with PAYLOAD_KEYS, as in compose;
//   - a Temporal server built from go.temporal.io/server/cmd/server at the
//     version in go.mod, on PostgreSQL (the postgres12 plugin), configured by
//     a generated file; its two databases created and brought up to date by
//     temporal-sql-tool (go.temporal.io/server/cmd/tools/sql) from the schema
//     directories shipped in the module, as deploy/temporal/setup-schema.sh
//     does; the namespace registered through the SDK, as
//     deploy/temporal/create-namespace.sh does with the temporal CLI;
//   - `throughgate migrate`, one `throughgate api` and two `throughgate
//     worker`s, from the lean production binary (`go build ./cmd/throughgate`,
//     no Temporal server linked), each with the environment compose.yaml gives
//     that service, read from compose.yaml itself;
//   - an SMTP relay: the development SMTP server (package devsmtp) run by the
//     harness, with STARTTLS and AUTH as a production relay has them.
//
// TestSeparatedTopology (in `go test ./...`, so in `make test`) runs one full
// case through it over the HTTP API. TestFaultDrill (build tag drill, `make
// drill`) runs the fault drill: a worker killed in the middle of an
// activity, the SMTP relay stopped, PostgreSQL restarted, the Temporal
// server restarted, the API killed during an update — each with cases in
// flight and alarms firing — and checks that no reminder is lost.
//
// Why a package of its own at the top level, not a subpackage of
// integration/: integration's tests link the Temporal server into their test
// binary and run the dev stack in one process; this package must not link
// it (it runs the server as a separate program, as production does), and it
// is a harness with a fault drill rather than a set of tests of the engine's
// features. Keeping it apart keeps its test binary small and its purpose
// plain.
//
// The programs it runs are built into .cache/drill/ at the repository root
// (ignored by git): `go build` leaves an up-to-date binary alone, so after
// the first build (minutes for the Temporal server on a 2-core machine) each
// run spends seconds on it.
package drill
