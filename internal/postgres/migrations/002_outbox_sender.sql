-- The email sender: leases on claimed rows, the Message-ID each row is sent
-- with, and a record of every attempt.

alter table outbox add column claimed_until timestamptz;
alter table outbox add column message_id text;
alter table outbox add column digest_id bigint references outbox (id);
alter table outbox drop constraint outbox_state_check;
alter table outbox add constraint outbox_state_check
    check (state in ('pending', 'sending', 'sent', 'undeliverable', 'digest', 'digested'));

drop index outbox_due;
create index outbox_claimable on outbox (next_attempt_at) where state in ('pending', 'sending');
create index outbox_digest on outbox (recipient) where state = 'digest';

create table outbox_attempts (
    id          bigserial primary key,
    outbox_id   bigint not null references outbox (id),
    at          timestamptz not null default now(),
    sender      text not null,          -- which sender process tried
    outcome     text not null check (outcome in ('sent', 'retry', 'undeliverable')),
    error       text,
    ms          integer not null
);

create index outbox_attempts_row on outbox_attempts (outbox_id);

-- A daily digest belongs to no one case.
alter table outbox alter column case_id drop not null;
create unique index outbox_digest_key on outbox (alarm_key, recipient) where case_id is null;
