"""Settings defaults and failures, each in a fresh interpreter."""

from __future__ import annotations

import json

import pytest

from tests.helpers import TEST_KEYS, run_django

PRINT = (
    "from django.conf import settings as s\nimport json\n"
    "db = s.DATABASES['default']\n"
    "print(json.dumps({'engine': db['ENGINE'], 'name': str(db['NAME']),"
    " 'eager': s.CELERY_TASK_ALWAYS_EAGER, 'broker': s.CELERY_BROKER_URL, 'debug': s.DEBUG,"
    " 'cache': s.CACHES['default']['BACKEND'], 'lang': s.LANGUAGE_CODE}))\n"
)


def settings_with(env):
    result = run_django(PRINT, env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_mode_without_secret_key_is_a_clear_error():
    result = run_django("pass", {"DJANGO_DEBUG": None, "DJANGO_SECRET_KEY": None})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off" in result.stderr


def test_empty_secret_key_is_refused_too():
    result = run_django("pass", {"DJANGO_DEBUG": "false", "DJANGO_SECRET_KEY": ""})
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_defaults_sqlite_file_no_broker_tasks_in_process():
    s = settings_with({"DJANGO_SECRET_KEY": "k" * 50})
    assert s["engine"] == "django.db.backends.sqlite3"
    assert s["name"].endswith("db.sqlite3")
    assert s["eager"] is True
    assert s["broker"] == "memory://localhost/"
    assert s["debug"] is False
    assert s["cache"].endswith("LocMemCache")
    assert s["lang"] == "fr"


def test_debug_mode_runs_without_secret_key():
    s = settings_with({"DJANGO_DEBUG": "true", "DJANGO_SECRET_KEY": None})
    assert s["debug"] is True


def test_database_and_redis_urls_are_honoured():
    s = settings_with(
        {
            "DJANGO_SECRET_KEY": "k" * 50,
            "DATABASE_URL": "postgres://mnr:pw@db.example:5432/mnr",
            "REDIS_URL": "redis://cache.example:6379/0",
        }
    )
    assert s["engine"] == "django.db.backends.postgresql"
    assert s["name"] == "mnr"
    assert s["eager"] is False
    assert s["broker"] == "redis://cache.example:6379/0"
    assert s["cache"].endswith("RedisCache")


KEY_SETTINGS = (
    "MNR_FIELD_ENCRYPTION_KEYS",
    "MNR_BLIND_INDEX_KEY",
    "MNR_AUDIT_CHAIN_KEY",
    "MNR_AUDIT_SIGNING_KEY",
)


@pytest.mark.parametrize("name", KEY_SETTINGS)
def test_production_mode_without_a_key_is_a_clear_error(name):
    result = run_django("pass", {"DJANGO_SECRET_KEY": "k" * 50, name: None})
    assert result.returncode != 0
    assert f"{name} must be set when DJANGO_DEBUG is off" in result.stderr


WEAK = {
    # A one-byte blind-index key, a word, a pattern of one byte repeated.
    "MNR_BLIND_INDEX_KEY": ["k", "test-blind-index-key", "A" * 43 + "="],
    "MNR_AUDIT_CHAIN_KEY": ["x", "c2hvcnQ="],
    # Not base64, 31 bytes, a signing seed of 48 bytes.
    "MNR_AUDIT_SIGNING_KEY": ["not a key!", "A" * 10, "0123456789abcdef" * 4],
    # A malformed Fernet key (one character off), a valid key followed by junk.
    "MNR_FIELD_ENCRYPTION_KEYS": [
        "yS9iwpU6Tm6dNl8YtBW-0Q2m5VtT0uGdOWgvI8bXz5",
        "yS9iwpU6Tm6dNl8YtBW-0Q2m5VtT0uGdOWgvI8bXz5w=,oops",
    ],
}


@pytest.mark.parametrize(
    ("name", "value"), [(name, value) for name, values in WEAK.items() for value in values]
)
def test_a_weak_or_malformed_key_stops_the_process_and_check_deploy(name, value):
    for debug in ("false", "true"):
        result = manage_py(
            "check", "--deploy", env={**production_env(), "DJANGO_DEBUG": debug, name: value}
        )
        assert result.returncode != 0
        assert "ImproperlyConfigured" in result.stderr
        assert name in result.stderr
        if len(value) >= 8:  # the key itself is never shown
            assert value not in result.stderr


def test_debug_mode_creates_random_development_keys_once(tmp_path):
    code = (
        "from django.conf import settings as s\nimport json\n"
        "print(json.dumps([s.SECRET_KEY, s.MNR_FIELD_ENCRYPTION_KEYS, s.MNR_BLIND_INDEX_KEY,"
        " s.MNR_AUDIT_CHAIN_KEY, s.MNR_AUDIT_SIGNING_KEY]))"
    )
    unset = dict.fromkeys(("DJANGO_SECRET_KEY", *KEY_SETTINGS))

    def keys_in(path):
        result = run_django(code, {"DJANGO_DEBUG": "true", "MNR_DEV_KEYS_FILE": str(path), **unset})
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout.strip().splitlines()[-1])

    first = keys_in(tmp_path / "a" / "keys.json")
    assert keys_in(tmp_path / "a" / "keys.json") == first  # read back, not regenerated
    other = keys_in(tmp_path / "b.json")
    # Nothing in common with another checkout's keys: random, not derived.
    assert not {first[0], first[2], first[3], first[4], *first[1]} & {
        other[0],
        other[2],
        other[3],
        other[4],
        *other[1],
    }
    assert "insecure" not in first[0]
    assert (tmp_path / "a" / "keys.json").stat().st_mode & 0o777 == 0o600
    # A variable that is set wins over the file.
    pinned = run_django(
        code,
        {
            "DJANGO_DEBUG": "true",
            "MNR_DEV_KEYS_FILE": str(tmp_path / "a" / "keys.json"),
            **unset,
            "MNR_BLIND_INDEX_KEY": TEST_KEYS["MNR_BLIND_INDEX_KEY"],
        },
    )
    assert json.loads(pinned.stdout.strip().splitlines()[-1])[2] == TEST_KEYS["MNR_BLIND_INDEX_KEY"]


