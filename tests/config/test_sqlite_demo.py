"""The demo on SQLite holds concurrent readers (issue 12, point 7).

Every case read also writes an access-log entry, so 40 simultaneous reads are 40
short write transactions on one SQLite file: without WAL, a busy timeout and
transactions that take the write lock when they begin, a quarter of them answered
500 "database is locked". The demo runs as ``make demo`` runs it (development
settings, demo mode, a file-based SQLite database, runserver's threads), in child
processes, so the test runs the same with the suite on PostgreSQL.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.helpers import ROOT

READERS = 40

SETUP = """
import json
from agencies.models import Membership
from agencies.services import token_issue
from cases.models import Case

case = Case.objects.filter(status="open").order_by("pk").first()
staff = Membership.objects.filter(
    agency_id=case.association_id, role__in=["caseworker", "manager"], user__is_active=True
).order_by("pk").first().user
_token, key = token_issue(user=staff)
print(json.dumps({"reference": case.reference, "token": key}))
"""


def demo_env(database: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "MNR_"))}
    env.pop("REDIS_URL", None)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings_dev",
        MNR_DEMO_MODE="true",
        DATABASE_URL=f"sqlite:///{database}",
        MNR_THROTTLE_USER="100000/min",
    )
    return env


def manage(env: dict[str, str], *args: str, timeout: float = 120) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    return result.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, server: subprocess.Popen, deadline: float) -> None:
    while time.monotonic() < deadline:
        assert server.poll() is None, server.communicate()[1][-4000:]
        try:
            urllib.request.urlopen(url, timeout=1)  # noqa: S310 (our own server)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"the demo server did not answer at {url}")


def test_forty_parallel_case_reads_on_the_sqlite_demo_all_succeed(tmp_path):
    env = demo_env(tmp_path / "demo.sqlite3")
    manage(env, "migrate", "--noinput", timeout=180)
    manage(env, "seed_demo", "--referrals", "30")
    seeded = json.loads(manage(env, "shell", "-c", SETUP).strip().splitlines()[-1])

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(f"{base}/healthz", server, time.monotonic() + 30)
        url = f"{base}/api/v1/cases/{seeded['reference']}/"
        start = threading.Barrier(READERS)
        statuses: list[int] = []
        lock = threading.Lock()

        def read() -> None:
            request = urllib.request.Request(  # noqa: S310 (our own server)
                url, headers={"Authorization": f"Token {seeded['token']}"}
            )
            start.wait()
            try:
                with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                    status = response.status
            except urllib.error.HTTPError as error:
                status = error.code
            with lock:
                statuses.append(status)

        threads = [threading.Thread(target=read) for _ in range(READERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert sorted(statuses) == [200] * READERS, statuses
