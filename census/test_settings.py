"""Settings for the test suite: the real settings, with a test secret, fast password hashing, and a Redis
database of its own so that tests never share a Celery queue with a running demo."""

import os
from urllib.parse import urlsplit, urlunsplit

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-that-is-long-enough-for-the-checks-0123456789")
os.environ.setdefault("SIGNATURE_LEDGER_KEY", "test-only-ledger-key-that-is-long-enough-for-the-checks-0123456789")
os.environ.setdefault("CENSUS_PSEUDONYM_KEY", "test-only-pseudonym-key-that-is-long-enough-for-the-checks-012345")
os.environ.setdefault("DEBUG", "False")
os.environ.setdefault("SECURE_COOKIES", "False")
os.environ.setdefault("ALLOWED_HOSTS", "*")

from census.settings import *  # noqa: F403
from census.settings import REDIS_URL as _REDIS_URL


def _with_db(url: str, db: int) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{db}", parts.query, parts.fragment))


# Parallel test processes (pytest-xdist: gw0, gw1 …) take one Redis database each, counting down.
_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0")[2:] or 0)
REDIS_URL = _with_db(_REDIS_URL, int(os.environ.get("CENSUS_TEST_REDIS_DB", "15")) - _WORKER)
CACHES = {"default": {"BACKEND": "census.cache.SharedClientRedisCache", "LOCATION": REDIS_URL, "KEY_PREFIX": "test"}}
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL

# Hashing with Argon2 at production cost would dominate the suite; production settings keep Argon2.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]  # noqa: F405
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# Outermost: counts the requests the live server is still answering, so that a browser test's database is flushed
# after them (tests/browser/inflight.py).
MIDDLEWARE = ["tests.browser.inflight.InFlightMiddleware", *MIDDLEWARE]  # noqa: F405