def test_the_dev_keys_file_is_ignored_by_git():
    import subprocess

    from tests.helpers import ROOT

    ignored = subprocess.run(
        ["git", "check-ignore", "-q", ".mnr-dev-keys.json"], cwd=ROOT, check=False
    )
    assert ignored.returncode == 0


def manage_py(*args: str, env: dict[str, str | None]):
    """``manage.py …`` in a fresh interpreter, with no DJANGO_SETTINGS_MODULE (so
    manage.py's own default applies) and the given environment on top."""
    import os
    import subprocess
    import sys

    from tests.helpers import DEV_KEYS_FILE, ROOT

    child = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "MNR_"))}
    child.pop("DATABASE_URL", None)
    child.pop("REDIS_URL", None)
    child.update(TEST_KEYS)
    child["MNR_DEV_KEYS_FILE"] = str(DEV_KEYS_FILE)
    for key, value in env.items():
        if value is None:
            child.pop(key, None)
        else:
            child[key] = value
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=child,
        capture_output=True,
        text=True,
        timeout=60,
    )


def production_env(**changes: str | None) -> dict[str, str | None]:
    import secrets

    return {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "mnr.example.gouv.fr",
        **changes,
    }


def test_manage_py_without_settings_module_uses_production_settings():
    result = manage_py("diffsettings", "--all", env=production_env())
    assert result.returncode == 0, result.stderr
    assert "DEBUG = False" in result.stdout
    assert "MNR_DEMO_MODE = False" in result.stdout
    # Production settings refuse to start without their secret (no dev default).
    missing = manage_py("check", env={"DJANGO_SECRET_KEY": None})
    assert missing.returncode != 0
    assert "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off" in missing.stderr
    # Data and servers need the secret; shell, migrate and runserver alike.
    migrate = manage_py("migrate", "--plan", env={"DJANGO_SECRET_KEY": None})
    assert migrate.returncode != 0 and "DJANGO_SECRET_KEY must be set" in migrate.stderr


