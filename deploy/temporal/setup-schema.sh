#!/bin/sh
# Temporal's databases on PostgreSQL, as Temporal's own compose sets them up
# (temporalio/samples-server, compose/scripts/setup-postgres.sh), with the
# schemas embedded in this admin-tools image, so they always match the
# server of the same version. Every step is safe to repeat: `create` skips a
# database that exists, `setup-schema -v 0.0` leaves a versioned schema
# alone, `update-schema` applies only the versions not yet applied.
# Connection settings come from SQL_PLUGIN, SQL_HOST, SQL_PORT, SQL_USER and
# SQL_PASSWORD (add SQL_TLS=true and SQL_TLS_CA_FILE for a managed server).
set -eu
for db in temporal visibility; do
	name=$db
	[ "$db" = visibility ] && name=temporal_visibility
	echo "temporal-schema: $name"
	temporal-sql-tool --db "$name" create-database
	temporal-sql-tool --db "$name" setup-schema -v 0.0
	temporal-sql-tool --db "$name" update-schema --schema-name "postgresql/v12/$db"
done
echo "temporal-schema: done"
