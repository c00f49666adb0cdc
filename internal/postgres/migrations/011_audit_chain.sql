-- The audit log becomes tamper-evident (OWASP ASVS 4.0.3 V7.3.3, level 3).
--
-- Each row carries the SHA-256 of the row before it and its own: hash =
-- SHA-256(prev_hash || the row's fields, each as a 4-byte big-endian
-- length and its UTF-8 bytes: id, at (UTC, microseconds), actor, action,
-- case_id ('' for none), detail, remote). The first row's prev_hash is 32
-- zero bytes. A trigger owned by the role that runs the migrations (the
-- owner) fills in id, at, prev_hash and hash under the lock of the chain's
-- one head row, so concurrent inserts make one chain in id order and the
-- application cannot choose any of them. `throughgate audit verify`
-- (postgres.VerifyAudit) recomputes the chain.
--
-- What the application's role may do with the table (insert and read,
-- never update, delete or truncate) is granted after every migration by
-- postgres.DB.Migrate (grantAppRole), not here: it needs the role, which
-- the owner may not be allowed to create.

lock table audit in share row exclusive mode;

-- Refusals now come from privileges and the append-only trigger below:
-- the rules made an update or delete silently do nothing, so nobody ever
-- learnt it was refused.
drop rule audit_no_update on audit;
drop rule audit_no_delete on audit;

alter table audit add column prev_hash bytea, add column hash bytea;

-- The chain's head: the last row's id and hash, locked by each insert.
create table audit_chain (
    one       boolean primary key default true check (one),
    last_id   bigint not null,
    last_hash bytea not null
);

create function audit_field(v text) returns bytea
language sql stable strict
as $$ select int4send(octet_length(convert_to(v, 'UTF8'))) || convert_to(v, 'UTF8') $$;

create function audit_row_hash(prev bytea, id bigint, at timestamptz, actor text, action text, case_id text, detail text, remote text)
returns bytea
language sql stable
as $$
    select sha256(prev || audit_field(id::text)
        || audit_field(to_char(at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
        || audit_field(actor) || audit_field(action) || audit_field(coalesce(case_id, ''))
        || audit_field(detail) || audit_field(remote))
$$;

-- The rows written before this migration, chained in id order.
do $$
declare
    r    record;
    prev bytea := decode(repeat('00', 32), 'hex');
    last bigint := 0;
begin
    for r in select * from audit order by id loop
        update audit set prev_hash = prev,
            hash = audit_row_hash(prev, r.id, r.at, r.actor, r.action, r.case_id, r.detail, r.remote)
            where id = r.id returning hash into prev;
        last := r.id;
    end loop;
    insert into audit_chain (last_id, last_hash) values (last, prev);
end $$;

alter table audit alter column prev_hash set not null, alter column hash set not null;

-- The trigger numbers the row: no default to take an id outside the lock.
alter table audit alter column id drop default;

create function audit_chain_append() returns trigger
language plpgsql security definer
as $$
declare
    head audit_chain;
begin
    select * into strict head from audit_chain for update;
    new.id := nextval('audit_id_seq');
    new.at := clock_timestamp();
    new.prev_hash := head.last_hash;
    new.hash := audit_row_hash(new.prev_hash, new.id, new.at, new.actor, new.action, new.case_id, new.detail, new.remote);
    update audit_chain set last_id = new.id, last_hash = new.hash;
    return new;
end
$$;

-- A security definer function must not find objects in a schema others
-- can write to: only the catalogue, this schema, and temporary objects last.
do $$
begin
    execute format('alter function audit_chain_append() set search_path = pg_catalog, %I, pg_temp', current_schema());
end $$;

revoke all on function audit_chain_append() from public;

create trigger audit_chain_append before insert on audit
    for each row execute function audit_chain_append();

-- Even the owner must disable this trigger to change or remove a row.
create function audit_append_only() returns trigger
language plpgsql
as $$
begin
    raise exception 'the audit log is append-only' using errcode = 'insufficient_privilege';
end
$$;

create trigger audit_append_only before update or delete on audit
    for each row execute function audit_append_only();
create trigger audit_no_truncate before truncate on audit
    for each statement execute function audit_append_only();

revoke all on audit, audit_chain from public;
revoke all on sequence audit_id_seq from public;