def test_code_only_commands_run_on_a_fresh_checkout_without_secrets():
    """makemigrations (and the catalogue commands) read only the code: with no
    settings module and no secret at all, the migration check works."""
    bare = {
        "DJANGO_SECRET_KEY": None,
        **dict.fromkeys(KEY_SETTINGS),
    }
    result = manage_py("makemigrations", "--check", "--dry-run", env=bare)
    assert result.returncode == 0, result.stderr
    assert "No changes detected" in result.stdout


def test_the_demo_sets_its_own_settings_module():
    result = manage_py(
        "diffsettings",
        "--all",
        env={"DJANGO_SETTINGS_MODULE": "config.settings_dev", "MNR_DEMO_MODE": "true"},
    )
    assert result.returncode == 0, result.stderr
    assert "DEBUG = True" in result.stdout
    assert "MNR_DEMO_MODE = True" in result.stdout


def test_check_deploy_passes_with_production_settings_and_a_real_secret():
    result = manage_py("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout + result.stderr


def test_check_deploy_fails_in_demo_mode():
    result = manage_py("check", "--deploy", env=production_env(MNR_DEMO_MODE="true"))
    assert result.returncode != 0
    assert "mnr.E103" in result.stderr
    assert "MNR_DEMO_MODE" in result.stderr
    assert "mnr.E104" not in result.stderr


def test_check_deploy_fails_with_debug_on():
    result = manage_py("check", "--deploy", env=production_env(DJANGO_DEBUG="true"))
    assert result.returncode != 0
    assert "mnr.E104" in result.stderr
    assert "mnr.E103" not in result.stderr


def test_check_deploy_fails_when_run_as_the_demo_runs():
    """The demo's own settings module and variables (Makefile DEMO_ENV)."""
    result = manage_py(
        "check",
        "--deploy",
        env={
            "DJANGO_SETTINGS_MODULE": "config.settings_dev",
            "DJANGO_DEBUG": "true",
            "MNR_DEMO_MODE": "true",
        },
    )
    assert result.returncode != 0
    assert "mnr.E103" in result.stderr and "mnr.E104" in result.stderr


def test_a_plain_check_still_passes_in_demo_mode():
    """Only the deployment checks refuse the demo: `migrate` and `runserver` run."""
    result = manage_py("check", env=production_env(MNR_DEMO_MODE="true", DJANGO_DEBUG="true"))
    assert result.returncode == 0, result.stderr


def test_check_deploy_is_clean_with_production_settings():
    import secrets

    result = run_django(
        "from django.core.management import call_command\n"
        "call_command('check', '--deploy', '--fail-level', 'WARNING')\n",
        {
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "mnr.example.gouv.fr",
            "DJANGO_SECURE_SSL_REDIRECT": None,  # production default: on
        },
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout + result.stderr


def test_production_security_defaults_and_idle_timeout():
    result = run_django(
        "from django.conf import settings as s\n"
        "print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE,"
        " s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_AGE, s.SESSION_SAVE_EVERY_REQUEST)",
        {
            "DJANGO_SECRET_KEY": "k" * 50,
            "DJANGO_SECURE_SSL_REDIRECT": None,
            "MNR_SESSION_IDLE_MINUTES": "20",
        },
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "31536000", "True", "True", "1200", "True"]
    debug = run_django(
        "from django.conf import settings as s\nprint(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS)",
        {"DJANGO_DEBUG": "true", "DJANGO_SECURE_SSL_REDIRECT": None},
    )
    assert debug.stdout.split() == ["False", "0"]
