-- Retention (docs/design.md, "Personal data"): RETENTION_YEARS after a
-- case closes, a daily sweep (postgres.AnonymiseClosedCases) replaces the
-- person's details and the text of the case's notes with placeholders,
-- keeping ids, dates, steps, the timeline and the audit log. anonymised_at
-- says when; the sweep looks only at closed cases not yet anonymised.
alter table cases add column anonymised_at timestamptz;

create index cases_retention on cases (closed_at) where closed_at is not null and anonymised_at is null;

-- A subject access request names a person by prison number.
create index cases_prison_number on cases (prison_number);
