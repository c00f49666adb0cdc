// Package workflows holds ReleaseCase, the durable Temporal workflow that
// carries one case from identification in custody to its last follow-up.
//
// The workflow keeps the domain Case (package resettlement) as its state,
// applies people's actions to it as Temporal updates with validators, waits
// for the next alarm with a single timer, and leaves every side effect to
// the activities package. Workflow code here must replay deterministically:
// no wall clock, no randomness, no goroutines, no I/O, no ranging over maps.
// `make lint` runs Temporal's workflowcheck over this package.
package workflows
