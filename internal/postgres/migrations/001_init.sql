-- Throughgate's own database. Temporal keeps its history in databases of its
-- own; this one holds the people, staff, the read model of every case, the
-- email outbox and the audit log.

create table teams (
    id            text primary key,
    name          text not null,
    establishment text not null,          -- prison code the team works in
    email         text not null default '', -- shared queue address
    manager_id    text,                   -- team manager (escalation level 1)
    head_id       text,                   -- head of service (escalation level 2)
    active        boolean not null default true,
    created_at    timestamptz not null default now()
);

create table staff (
    id             text primary key,
    name           text not null,
    email          text not null,
    role           text not null check (role in ('officer', 'manager', 'head', 'admin')),
    team_id        text references teams (id),
    -- how the person wants reminders: one email per alarm, or a daily digest
    notify         text not null default 'each' check (notify in ('each', 'digest')),
    away_until     date,                  -- out of office: reminders go to the team
    active         boolean not null default true,
    created_at     timestamptz not null default now()
);

alter table teams add foreign key (manager_id) references staff (id) deferrable initially deferred;
alter table teams add foreign key (head_id) references staff (id) deferrable initially deferred;

-- People and their personal data live here and only here: Temporal sees
-- the opaque case id.
create table cases (
    id               text primary key,
    prison_number    text not null,
    booking          text not null,       -- the custody period; one open case per person and booking
    given_name       text not null,
    family_name      text not null,
    date_of_birth    date not null,
    local_authority  text not null default '',
    opened_by        text not null,
    open_request     text,                -- the client's idempotency key for the open
    opened_at        timestamptz not null default now(),

    -- the read model, written by the workflow's SaveCase activity
    version          integer not null default 0,
    establishment    text not null,
    team_id          text not null,
    owner_id         text,
    stage            text not null default 'identified',
    stalled          boolean not null default false,
    escalation_level integer not null default 0,
    paused           boolean not null default false,
    next_due         timestamptz,
    release_day      date,
    received_on      date not null,
    last_progress    timestamptz not null default now(),
    closed_at        timestamptz,
    state            jsonb,                -- the domain Case as the workflow last saw it
    updated_at       timestamptz not null default now()
);

create unique index cases_one_open_per_booking on cases (prison_number, booking) where closed_at is null;
create unique index cases_open_request on cases (open_request) where open_request is not null;
create index cases_establishment on cases (establishment) where closed_at is null;
create index cases_team on cases (team_id) where closed_at is null;
create index cases_release_day on cases (release_day) where closed_at is null;

create table steps (
    case_id     text not null references cases (id),
    id          text not null,
    kind        text not null,
    title       text not null,
    pathway     text not null default '',
    status      text not null,
    owner_staff text,
    owner_team  text not null,
    blocking    boolean not null default false,
    due         timestamptz,
    due_date    date,
    updated     timestamptz not null,
    primary key (case_id, id)
);

create index steps_open_due on steps (due) where status in ('not-started', 'in-progress', 'waiting');
create index steps_owner on steps (owner_staff) where status in ('not-started', 'in-progress', 'waiting');

-- Notes are free text a person typed, so they may hold personal data: they
-- stay here and the workflow carries only their id.
create table notes (
    id         bigserial primary key,
    case_id    text not null references cases (id),
    author     text not null,
    body       text not null,
    created_at timestamptz not null default now()
);

-- The case's history in domain words, append-only.
create table case_events (
    case_id   text not null references cases (id),
    seq       integer not null,
    at        timestamptz not null,
    by_staff  text,
    kind      text not null,
    step_id   text,
    from_status text,
    to_status text,
    note_id   bigint references notes (id),
    text      text not null,
    primary key (case_id, seq)
);

-- One row per email to send. The unique key makes raising the same alarm
-- twice (a retried activity, a replayed workflow) a no-op.
create table outbox (
    id              bigserial primary key,
    case_id         text not null references cases (id),
    alarm_key       text not null,
    recipient       text not null,        -- email address
    recipient_id    text,                 -- staff or team id
    kind            text not null,        -- reminder, due, escalation, unassigned, stalled, transfer
    template        text not null,
    data            jsonb not null,
    state           text not null default 'pending' check (state in ('pending', 'sending', 'sent', 'undeliverable', 'digest')),
    attempts        integer not null default 0,
    last_error      text,
    next_attempt_at timestamptz not null default now(),
    sent_at         timestamptz,
    created_at      timestamptz not null default now(),
    unique (case_id, alarm_key, recipient)
);

create index outbox_due on outbox (next_attempt_at) where state = 'pending';

-- Every view and change of a case by a person, append-only.
create table audit (
    id         bigserial primary key,
    at         timestamptz not null default now(),
    actor      text not null,
    action     text not null,
    case_id    text,
    detail     text not null default '',
    remote     text not null default ''
);

create index audit_case on audit (case_id, at);

create rule audit_no_update as on update to audit do instead nothing;
create rule audit_no_delete as on delete to audit do instead nothing;
