// Package activities holds the side effects of Throughgate's workflows:
// writing the case's read model to PostgreSQL (save_case.go), raising
// reminder and escalation emails into the outbox (raise_alarm.go), telling
// teams of a transfer (notify_transfer.go), and writing the daily digests
// (send_digests.go). Beside them runs the alarm dispatcher (dispatch.go),
// not an activity: it raises each case's alarms at their instant from the
// read model, through RaiseAlarm, ahead of the workflow's timer.
//
// As in Temporal's reference application, each activity is a method on the
// Activities struct, which holds the dependencies. The activities' names,
// inputs and results are the workflows' contract, declared in package
// workflows (workflows.Activities and the Activity* names beside the types),
// so the workflows need not import this package or the database it uses.
//
// Each activity is idempotent: the workflow may run it again after a timeout
// or a worker crash.
package activities
