"""Settings for the test suite: production settings plus a throwaway secret key.

DATABASE_URL and REDIS_URL are honoured exactly as in production, so the same
suite runs on SQLite alone or on PostgreSQL and Redis (CI).
"""

import os
import tempfile

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-not-for-production")
# Test-only keys (never used anywhere else).
os.environ.setdefault("MNR_FIELD_ENCRYPTION_KEYS", "yS9iwpU6Tm6dNl8YtBW-0Q2m5VtT0uGdOWgvI8bXz5w=")
os.environ.setdefault("MNR_BLIND_INDEX_KEY", "myjKQm74NbYed0o3wNZG7RKH6KMII3WvwIHM8l_iJuE=")
os.environ.setdefault("MNR_AUDIT_CHAIN_KEY", "gMT78OY3YZosFN0r02WRQTuF-d2yFUdgRB4Sk09ebKM=")
os.environ.setdefault("MNR_AUDIT_SIGNING_KEY", "F4OyY2josRbSSQTUMdCGL8CVlzWLDkzINtLTNFpG9OU=")
# Checkpoints of the test run's access log: never the checkout's var/.
os.environ.setdefault(
    "MNR_AUDIT_CHECKPOINT_DIR",
    os.path.join(tempfile.gettempdir(), f"mnr-test-checkpoints-{os.getpid()}"),
)

from .settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast tests only
REST_FRAMEWORK = {**REST_FRAMEWORK}  # noqa: F405
# No collectstatic before tests: hashed manifest storage would fail on every page.
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# Tasks run in-process in tests; the tests of the real worker and of a broker
# outage switch this off for their duration (tests/referral/test_celery_*.py).
CELERY_TASK_ALWAYS_EAGER = True
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# The test client and the browser tests' live server speak plain HTTP.
SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
