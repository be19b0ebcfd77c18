# The census enumeration system: one image for web (gunicorn), Celery worker and Celery beat.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
RUN apt-get update && apt-get install -y --no-install-recommends postgresql-client curl && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home --uid 1000 census && mkdir -p /data && chown census:census /data
WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY --chown=census:census . .
# collectstatic only reads files; the placeholders keep settings from reaching for a database or a key.
RUN DATABASE_URL=postgres://build@localhost/build REDIS_URL=redis://localhost:6379/0 SECRET_KEY=build-only-placeholder-key-0123456789abcdef \
    SIGNATURE_LEDGER_KEY=build-only-placeholder-ledger-key-0123456789 CENSUS_PSEUDONYM_KEY=build-only-placeholder-pseudonym-key-012345 \
    python manage.py collectstatic --noinput --verbosity 0
USER census
EXPOSE 8000
CMD ["gunicorn", "census.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "4", "--threads", "2"]
