-- Sign-in: local passwords, sessions and personal access tokens; notes made
-- idempotent for API retries; the indexes behind the case list and the board.

-- argon2id in the PHC string format; null: the person signs in only through
-- the organisation's identity provider (OpenID Connect).
alter table staff add column password_hash text;
alter table staff add column password_changed_at timestamptz;
create unique index staff_email on staff (lower(email));

-- A session is held by a browser cookie. Only the SHA-256 of its random
-- 32-byte id is stored, so a copy of this table cannot be used to sign in.
create table sessions (
    id_hash     bytea primary key,
    staff_id    text not null references staff (id),
    created_at  timestamptz not null default now(),
    last_seen   timestamptz not null default now(),
    expires_at  timestamptz not null,       -- absolute expiry
    method      text not null,              -- password or oidc
    remote      text not null default ''
);
create index sessions_staff on sessions (staff_id);

-- Personal access tokens for API clients, stored hashed and shown once.
create table api_tokens (
    id          bigserial primary key,
    staff_id    text not null references staff (id),
    name        text not null,
    token_hash  bytea not null unique,
    created_at  timestamptz not null default now(),
    expires_at  timestamptz,
    last_used   timestamptz,
    revoked_at  timestamptz
);
create index api_tokens_staff on api_tokens (staff_id);

-- A note written by an API request carries the request's idempotency key, so
-- a retried request finds the note it stored the first time.
alter table notes add column request_id text;
create unique index notes_request on notes (request_id) where request_id is not null;

-- The case list pages by (release day, id); the board starts from open
-- steps that are overdue.
create index cases_list on cases ((coalesce(release_day, '9999-12-31'::date)), id) where closed_at is null;
create index audit_at on audit (at, id);
create index audit_actor on audit (actor, at);
