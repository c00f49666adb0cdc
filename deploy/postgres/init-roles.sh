#!/bin/sh
# Run once by the postgres image, on the first start of an empty data
# directory (/docker-entrypoint-initdb.d): the roles and the database that
# deploy/compose.yaml expects. Throughgate's role owns only its database;
# Temporal's role may create databases, for temporal-sql-tool's `create`.
# Changing the passwords later: ALTER ROLE ... PASSWORD, then deploy/.env.
set -eu
: "${THROUGHGATE_DB_PASSWORD:?}"
: "${TEMPORAL_DB_PASSWORD:?}"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
	-v tg_password="$THROUGHGATE_DB_PASSWORD" \
	-v temporal_password="$TEMPORAL_DB_PASSWORD" <<'SQL'
CREATE ROLE throughgate LOGIN PASSWORD :'tg_password';
CREATE DATABASE throughgate OWNER throughgate;
REVOKE ALL ON DATABASE throughgate FROM PUBLIC;
CREATE ROLE temporal LOGIN CREATEDB PASSWORD :'temporal_password';
SQL
