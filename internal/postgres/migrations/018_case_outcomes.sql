-- The outcomes report (issue 14) at national size. It counted, for every
-- case in scope, the release step in steps and the closure's outcomes in
-- the case's saved state (jsonb, often stored out of line): at 300,000
-- cases, a read of every one of them a view. SaveCase now keeps a copy of
-- what the report counts in the case's row, and the report reads a
-- partial index that holds all of it.
--
-- released_on is the day the person was released: the release step is
-- done, and the day is the one recorded (state's released_on) or, for a
-- case opened after it, the release day. Null until then, and again after
-- a recall starts the case afresh. Each outcome is what the closure
-- recorded (resettlement.Outcome): null when not recorded or not closed.
alter table cases
    add column released_on date,
    add column outcome_accommodation_night_one boolean,
    add column outcome_accommodation_12_weeks boolean,
    add column outcome_gp_registered boolean,
    add column outcome_id_obtained boolean,
    add column outcome_bank_account boolean,
    add column outcome_benefits_in_payment boolean;

-- The cases saved before this migration, by the rule the report used.
update cases c set
    released_on = coalesce((c.state->>'released_on')::date, c.release_day),
    outcome_accommodation_night_one = (c.state->'closure'->'outcome'->>'accommodation_night_one')::boolean,
    outcome_accommodation_12_weeks = (c.state->'closure'->'outcome'->>'accommodation_12_weeks')::boolean,
    outcome_gp_registered = (c.state->'closure'->'outcome'->>'gp_registered')::boolean,
    outcome_id_obtained = (c.state->'closure'->'outcome'->>'id_obtained')::boolean,
    outcome_bank_account = (c.state->'closure'->'outcome'->>'bank_account')::boolean,
    outcome_benefits_in_payment = (c.state->'closure'->'outcome'->>'benefits_in_payment')::boolean
where exists (select 1 from steps s where s.case_id = c.id and s.id = 'release' and s.status = 'done');

-- The report's scope is a manager's or head of service's teams (or, for
-- other scopes, prisons): by team or by prison, then day of release, each
-- carrying the other and the outcomes, so a report over a run of months is
-- an index-only scan of just the releases it counts. Only released cases
-- are in them.
create index cases_released_team on cases (team_id, released_on)
    include (establishment, outcome_accommodation_night_one, outcome_accommodation_12_weeks, outcome_gp_registered,
             outcome_id_obtained, outcome_bank_account, outcome_benefits_in_payment)
    where released_on is not null;
create index cases_released_establishment on cases (establishment, released_on)
    include (team_id, outcome_accommodation_night_one, outcome_accommodation_12_weeks, outcome_gp_registered,
             outcome_id_obtained, outcome_bank_account, outcome_benefits_in_payment)
    where released_on is not null;
