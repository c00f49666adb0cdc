-- The board's weekly chart of overdue steps, counted once per past instant
-- and kept. Counting a past instant replays every step's status history
-- (OverdueAt's definition); at national size that is seconds a view, so
-- each past instant is counted once, for every case, grouped by what the
-- chart filters on, and the chart then sums a few rows.
--
-- Establishment and team are the case's when the count was taken.
create table overdue_counts (
    at            timestamptz not null,
    establishment text not null,
    team_id       text not null,
    owner_staff   text not null,   -- '' when the step has no named owner
    pathway       text not null,
    steps         integer not null check (steps > 0),
    primary key (at, establishment, team_id, owner_staff, pathway)
);

-- One row per instant counted, even when nothing was overdue then, so an
-- instant with no rows above is known to be zero rather than not counted.
create table overdue_counted (
    at       timestamptz primary key,
    taken_at timestamptz not null default now()
);
