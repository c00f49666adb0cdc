// Package integration holds the tests that run against the real engine:
// the dev stack's private PostgreSQL, the embedded Temporal server, the
// development SMTP server, the worker and the HTTP API, on free loopback
// ports. It is the one test package that links the Temporal server, which
// keeps every other package's tests quick to build.
package integration
