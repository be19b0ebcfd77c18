#!/bin/sh
# Run by the postgres image once, when it creates the cluster (/docker-entrypoint-initdb.d): the streaming replica
# of `docker compose --profile scale` (db-replica) copies and follows the primary as the owner of the tables, over
# the backend network, with the owner's password. On a cluster created before this file was mounted, run it once
# by hand and reload:
#   docker compose exec db sh /docker-entrypoint-initdb.d/replication.sh
#   docker compose exec db psql -U census -c 'SELECT pg_reload_conf()'
set -eu
PGDATA=${PGDATA:-/var/lib/postgresql/data}
LINE="host replication ${POSTGRES_USER:-census} samenet scram-sha-256"
grep -qxF "$LINE" "$PGDATA/pg_hba.conf" || echo "$LINE" >> "$PGDATA/pg_hba.conf"
