-- Retention and subject access (postgres.AnonymiseClosedCases,
-- postgres.SubjectAccess) reach the personal data issue 13 added: a
-- case's prison movement events, consents, partner links and import rows,
-- and the events and import rows that belong to no case. Both find them by
-- case, and the sweep finds the caseless events by age, so each lookup has
-- an index rather than a scan of the whole table per batch of cases.
create index events_case on events (case_id) where case_id is not null;
create index events_caseless on events (received_at) where case_id is null;
create index consents_case on consents (case_id);
create index import_rows_case on import_rows (case_id) where case_id is not null;
-- A subject access request names a person by prison number.
create index import_rows_person on import_rows (prison_number);

-- Cases anonymised before the sweep reached these tables: remove the same
-- personal data from their rows now, as postgres.scrubCaseRecords would have.
update events set body = to_jsonb('[removed]'::text), prison_number = '[removed]',
    decided_by = case when status in ('received', 'held', 'parked') then 'system:retention' else decided_by end,
    processed_at = case when status in ('received', 'held', 'parked') then now() else processed_at end,
    status = case when status in ('received', 'held', 'parked') then 'dismissed' else status end
    where case_id in (select id from cases where anonymised_at is not null);
delete from consents where case_id in (select id from cases where anonymised_at is not null);
update partner_links set partner_name = '[removed]', partner_email = '[removed]',
    revoke_reason = case when revoke_reason is null then null else '[removed]' end
    where case_id in (select id from cases where anonymised_at is not null);
update import_rows set prison_number = '[removed]', request = null
    where case_id in (select id from cases where anonymised_at is not null);
