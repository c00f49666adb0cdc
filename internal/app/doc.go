// Package app is Throughgate's composition root for production: it builds
// each part a process runs from the settings (package config) and wires the
// parts together.
//
//	process.go  the processes of `throughgate api`, `worker` and `migrate`, and the logger (LOG_FORMAT)
//	clients.go  the clients of PostgreSQL, Temporal (the SDK's envconfig: API key, TLS, mTLS) and the SMTP relay
//	worker.go   the worker (workflows and activities), the daily digest schedule, the outbox sender
//	http.go     the HTTP listener and server, the operations listener (METRICS_ADDR), the readiness checks, the API and pages' handler
//	version.go  which build this is (`throughgate version`, /healthz, throughgate_build_info)
//
// Each process makes one metrics registry (package prometheus): the api's
// holds its HTTP requests and Temporal client, the worker's the Temporal
// worker and the read model's gauges.
//
// The development engine in one process — private PostgreSQL, embedded
// Temporal server, development SMTP server, demonstration accounts — is
// package devstack, which builds on these same parts; the integration tests
// start it, so what they exercise is what production wires.
package app
