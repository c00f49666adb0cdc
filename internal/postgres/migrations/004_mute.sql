-- A person may turn off emails of some kinds: their own reminders, notices
-- of steps waiting in their team's queue, transfer notices. Escalations are
-- not among them: a manager cannot turn those off.
alter table staff add column muted text[] not null default '{}'
    check (muted <@ array['reminder', 'due', 'unassigned', 'transfer']::text[]);
