-- The instant of each case's next alarms, beside its read model, so they go
-- out then however far behind the workflows' timers are (the 09:00 peak:
-- 30,000 timers at once take the embedded Temporal server a quarter of an
-- hour on two cores). The workflow sets it with every save
-- (resettlement.Projection.AlarmsAt); the worker's dispatcher
-- (activities.Dispatcher) raises the alarms due then from the saved case
-- and moves it to the next instant; the workflow's own timer stays the
-- backstop, and the outbox's key makes its raise a no-op. A command on its
-- way to the workflow clears it first (casework.Service.Update), so nothing
-- goes out on a case the command is changing.
alter table cases add column next_alarm_at timestamptz;
create index cases_next_alarm on cases (next_alarm_at) where next_alarm_at is not null;
