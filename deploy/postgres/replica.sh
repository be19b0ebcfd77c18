#!/bin/sh
# The streaming replica of `docker compose --profile scale`: on its first start, a copy of the primary
# (pg_basebackup -R writes standby.signal and the connection to follow), then PostgreSQL as a hot standby.
set -eu
PGDATA=${PGDATA:-/var/lib/postgresql/data}
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  until pg_basebackup -h db -U "$POSTGRES_USER" -D "$PGDATA" -R -X stream -c fast; do
    echo "the primary is not ready for a base backup yet; trying again" >&2
    rm -rf "${PGDATA:?}"/*
    sleep 5
  done
  chmod 0700 "$PGDATA"
fi
# hot_standby_feedback: the primary's vacuum waits for the replica's long reads (the summary's snapshot) instead
# of cancelling them; the lag the application tolerates is its own setting (DATABASE_REPLICA_MAX_LAG_SECONDS).
exec postgres -c hot_standby=on -c hot_standby_feedback=on -c max_standby_streaming_delay=60s
