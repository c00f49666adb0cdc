-- The alarms each case raises next, beside its read model, so they go out at
-- their instant however far behind the workflows' timers are (the 09:00
-- peak: 30,000 timers at once take the embedded Temporal server a quarter
-- of an hour on two cores). The workflow writes them with every save
-- (resettlement.Projection.Alarms); the worker's dispatcher
-- (activities.Dispatcher) raises those due and clears them; the workflow's
-- own timer stays the backstop, and the outbox's key makes its raise a
-- no-op. A command on its way to the workflow clears them first
-- (casework.Service.Update), so none goes out on a case the command is
-- changing.
alter table cases add column next_alarm_at timestamptz, add column next_alarms jsonb;
create index cases_next_alarm on cases (next_alarm_at) where next_alarm_at is not null;
