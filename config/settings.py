"""MNR settings, read from environment variables (django-environ).

Every variable is listed in the README's configuration table. Defaults are the
safe ones: debug off, SQLite file for the demo, no broker (tasks in-process).
One file (~490 lines) on purpose: every setting and its validation in one
place, in the order the README's table lists them.
"""

import hashlib
from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from common import keys as mnr_keys

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=False)
# Demo mode: the one-command demo (seeded accounts, 2FA off). Never in production.
MNR_DEMO_MODE = env.bool("MNR_DEMO_MODE", default=False)

# Keys (common/keys.py): each is checked for format and length when the settings
# load; a bad one stops the process. With debug on and a key unset, random keys
# are created once in a git-ignored file of the checkout (never derived from a
# public secret); with debug off, every key must be given.
_DEV_KEYS_FILE = Path(env.str("MNR_DEV_KEYS_FILE", default=str(BASE_DIR / ".mnr-dev-keys.json")))
_KEY_NAMES = (
    "DJANGO_SECRET_KEY",
    "MNR_FIELD_ENCRYPTION_KEYS",
    "MNR_BLIND_INDEX_KEY",
    "MNR_AUDIT_CHAIN_KEY",
    "MNR_AUDIT_SIGNING_KEY",
)
_unset_keys = [name for name in _KEY_NAMES if not env.str(name, default="").strip()]
if _unset_keys and not DEBUG:
    raise ImproperlyConfigured(
        f"{', '.join(_unset_keys)} must be set when DJANGO_DEBUG is off. "
        "Generate them with: python -m common.keys"
    )
_dev_keys = mnr_keys.dev_keys(_DEV_KEYS_FILE) if _unset_keys else {}


def _key(name: str) -> str:
    return env.str(name, default="").strip() or _dev_keys[name]


SECRET_KEY = _key("DJANGO_SECRET_KEY")
try:
    # Encryption at rest of personal fields (Fernet keys, newest first; old ones
    # still decrypt) and the key of the blind index used to spot duplicates.
    MNR_FIELD_ENCRYPTION_KEYS = mnr_keys.check_fernet_keys(
        "MNR_FIELD_ENCRYPTION_KEYS", _key("MNR_FIELD_ENCRYPTION_KEYS").split(",")
    )
    MNR_BLIND_INDEX_KEY = _key("MNR_BLIND_INDEX_KEY")
    mnr_keys.check_secret("MNR_BLIND_INDEX_KEY", MNR_BLIND_INDEX_KEY)
    # The access log's chain is an HMAC under this key, held outside the database;
    # its head is checkpointed, signed with this Ed25519 key, to a directory
    # outside the database (docs/audit.md).
    MNR_AUDIT_CHAIN_KEY = _key("MNR_AUDIT_CHAIN_KEY")
    mnr_keys.check_secret("MNR_AUDIT_CHAIN_KEY", MNR_AUDIT_CHAIN_KEY)
    MNR_AUDIT_SIGNING_KEY = _key("MNR_AUDIT_SIGNING_KEY")
    mnr_keys.check_signing_key("MNR_AUDIT_SIGNING_KEY", MNR_AUDIT_SIGNING_KEY)
except mnr_keys.WeakKey as exc:
    raise ImproperlyConfigured(str(exc)) from None
MNR_AUDIT_CHECKPOINT_DIR = Path(
    env.str("MNR_AUDIT_CHECKPOINT_DIR", default=str(BASE_DIR / "var" / "audit-checkpoints"))
)

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "guardian",
    "simple_history",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "csp",
    "dsfr",
    "widget_tweaks",
    "agencies",
    "referral",
    "cases",
    "identification",
    "audit",
    "stats",
    "api",
    "web",
    "notifications",
    "records",
    "demo",
]

MIDDLEWARE = [
    "audit.context.RequestContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # A signed-in person who needs 2FA reaches only the 2FA pages until verified.
    "web.middleware.TwoFactorGateMiddleware",
    # Nothing a signed-in person receives is kept by a browser or proxy cache.
    "web.middleware.NoStoreWhenSignedInMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Domain errors escaping a web view → 404/403 pages or a message (web/errors.py).
    "web.errors.DomainErrorMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "csp.context_processors.nonce",
                "web.context_processors.navigation",
            ],
        },
    },
]

