"""Background work against real services: a real Celery worker on Redis routes a
submission; with Redis unreachable (refused, or silent) a submission is still
saved and answered 201 quickly, and the sweep routes it later."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager

import pytest
from django.conf import settings
from django.db import connection

from config.celery import app
from referral import tasks
from referral.models import Referral, Routing
from tests.helpers import ROOT, run_django
from tests.referral.conftest import ADULT_BODY

pytestmark = pytest.mark.django_db(transaction=True)


def database_url() -> str:
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return f"postgres://{s['USER']}{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "MNR_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_SECRET_KEY=settings.SECRET_KEY,
        MNR_FIELD_ENCRYPTION_KEYS=",".join(settings.MNR_FIELD_ENCRYPTION_KEYS),
        MNR_BLIND_INDEX_KEY=settings.MNR_BLIND_INDEX_KEY,
        MNR_AUDIT_CHAIN_KEY=settings.MNR_AUDIT_CHAIN_KEY,
        MNR_AUDIT_SIGNING_KEY=settings.MNR_AUDIT_SIGNING_KEY,
        MNR_AUDIT_CHECKPOINT_DIR=str(settings.MNR_AUDIT_CHECKPOINT_DIR),
        DATABASE_URL=database_url(),
        EMAIL_URL="dummymail://",
    )
    env.update(extra)
    return env


@contextmanager
def real_broker():
    """Send tasks to Redis for the test's duration (tests run them in-process)."""
    app.conf.task_always_eager = False
    try:
        yield
    finally:
        app.conf.task_always_eager = True


def wait_for(predicate, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_real_worker_routes_a_submission(postgres, redis_url, api, world):
    queue = f"mnr-test-{os.getpid()}"
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--queues",
            queue,
            "--without-mingle",
            "--without-gossip",
            "--loglevel=INFO",
        ],
        cwd=ROOT,
        env=child_env(REDIS_URL=redis_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    old_queue = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    try:
        with real_broker():
            response = api.as_(world.referrer).post("/api/v1/referrals/", ADULT_BODY, format="json")
        assert response.status_code == 201
        reference = response.json()["reference"]

        def routed() -> bool:
            return Referral.objects.get(reference=reference).status == "routed"

        assert wait_for(routed, timeout=45), "the worker did not route the referral"
        assert Routing.objects.get(referral__reference=reference).association == world.paris
    finally:
        app.conf.task_default_queue = old_queue
        worker.terminate()
        output, _ = worker.communicate(timeout=20)
    assert "referral_route_task" in output


class SilentServer:
    """Accepts TCP connections and never answers: a hung Redis."""

    def __enter__(self) -> int:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        return self.sock.getsockname()[1]

    def __exit__(self, *exc: object) -> None:
        self.sock.close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SUBMIT_IN_CHILD = """
import json, time
from django.test import Client
from agencies.models import User
client = Client(SERVER_NAME="localhost")
client.force_login(User.objects.get(username=USERNAME))
start = time.monotonic()
r = client.post("/api/v1/referrals/", json.dumps(BODY), content_type="application/json")
print(json.dumps({"status": r.status_code, "elapsed": time.monotonic() - start,
                  "body": r.json()}))
"""


@pytest.mark.parametrize("outage", ["refused", "silent"])
def test_submission_survives_broker_outage_and_sweep_routes_it(postgres, api, world, outage):
    def submit(port: int) -> dict:
        code = SUBMIT_IN_CHILD.replace("USERNAME", repr(world.referrer.username)).replace(
            "BODY", repr(ADULT_BODY)
        )
        result = run_django(
            code,
            {
                **{k: v for k, v in child_env().items() if k.startswith(("DJANGO_", "MNR_"))},
                "DATABASE_URL": database_url(),
                "REDIS_URL": f"redis://127.0.0.1:{port}/0",
                "EMAIL_URL": "dummymail://",
            },
            timeout=60,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        return json.loads(result.stdout.strip().splitlines()[-1])

    if outage == "silent":
        with SilentServer() as port:
            out = submit(port)
    else:
        out = submit(closed_port())
    assert out["status"] == 201, out
    print(f"outage={outage} submission answered in {out['elapsed']:.2f} s")
    assert out["elapsed"] < 15, out["elapsed"]  # bounded by the broker timeouts
    referral = Referral.objects.get(reference=out["body"]["reference"])
    assert referral.status == "submitted"  # saved, waiting for the sweep
    assert not Routing.objects.exists()

    Referral.objects.filter(pk=referral.pk).update(
        submitted_at=referral.submitted_at - settings.MNR_SWEEP_SUBMITTED_AFTER
    )
    assert tasks.referrals_sweep_submitted() == 1
    referral.refresh_from_db()
    assert referral.status == "routed"
    assert Routing.objects.get().association == world.paris
