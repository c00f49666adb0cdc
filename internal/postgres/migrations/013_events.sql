-- Prison movement events (docs/design.md, "Prison movement events"): every
-- event a source sends is recorded here before it is acted on, once per
-- source and event id, so a redelivery is answered with the first outcome
-- and an event that could not be acted on yet (held) or at all (parked,
-- for the managers' review queue) is kept with the reason.
--
-- The body is the event as sent: it holds personal data (prison numbers,
-- and names and dates of birth when the event carries the person's
-- record), so it lives here only, never in Temporal, a log or the audit
-- log.
create table events (
    id            bigserial primary key,
    source        text not null,              -- the EVENT_SOURCES name that signed it
    event_id      text not null,              -- the source's id for it (X-Throughgate-Event-Id)
    type          text not null,              -- eventType
    reason        text not null default '',   -- additionalInformation.reason
    prison_number text not null default '',
    establishment text not null default '',   -- the prison it concerns ('' when not known)
    occurred_at   timestamptz not null,
    received_at   timestamptz not null,
    body          jsonb not null,
    body_hash     bytea not null,             -- SHA-256 of the body as sent: the same id with another body is refused
    status        text not null default 'received'
                  check (status in ('received', 'applied', 'held', 'parked', 'ignored', 'dismissed')),
    outcome       text not null default '',   -- what was done, or why not, in words (no personal data)
    case_id       text,                       -- the case it opened or changed
    attempts      integer not null default 0, -- times processing failed on our side
    processed_at  timestamptz,
    decided_by    text,                       -- who applied or dismissed it from the review queue
    unique (source, event_id)
);

-- A person's events in the order they happened: held ones are tried again
-- after each applied one, and a late event is checked against later ones.
create index events_person on events (prison_number, occurred_at);
-- The review queue and the sweep.
create index events_open on events (status, received_at) where status in ('received', 'held', 'parked');
