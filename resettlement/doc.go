// Package resettlement holds Throughgate's domain: the case, its steps and
// release dates, and the rules that turn them into deadlines, reminders,
// escalations and severities.
//
// Everything here is plain Go with no I/O, no clock and no randomness: the
// current time is always a parameter. That is what lets the same rules run
// inside Temporal workflows (which must replay deterministically), in the API
// (to validate a request before it reaches a workflow) and in table tests.
//
// A newcomer should start with Case (case.go), the step catalogue
// (catalogue.go, whose doc comment works through when the housing reminder
// fires), Policy and DefaultPolicy (policy.go), the alarms they produce
// (alarm.go) and Calendar (calendar.go). docs/design.md explains the domain
// rules and where each comes from.
package resettlement
