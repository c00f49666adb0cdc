-- The outbox sender scaled out to several workers.
--
-- Claims: a sender holds the rows it claimed for a short lease
-- (claimed_until, 30 s by default) that it renews while it works on them,
-- so the rows of a sender that died are claimable again within the lease,
-- not after the five minutes a batch could once take. claimed_by names the
-- holder (the sender's name and a random suffix, unique to each run) for
-- the renewals and for operators.
--
-- The send rate: SMTP_RATE is one limit shared by every sender. Each
-- sender takes a slot from this row, one message at a time, before putting
-- a message on the wire: next_slot is the earliest moment the next message
-- may go, so messages leave at least SMTP_RATE's interval apart however many
-- workers run. One row per relay (key).

alter table outbox add column claimed_by text;

create table outbox_rate (
    key       text primary key,
    next_slot timestamptz not null
);