# Database: PostgreSQL in production and CI, an SQLite file for the demo.
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {})
    # A request never waits forever on an unreachable database.
    DATABASES["default"]["OPTIONS"].setdefault("connect_timeout", 3)
    # Server-side binding lets psycopg prepare statements run repeatedly, so
    # PostgreSQL plans the permission-filtered queries once per connection
    # instead of on every request (planning cost more than executing them).
    # Off behind a transaction-pooling PgBouncer (DJANGO_DB_PREPARED_STATEMENTS=false).
    if env.bool("DJANGO_DB_PREPARED_STATEMENTS", default=True):
        DATABASES["default"]["OPTIONS"].setdefault("server_side_binding", True)
        DATABASES["default"]["OPTIONS"].setdefault("prepare_threshold", 5)
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The demo's file: every read also writes its access-log entry, so requests
    # in runserver's threads write concurrently. WAL lets readers run beside the
    # writer; a writer waits for the lock (timeout, seconds) instead of failing
    # with "database is locked"; IMMEDIATE transactions take the write lock when
    # they begin, since a read transaction that later writes cannot wait for it.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault(
        "init_command", "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL"
    )
    DATABASES["default"]["OPTIONS"].setdefault("timeout", 20)
    DATABASES["default"]["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "agencies.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# No anonymous guardian user: an anonymous request never holds an object permission.
ANONYMOUS_USER_NAME = None

# Redis: broker and cache when configured; without it tasks run in-process.
REDIS_URL = env.str("REDIS_URL", default="")

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "common.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
            "KEY_PREFIX": "mnr",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# "memory://localhost/", not "memory://": otherwise kombu warns of a missing hostname
# when the first in-process task runs (the memory transport needs none).
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 120
CELERY_TASK_SOFT_TIME_LIMIT = 90
CELERY_TIMEZONE = "Europe/Paris"
# Broker calls have short timeouts and few retries: a Redis outage must never hang
# a request. What was not enqueued is picked up by the periodic sweeps.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_timeout": 2,
    "socket_connect_timeout": 2,
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
    "visibility_timeout": 3600,
}
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_BEAT_SCHEDULE = {
    "expire-overdue-routings": {
        "task": "referral.tasks.routings_expire_overdue",
        "schedule": 60.0,
    },
    "sweep-submitted-referrals": {
        "task": "referral.tasks.referrals_sweep_submitted",
        "schedule": 60.0,
    },
    "remind-overdue-steps": {
        "task": "cases.tasks.remind_overdue_steps",
        "schedule": crontab(hour=8, minute=0),
    },
    "apply-retention": {
        "task": "records.tasks.apply_retention_task",
        "schedule": crontab(hour=3, minute=30),
    },
    "expire-idempotency-keys": {
        "task": "records.tasks.idempotency_expire_task",
        "schedule": crontab(minute=20),
    },
    "repair-statistics-table": {
        "task": "stats.tasks.facts_repair_task",
        "schedule": crontab(hour=4, minute=15),
    },
    # Statistics are published once a month, after the night's repair: releases
    # read the publication, so two releases never differ by one referral.
    "publish-statistics": {
        "task": "stats.tasks.publish_task",
        "schedule": crontab(day_of_month=1, hour=5, minute=0),
    },
    "relay-notification-outbox": {
        "task": "notifications.tasks.outbox_relay",
        "schedule": 30.0,
    },
    # Shares end on their date: reads stop at once; this ends the grants and logs it.
    # Identification deadlines: reminders to the unit, escalation when missed.
    "identification-deadlines": {
        "task": "identification.tasks.deadlines_task",
        "schedule": crontab(minute=10),
    },
    "expire-case-shares": {
        "task": "cases.tasks.expire_case_shares",
        "schedule": crontab(minute=5),
    },
    # The access log's chain head, signed, outside the database (docs/audit.md).
    "audit-checkpoint": {
        "task": "audit.tasks.audit_checkpoint_task",
        "schedule": crontab(minute="*/15"),
    },
    "purge-signin-lockouts": {
        "task": "agencies.tasks.signin_lockouts_purge_task",
        "schedule": crontab(minute=7),
    },
}

# Sharing a case with a named person of another agency: at most this many days.
MNR_SHARE_MAX_DAYS = env.int("MNR_SHARE_MAX_DAYS", default=90)

