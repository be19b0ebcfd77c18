# syntax=docker/dockerfile:1
# The census enumeration system, built by docker compose in two targets:
#   app    web (gunicorn), the Celery worker and beat, migrations and backups: the runtime requirements only
#   proxy  nginx with the collected static files and deploy/nginx/census.conf.template
#   pgbouncer  Debian's PgBouncer, in transaction mode in front of the primary (`docker compose --profile scale`)
# Base images are pinned to patch versions; move them on deliberately (and the compose file's with them).
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm
ARG NGINX_IMAGE=nginx:1.30.0
# The major version of the compose database (postgres:16.x). pg_dump refuses a server newer than itself and
# pg_restore an archive from a newer pg_dump, and Debian bookworm's own client is 15: the client comes from the
# PostgreSQL project's apt repository (PGDG) in the server's major version.
ARG POSTGRES_MAJOR=16

FROM ${PYTHON_IMAGE} AS app
ARG POSTGRES_MAJOR
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN set -eux; \
    apt-get update; \
    apt-get install -y --no-install-recommends ca-certificates curl; \
    install -d /usr/share/postgresql-common/pgdg; \
    curl -fsSL -o /usr/share/postgresql-common/pgdg/apt.postgresql.org.asc https://www.postgresql.org/media/keys/ACCC4CF8.asc; \
    echo "deb [signed-by=/usr/share/postgresql-common/pgdg/apt.postgresql.org.asc] https://apt.postgresql.org/pub/repos/apt bookworm-pgdg main" \
        > /etc/apt/sources.list.d/pgdg.list; \
    apt-get update; \
    apt-get install -y --no-install-recommends "postgresql-client-${POSTGRES_MAJOR}"; \
    # The summary tables' PDF for signing (WeasyPrint): Pango and a Chinese font.
    apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-wqy-microhei; \
    rm -rf /var/lib/apt/lists/*; \
    pg_dump --version | grep -q "(PostgreSQL) ${POSTGRES_MAJOR}\."
# /data: private files and beat's schedule (a volume); /backups: the backup service's sets (a host directory).
RUN useradd --create-home --uid 1000 census && install -d -o census -g census -m 0700 /data /backups
WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
# The code belongs to root: the processes, which run as census, can read it but not change it.
COPY . .
# collectstatic only reads files; the placeholders keep settings from reaching for a database or a key.
RUN DATABASE_URL=postgres://build@localhost/build REDIS_URL=redis://localhost:6379/0 SECRET_KEY=build-only-placeholder-key-0123456789abcdef \
    SIGNATURE_LEDGER_KEY=build-only-placeholder-ledger-key-0123456789 CENSUS_PSEUDONYM_KEY=build-only-placeholder-pseudonym-key-012345 \
    python manage.py collectstatic --noinput --verbosity 0
# The project's bytecode, compiled once here: the processes run as census and cannot write it beside root's code
# (nor would they, with PYTHONDONTWRITEBYTECODE), so every command and worker compiled some 160 modules as it
# started (0.17 s of a management command's 1.2 s).
RUN python -m compileall -q census enumeration supervision manage.py
USER census
EXPOSE 8000
CMD ["gunicorn", "census.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "4", "--threads", "2"]

FROM ${NGINX_IMAGE} AS proxy
# The official image fills the ${CENSUS_…} values of /etc/nginx/templates/*.template in from the environment when
# it starts and writes the result to /etc/nginx/conf.d/; its own default server goes.
RUN rm -f /etc/nginx/conf.d/default.conf
COPY deploy/nginx/census.conf.template /etc/nginx/templates/census.conf.template
COPY --from=app /app/staticfiles /srv/census/static
ENV CENSUS_UPSTREAM=web:8000 \
    CENSUS_PROXY_HTTP_PORT=80 \
    CENSUS_PROXY_HTTPS_PORT=443 \
    CENSUS_PUBLIC_HTTPS_PORT=443 \
    CENSUS_TLS_DIR=/etc/nginx/tls \
    CENSUS_STATIC_ROOT=/srv/census

FROM ${PYTHON_IMAGE} AS pgbouncer
# Debian bookworm's PgBouncer (1.18: no protocol-level prepared statements, so the application prepares none
# through it — CENSUS_PGBOUNCER), configured from the environment by deploy/pgbouncer/entrypoint.sh.
RUN set -eux; \
    apt-get update; \
    apt-get install -y --no-install-recommends pgbouncer; \
    rm -rf /var/lib/apt/lists/*; \
    install -d -o postgres -g postgres -m 0700 /etc/pgbouncer /var/run/postgresql
COPY deploy/pgbouncer/entrypoint.sh /usr/local/bin/pgbouncer-entrypoint
USER postgres
EXPOSE 6432
CMD ["pgbouncer-entrypoint"]

# `docker build .` without a target gives the application image.
FROM app
