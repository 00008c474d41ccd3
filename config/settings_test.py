"""Settings for the test suite: production settings plus a throwaway secret key.

DATABASE_URL and REDIS_URL are honoured exactly as in production, so the same
suite runs on SQLite alone or on PostgreSQL and Redis (CI).
"""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-not-for-production")

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
