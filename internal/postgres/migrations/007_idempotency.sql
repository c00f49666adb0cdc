-- Idempotency keys. A key names one change a person asked for, within its
-- scope: the person, the route, and the case when the route has one. The
-- request is stored as the SHA-256 of its canonical encoding, so the same
-- key sent with another request is refused rather than answered with the
-- first request's result; a retry of the same request repeats the change
-- once. result_case is the case an open made, for its retries.
create table idempotency_keys (
    staff_id     text not null,
    route        text not null,
    case_id      text not null default '',   -- '' for a route without a case
    key          text not null,
    request_hash bytea not null,
    result_case  text,
    created_at   timestamptz not null default now(),
    primary key (staff_id, route, case_id, key)
);

-- A note stored for a request is found again by its request id within its
-- own case only: the same key on another case is another note.
drop index notes_request;
create unique index notes_case_request on notes (case_id, request_id) where request_id is not null;
