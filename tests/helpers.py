"""Run Django in a child process with a chosen environment (settings are read at
start-up, so settings and outage tests need a fresh interpreter)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEST_FERNET_KEY = "yS9iwpU6Tm6dNl8YtBW-0Q2m5VtT0uGdOWgvI8bXz5w="
DEV_KEYS_FILE = Path(tempfile.gettempdir()) / f"mnr-test-dev-keys-{os.getpid()}.json"
# Production settings need every key; a test may remove one with None.
TEST_KEYS = {
    "MNR_FIELD_ENCRYPTION_KEYS": TEST_FERNET_KEY,
    "MNR_BLIND_INDEX_KEY": "myjKQm74NbYed0o3wNZG7RKH6KMII3WvwIHM8l_iJuE=",
    "MNR_AUDIT_CHAIN_KEY": "gMT78OY3YZosFN0r02WRQTuF-d2yFUdgRB4Sk09ebKM=",
    "MNR_AUDIT_SIGNING_KEY": "F4OyY2josRbSSQTUMdCGL8CVlzWLDkzINtLTNFpG9OU=",
}


def run_django(
    code: str, env: dict[str, str | None], timeout: float = 60
) -> subprocess.CompletedProcess:
    child_env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "MNR_"))}
    child_env.pop("DATABASE_URL", None)
    child_env.pop("REDIS_URL", None)
    child_env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    child_env.update(TEST_KEYS)
    # Debug-mode children create their random keys here, not in the checkout.
    child_env["MNR_DEV_KEYS_FILE"] = str(DEV_KEYS_FILE)
    # The test client speaks plain HTTP (production redirects it to HTTPS).
    child_env["DJANGO_SECURE_SSL_REDIRECT"] = "false"
    for key, value in env.items():
        if value is None:
            child_env.pop(key, None)
        else:
            child_env[key] = value
    script = "import django\ndjango.setup()\n" + code
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def login_with_second_factor(client, user):
    """Sign ``client`` (django.test.Client) in as ``user`` with a confirmed TOTP
    device, as if they had entered its code: what a 2FA page test needs
    (outside demo mode, staff of associations, coordination and the platform
    reach nothing else before the second factor). Returns the device."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="MNR", confirmed=True)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device


def pg_dump_data(settings_dict: dict) -> str:
    """The data of the test database as `pg_dump --data-only` writes it (what a
    stolen backup holds)."""
    return subprocess.run(
        [
            "pg_dump",
            "--data-only",
            "-h",
            settings_dict["HOST"] or "127.0.0.1",
            "-p",
            str(settings_dict["PORT"] or 5432),
            "-U",
            settings_dict["USER"],
            settings_dict["NAME"],
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env={"PGPASSWORD": settings_dict.get("PASSWORD") or "", "PATH": "/usr/bin:/bin"},
    ).stdout