# Referral routing (docs/domain.md, "Routing").
MNR_ROUTING_DEADLINE_HOURS = env.int("MNR_ROUTING_DEADLINE_HOURS", default=48)
MNR_ROUTING_DEADLINE_DANGER_HOURS = env.int("MNR_ROUTING_DEADLINE_DANGER_HOURS", default=4)
# A referral still "submitted" this long after submission is routed by the sweep.
MNR_SWEEP_SUBMITTED_AFTER = timedelta(
    seconds=env.int("MNR_SWEEP_SUBMITTED_AFTER_SECONDS", default=120)
)

# Identification (docs/identification.md). Deadlines in working days (Monday to
# Friday; public holidays are not counted out), periods in calendar days.
MNR_IDENTIFICATION_DAYS = env.int("MNR_IDENTIFICATION_DAYS", default=5)
MNR_IDENTIFICATION_DAYS_MINOR = env.int("MNR_IDENTIFICATION_DAYS_MINOR", default=3)
MNR_IDENTIFICATION_DAYS_DANGER = env.int("MNR_IDENTIFICATION_DAYS_DANGER", default=2)
MNR_FORMAL_DECISION_DAYS = env.int("MNR_FORMAL_DECISION_DAYS", default=20)
MNR_RECOVERY_PERIOD_DAYS = env.int("MNR_RECOVERY_PERIOD_DAYS", default=30)
MNR_RECONSIDERATION_DAYS = env.int("MNR_RECONSIDERATION_DAYS", default=30)
# The unit is reminded this many working days before a deadline.
MNR_IDENTIFICATION_REMINDER_DAYS = env.int("MNR_IDENTIFICATION_REMINDER_DAYS", default=1)
# A referral goes to the identification unit of its region when there is one
# (False: always to the national unit).
MNR_IDENTIFICATION_REGIONAL = env.bool("MNR_IDENTIFICATION_REGIONAL", default=True)
if MNR_RECOVERY_PERIOD_DAYS < 30:
    raise ImproperlyConfigured(
        "MNR_RECOVERY_PERIOD_DAYS is at least 30 (CESEDA R.425-1, the directive's minimum)."
    )
for _name in (
    "MNR_IDENTIFICATION_DAYS",
    "MNR_IDENTIFICATION_DAYS_MINOR",
    "MNR_IDENTIFICATION_DAYS_DANGER",
    "MNR_FORMAL_DECISION_DAYS",
    "MNR_RECONSIDERATION_DAYS",
):
    if globals()[_name] < 1:
        raise ImproperlyConfigured(f"{_name} is a number of days, at least 1.")

# Internationalisation: French first, English available.
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("French")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
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

# E-mail: console in development; an SMTP URL in production (EMAIL_URL=smtp://…).
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="MNR <no-reply@mnr.invalid>")
MNR_PUBLIC_URL = env.str("MNR_PUBLIC_URL", default="http://127.0.0.1:8000").rstrip("/")

# Security. Production defaults (debug off) pass `manage.py check --deploy`;
# each one can be relaxed through its variable (e.g. plain HTTP on a test stack).
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("DJANGO_SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("DJANGO_CSRF_COOKIE_SECURE", default=not DEBUG)
# Sessions end after this long without a request (every request renews them).
MNR_SESSION_IDLE_MINUTES = env.int("MNR_SESSION_IDLE_MINUTES", default=30)
SESSION_COOKIE_AGE = env.int("DJANGO_SESSION_COOKIE_AGE", default=MNR_SESSION_IDLE_MINUTES * 60)
SESSION_SAVE_EVERY_REQUEST = True  # the age above is an inactivity timeout
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
# The container's own health probe speaks plain HTTP to 127.0.0.1.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https")
    if env.bool("DJANGO_BEHIND_TLS_PROXY", default=False)
    else None
)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp 4): only our own static files; no inline
# script or style. A page that must run an inline script uses the nonce
# ({{ request.csp_nonce }}), which is then added to script-src for that response.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    },
}

# Sign-in (web and API token): lockout after repeated failures (agencies/signin.py).
LOGIN_URL = "web:signin"
LOGIN_REDIRECT_URL = "web:home"
MNR_SIGNIN_MAX_FAILURES = env.int("MNR_SIGNIN_MAX_FAILURES", default=5)
MNR_SIGNIN_LOCKOUT_MINUTES = env.int("MNR_SIGNIN_LOCKOUT_MINUTES", default=15)
# Reverse proxies in front of the application: client addresses are read from
# X-Forwarded-For at exactly this depth (0: REMOTE_ADDR only; the header is
# ignored). Used by the access log and DRF's throttling (common/http.py).
MNR_TRUSTED_PROXIES = env.int("MNR_TRUSTED_PROXIES", default=0)
# Two-factor authentication (django-otp). Off in demo mode only.
OTP_TOTP_ISSUER = "MNR"
MNR_RECOVERY_CODES = 10

