-- The board grades cases from narrow columns, never detoasting each case's
-- whole state: the stall period is copied out of the state's policy by
-- PostgreSQL itself whenever the state is written.
alter table cases add column stall_after jsonb
    generated always as (state->'policy'->'stall_after') stored;
-- A lower bound of the stall period in calendar days (working days are
-- never fewer than calendar days), for the board's first cut.
alter table cases add column stall_days integer
    generated always as (coalesce((state->'policy'->'stall_after'->>'days')::int, 0)
        + coalesce((state->'policy'->'stall_after'->>'working_days')::int, 0)) stored;
create index steps_case_open on steps (case_id) include (due) where status in ('not-started', 'in-progress', 'waiting');
