#!/bin/sh
# Run once by the postgres image, on the first start of an empty data
# directory (/docker-entrypoint-initdb.d): the roles and the database that
# deploy/compose.yaml expects.
#
#   throughgate          owns Throughgate's database and tables; only
#                        `throughgate migrate` signs in as it
#                        (MIGRATE_DATABASE_URL).
#   throughgate_app      the application's privileges, no login: migrate
#                        grants it every table but only INSERT and SELECT on
#                        the audit log (internal/postgres/roles.go).
#                        throughgate may grant it (ADMIN OPTION), so migrate
#                        needs no CREATEROLE.
#   throughgate_service  api and the workers sign in as it (DATABASE_URL);
#                        migrate makes it a member of throughgate_app, so it
#                        can add to the audit log but never change it.
#   temporal             owns Temporal's two databases; it may create
#                        databases, for temporal-sql-tool's `create`.
#
# Changing the passwords later: ALTER ROLE ... PASSWORD, then deploy/.env.
set -eu
: "${THROUGHGATE_DB_PASSWORD:?}"
: "${THROUGHGATE_APP_DB_PASSWORD:?}"
: "${TEMPORAL_DB_PASSWORD:?}"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
	-v tg_password="$THROUGHGATE_DB_PASSWORD" \
	-v app_password="$THROUGHGATE_APP_DB_PASSWORD" \
	-v temporal_password="$TEMPORAL_DB_PASSWORD" <<'SQL'
CREATE ROLE throughgate LOGIN PASSWORD :'tg_password';
CREATE DATABASE throughgate OWNER throughgate;
REVOKE ALL ON DATABASE throughgate FROM PUBLIC;
CREATE ROLE throughgate_app NOLOGIN;
GRANT throughgate_app TO throughgate WITH ADMIN OPTION;
CREATE ROLE throughgate_service LOGIN PASSWORD :'app_password';
CREATE ROLE temporal LOGIN CREATEDB PASSWORD :'temporal_password';
SQL