# API.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.PageNumberPagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "api.schema.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # DRF's JSON parser with a nesting limit (deep nesting crashed the decoder).
    "DEFAULT_PARSER_CLASSES": ["api.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "api.exceptions.exception_handler",
    # Throttling identifies clients by the same address as the access log.
    "NUM_PROXIES": MNR_TRUSTED_PROXIES,
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("MNR_THROTTLE_ANON", default="60/min"),
        "user": env.str("MNR_THROTTLE_USER", default="1200/min"),
        "auth": env.str("MNR_THROTTLE_AUTH", default="10/min"),
        "stats": env.str("MNR_THROTTLE_STATS", default="60/min"),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
MNR_API_TOKEN_TTL = timedelta(hours=env.int("MNR_API_TOKEN_TTL_HOURS", default=8))

SPECTACULAR_SETTINGS = {
    "TITLE": "MNR API",
    "DESCRIPTION": (
        "API of MNR, the national referral mechanism for victims of trafficking in "
        "human beings (France). Authenticate with a session or with "
        "`Authorization: Token <token>` obtained from `POST /api/v1/auth/token/`. "
        'Errors share one shape: `{"error": {"status", "code", "message", '
        '"fields"}}`. Objects you may not see answer 404.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "ENUM_NAME_OVERRIDES": {
        "ReferralStatusEnum": "referral.models.ReferralStatus",
        "CaseStatusEnum": "cases.models.CaseStatus",
        "RoutingOutcomeEnum": "referral.models.RoutingOutcome",
        "StepKindEnum": "cases.models.StepKind",
        "StepStatusEnum": "cases.models.StepStatus",
        "TransferStatusEnum": "cases.models.TransferStatus",
        "ClosureReasonEnum": "cases.models.ClosureReason",
        "AgencyKindEnum": "agencies.models.AgencyKind",
        "IdentificationStatusEnum": "identification.models.Status",
        "IdentificationOutcomeEnum": "identification.models.Outcome",
        "EvidenceSectionEnum": "identification.models.EvidenceSection",
    },
}

SIMPLE_HISTORY_DATE_INDEX = "composite"
# Audit (docs/audit.md). Switching these off exists for the audit-overhead benchmark only.
SIMPLE_HISTORY_ENABLED = env.bool("MNR_AUDIT_HISTORY", default=True)
MNR_AUDIT_ACCESS_LOG = env.bool("MNR_AUDIT_ACCESS_LOG", default=True)
# Statistics (docs/statistics.md): the cell-key method. Figures under
# the threshold are not shown; production refuses less than 10 or no perturbation
# (stats.checks). The key secret gives every referral its permanent record key:
# never change it once figures are published (new keys = a second, independent
# draw of every perturbation, which an analyst could average).
MNR_STATS_THRESHOLD = env.int("MNR_STATS_THRESHOLD", default=10)
MNR_STATS_PERTURB = env.bool("MNR_STATS_PERTURB", default=True)
MNR_STATS_KEY_SECRET = env.str(
    "MNR_STATS_KEY_SECRET", default=hashlib.sha256(b"mnr-stats:" + SECRET_KEY.encode()).hexdigest()
)
# The period dimensions list every year from this one when no period is given.
MNR_STATS_FIRST_YEAR = env.int("MNR_STATS_FIRST_YEAR", default=2020)
# Closed cases, and referrals that never became a case, are pseudonymised this
# many years after their last event (docs/privacy.md, records/retention.py).
MNR_RETENTION_YEARS = env.int("MNR_RETENTION_YEARS", default=5)
# A submission's idempotency key and fingerprint (an HMAC of the whole input)
# are kept this long, for retries, then erased (records/retention.py).
MNR_IDEMPOTENCY_HOURS = env.int("MNR_IDEMPOTENCY_HOURS", default=24)
SIMPLE_HISTORY_REVERT_DISABLED = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {
        # Request bodies may hold personal data: never log them.
        "django.request": {"level": "ERROR", "propagate": True},
        # In-process tasks (no broker) would print a "Task … succeeded" line each
        # (1,170 for the demo's seed); their failures still log at ERROR.
        "celery.app.trace": {"level": "INFO" if REDIS_URL else "WARNING"},
    },
}
