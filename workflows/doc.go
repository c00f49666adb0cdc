// Package workflows holds Throughgate's durable Temporal workflows:
// ReleaseCase (release_case.go), which carries one case from identification
// in custody to its last follow-up, and DailyDigest (daily_digest.go), which
// a schedule starts every morning to send the digests.
//
// ReleaseCase keeps the domain Case (package resettlement) as its state,
// applies people's actions to it as Temporal updates with validators, waits
// for the next alarm with a single timer, and leaves every side effect to an
// activity. The workflows know the activities only by the contract in
// activities.go — each activity's name beside its input and result — so
// this package depends on the domain and the Temporal SDK alone; package
// activities implements the contract. Each workflow is an unexported struct
// with setup (query and update handlers) and run (its life).
//
// Names others use to reach a case — the task queue, update and query names,
// search attributes — are in names.go.
//
// Workflow code here must replay deterministically: no wall clock, no
// randomness, no goroutines, no I/O, no ranging over maps. `make lint` runs
// Temporal's workflowcheck over this package, and replay_test.go replays
// histories recorded from a real server.
package workflows
