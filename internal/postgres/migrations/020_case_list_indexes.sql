-- The case list and search at national size (300,000 cases).
--
-- The default list holds open cases and those closed in the last 90 days
-- (postgres.ClosedStayOnList), which the partial index cases_list (open
-- cases only) cannot serve, so every list request sorted every case. This
-- index is in the list's order over all cases: a page is an index range
-- scan that skips the few closed long ago.
create index cases_list_any on cases ((coalesce(release_day, '9999-12-31'::date)), id);

-- Search by part of a name (ILIKE '%…%') reads every case without a
-- trigram index. pg_trgm ships with PostgreSQL's contrib modules (in the
-- Debian packages and the official images) and is a trusted extension, so
-- the database's owner may create it; where it is missing, search still
-- works, by reading every case.
do $$
begin
    if exists (select 1 from pg_available_extensions where name = 'pg_trgm') then
        create extension if not exists pg_trgm;
        create index cases_name_trgm on cases using gin ((given_name || ' ' || family_name) gin_trgm_ops);
    end if;
end $$;
