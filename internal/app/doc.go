// Package app is Throughgate's composition root for production: it builds
// each part a process runs from the settings (package config) and wires the
// parts together.
//
//	process.go  the processes of `throughgate api`, `worker` and `migrate`, and the logger
//	clients.go  the clients of PostgreSQL, Temporal (mTLS when configured) and the SMTP relay
//	worker.go   the worker (workflows and activities), the daily digest schedule, the outbox sender
//	http.go     the HTTP listener and server, the readiness checks, the API and pages' handler
//
// The development engine in one process — private PostgreSQL, embedded
// Temporal server, development SMTP server, demonstration accounts — is
// package devstack, which builds on these same parts; the integration tests
// start it, so what they exercise is what production wires.
package app
