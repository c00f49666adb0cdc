-- Account security (ASVS 4.0.3 level 2): sign-in throttling per account,
-- TOTP with recovery codes, OpenID Connect accounts linked by issuer and
-- subject, and whether a session has passed its second factor.

-- Failed sign-ins per account, shared by every API process. key is
-- 'staff:<id>' for an account, or 'login:<name as typed, lower-cased>' for
-- a name that matches none, so an unknown name is throttled exactly like
-- a real one and the answers do not tell them apart.
create table signin_throttle (
    key           text primary key,
    staff_id      text references staff (id),
    failures      integer not null default 0,
    last_failure  timestamptz,
    locked_until  timestamptz
);

-- A member of staff's TOTP (RFC 6238) secret. It is shown once, at
-- enrolment, and never returned after; confirmed_at is null until the
-- first code proves the authenticator app has it. last_step is the
-- newest 30-second step a code was accepted for: a code is good once.
create table staff_totp (
    staff_id      text primary key references staff (id),
    secret        bytea not null,
    confirmed_at  timestamptz,
    last_step     bigint not null default 0,
    created_at    timestamptz not null default now()
);

-- Ten single-use recovery codes per enrolment, only their SHA-256 kept
-- (each has 80 random bits, so a fast hash is enough).
create table staff_recovery_codes (
    staff_id   text not null references staff (id),
    code_hash  bytea not null,
    used_at    timestamptz,
    primary key (staff_id, code_hash)
);

-- An account signs in through OpenID Connect as the provider's (issuer,
-- subject), linked at the person's first sign-in by a verified email
-- address; after that the email claim is never used to find the account.
create table staff_identities (
    issuer     text not null,
    subject    text not null,
    staff_id   text not null references staff (id),
    email      text not null default '',  -- the email claim when linked, for the record
    linked_at  timestamptz not null default now(),
    last_used  timestamptz,
    primary key (issuer, subject),
    unique (staff_id, issuer)
);

-- When the session passed TOTP; null: it has not (a password sign-in of
-- a person with TOTP, or whose role requires it, may do nothing else yet).
alter table sessions add column mfa_at timestamptz;
