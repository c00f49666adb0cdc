-- The board's summary counts (postgres.DB.BoardCounts), kept as they change
-- so that a summary sums a few hundred rows instead of counting every line
-- in scope (~123,000 at 300,000 cases, most of a second per board view).
-- The columns are what the board filters on (boardWhere) and groups by;
-- only lines on the board (severity > 0) are counted.
--
-- Rows are deltas, with no unique key: the count for a key is sum(lines).
-- Whoever replaces a case's board lines adds one row per key whose count
-- changed, in the same transaction. A single counter row per key would
-- make concurrent saves of cases in one team queue on that row (and two
-- saves touching two keys in opposite orders could deadlock), throttling
-- onboarding; inserts never wait on each other. The worker's re-grader
-- folds the deltas back into one row per key (CompactBoardCounts).
create table board_line_counts (
    establishment text not null,
    team_id       text not null,      -- the case's team (the scope)
    owner_team    text not null,      -- the line's owner's team
    owner_staff   text not null,      -- '' when the line has no named owner
    pathway       text not null,
    stalled       boolean not null,   -- the case's stall line (step_id '')
    severity      smallint not null,  -- resettlement.Severity, > 0
    lines         bigint not null
);

-- No line may change while the counts are taken from them.
lock table board_lines in share mode;

insert into board_line_counts (establishment, team_id, owner_team, owner_staff, pathway, stalled, severity, lines)
    select establishment, team_id, owner_team, coalesce(owner_staff, ''), pathway, step_id = '', severity, count(*)
    from board_lines where severity > 0
    group by establishment, team_id, owner_team, coalesce(owner_staff, ''), pathway, step_id = '', severity;
