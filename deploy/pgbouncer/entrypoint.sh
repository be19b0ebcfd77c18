#!/bin/sh
# PgBouncer in transaction mode in front of the primary (`docker compose --profile scale`): the application role's
# clients (web processes, workers on several hosts) share a few server connections. The configuration is written
# from the environment when the container starts; the password stays in the container.
set -eu
umask 077
cat > /etc/pgbouncer/userlist.txt <<USERS
"census_app" "${CENSUS_APP_DB_PASSWORD}"
USERS
cat > /etc/pgbouncer/pgbouncer.ini <<INI
[databases]
census = host=${PGBOUNCER_UPSTREAM_HOST:-db} port=5432 dbname=census

[pgbouncer]
listen_addr = 0.0.0.0
listen_port = 6432
unix_socket_dir =
auth_type = scram-sha-256
auth_file = /etc/pgbouncer/userlist.txt
pool_mode = transaction
max_client_conn = ${PGBOUNCER_MAX_CLIENT_CONN:-1000}
default_pool_size = ${PGBOUNCER_POOL_SIZE:-20}
ignore_startup_parameters = extra_float_digits,options
server_reset_query =
INI
exec pgbouncer /etc/pgbouncer/pgbouncer.ini
