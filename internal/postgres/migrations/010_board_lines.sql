-- The managers' board as each case graded itself when it was last saved or
-- re-graded (resettlement.Case.BoardLines): one row per open step with a due
-- date and one for the case's stall (step_id ''). Rows with severity 0 are
-- not on the board; they are kept for regrade_at, the moment the clock
-- alone can change the grading (a step falling due, release drawing near),
-- when the worker's re-grader grades the case again. A board page is a range
-- of one of the order indexes below, never a sort of every line.
create table board_lines (
    case_id       text not null references cases (id) on delete cascade,
    step_id       text not null,
    establishment text not null,
    team_id       text not null,          -- the case's team (the scope)
    owner_staff   text,
    owner_team    text not null,          -- the line's owner's team (the summary)
    pathway       text not null default '',
    severity      smallint not null,      -- resettlement.Severity
    release_group smallint not null,      -- 0 release to come, 1 released, 2 no date
    release_day   date not null,          -- 9999-12-31 unless group 0
    due_date      date not null,          -- 9999-12-31 while not overdue
    blocking      boolean not null,
    days_overdue  integer not null,       -- as graded, for display
    regrade_at    timestamptz,
    graded_at     timestamptz not null,
    primary key (case_id, step_id)
);

-- Board order, all ascending so that a keyset page is one row comparison on
-- an index: most severe first, then release soonest, then most overdue,
-- then release-blocking (resettlement.BoardOrder).
alter table board_lines add column sev_rank smallint generated always as (4 - severity) stored;
alter table board_lines add column unblocking boolean generated always as (not blocking) stored;
create index board_lines_order on board_lines
    (sev_rank, release_group, release_day, due_date, unblocking, case_id, step_id) where severity > 0;
create index board_lines_team_order on board_lines
    (team_id, sev_rank, release_group, release_day, due_date, unblocking, case_id, step_id) where severity > 0;
create index board_lines_establishment_order on board_lines
    (establishment, sev_rank, release_group, release_day, due_date, unblocking, case_id, step_id) where severity > 0;
create index board_lines_regrade on board_lines (regrade_at) where regrade_at is not null;

-- Cases saved before this migration have no lines yet: a placeholder due for
-- re-grading now has the re-grader grade each of them on its first run.
insert into board_lines (case_id, step_id, establishment, team_id, owner_team, severity, release_group,
        release_day, due_date, blocking, days_overdue, regrade_at, graded_at)
    select id, '', establishment, team_id, team_id, 0, 2, '9999-12-31', '9999-12-31', false, 0, now(), now()
    from cases where closed_at is null and state is not null;
