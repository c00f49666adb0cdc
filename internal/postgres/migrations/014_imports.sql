-- Caseload imports (README.md, "Loading a caseload"): a CSV file of people
-- to open cases for, checked row by row, then opened by the ImportCases
-- workflow in batches. The workflow carries the import's id, counts and
-- line numbers only; the rows, which are personal data, live here.

create table imports (
    id             text primary key,           -- opaque, like a case id
    created_by     text not null references staff (id),
    created_at     timestamptz not null default now(),
    file_name      text not null default '',
    file_sha256    bytea not null,
    request_key    text,                       -- the client's Idempotency-Key, if any
    -- checked: stored from the pages' check, waiting to be started;
    -- running: the workflow is opening its rows; done: every row dealt with
    status         text not null check (status in ('checked', 'running', 'done')),
    last_line      integer not null,           -- the file's last line holding a row
    total_rows     integer not null,           -- data rows in the file
    invalid        integer not null,           -- rows with problems: never opened
    to_open        integer not null,           -- rows without problems: the import deals with each
    checked_open   integer not null,           -- of them, already open when the file was checked
    opened         integer not null default 0, -- cases the import opened
    already_open   integer not null default 0, -- rows whose person had an open case for the booking
    failed         integer not null default 0, -- rows refused when the import reached them
    started_at     timestamptz,
    finished_at    timestamptz
);

create unique index imports_request_key on imports (created_by, request_key) where request_key is not null;
create index imports_by on imports (created_by, created_at desc);

-- One row of an import's file. request holds the open-case request until
-- the row is dealt with, then is cleared: the case holds the person from
-- then on. A row's line and its import's id make the idempotency key of
-- its opening, so a row opened before a crash is not opened twice.
create table import_rows (
    import_id     text not null references imports (id) on delete cascade,
    line          integer not null,
    status        text not null check (status in ('invalid', 'pending', 'opened', 'already-open', 'failed')),
    prison_number text not null default '',
    request       jsonb,
    problems      jsonb not null default '[]',
    found_open    boolean not null default false, -- the person had an open case for the booking when the file was checked
    case_id       text,                           -- the case opened, or the open case (when the importer may see it)
    primary key (import_id, line)
);

create index import_rows_pending on import_rows (import_id, line) where status = 'pending';
