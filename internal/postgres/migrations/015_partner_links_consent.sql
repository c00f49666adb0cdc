-- Issue 13: the person's consent to share, one-time links for partner
-- agencies, and assignment emails.
--
-- Consent is personal data about the person's choices, so it lives here
-- and never in Temporal: the application service checks it before it asks
-- a case's workflow for a change that needs it. One live consent per case
-- and purpose; withdrawing keeps the row (who recorded it, when, and who
-- withdrew it) and a new consent is a new row.
create table consents (
    id           bigserial primary key,
    case_id      text not null references cases (id),
    -- housing-referral (the duty to refer to a housing authority),
    -- gp-sharing (sharing with a GP practice), or partner:<name> (sharing
    -- with one named partner)
    purpose      text not null check (purpose in ('housing-referral', 'gp-sharing') or purpose ~ '^partner:.+$'),
    given_on     date not null,        -- the day the person gave it
    recorded_by  text not null,        -- staff id
    recorded_at  timestamptz not null default now(),
    withdrawn_on date,
    withdrawn_by text,
    withdrawn_at timestamptz,
    request_id   text,                 -- the recording's idempotency key, for its retries
    check ((withdrawn_at is null) = (withdrawn_by is null) and (withdrawn_at is null) = (withdrawn_on is null))
);

create unique index consents_live on consents (case_id, lower(purpose)) where withdrawn_at is null;
create unique index consents_request on consents (case_id, request_id) where request_id is not null;

-- A one-time link a partner agency (a council's housing options team, a
-- GP practice, a Jobcentre) answers a waiting step through. The token in
-- the emailed link and the reference the officer gives by phone are kept
-- as SHA-256 hashes only. What the officer asks is free text, so it is a
-- note (ask_note_id), like the partner's answer.
create table partner_links (
    id              text primary key,  -- opaque; the partner acts as partner:<id>
    case_id         text not null references cases (id),
    step_id         text not null,
    purpose         text not null,     -- the consent it was sent under
    partner_name    text not null,
    partner_email   text not null,
    ask_note_id     bigint not null references notes (id),
    token_hash      bytea not null unique,
    code_hash       bytea not null,
    created_by      text not null,
    created_at      timestamptz not null default now(),
    expires_at      timestamptz not null,
    request_id      text,              -- the officer's idempotency key, for retries
    revoked_at      timestamptz,
    revoked_by      text,
    revoke_reason   text,
    failed_attempts integer not null default 0,
    locked_at       timestamptz,       -- after five wrong references
    answered_at     timestamptz,
    answer          text check (answer in ('complete', 'waiting'))
);

create index partner_links_case on partner_links (case_id, step_id);
create unique index partner_links_request on partner_links (case_id, created_by, request_id) where request_id is not null;

-- People may turn off the emails that tell them a step or a case was
-- given to them.
alter table staff drop constraint staff_muted_check;
alter table staff add constraint staff_muted_check
    check (muted <@ array['reminder', 'due', 'unassigned', 'transfer', 'assigned']::text[]);
