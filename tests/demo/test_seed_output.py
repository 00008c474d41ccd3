"""`make demo` says in a few lines what it loaded (issue 14, point 5).

The seed runs as `make demo` runs it (development settings, demo mode, an SQLite
file, no broker: tasks in-process), in a child process, so that the console it
prints to is the one a person reads: its log lines and its own lines together.
Before, some 1,170 "Task … succeeded" lines and a kombu warning about a broker
the demo does not use buried the last line.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys

from tests.helpers import ROOT


def run(env: dict[str, str], *args: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout[-4000:]
    return result.stdout.splitlines()


def test_the_seed_prints_a_few_lines_and_ends_with_where_to_sign_in(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "MNR_"))}
    env.pop("REDIS_URL", None)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings_dev",
        MNR_DEMO_MODE="true",
        DATABASE_URL=f"sqlite:///{tmp_path / 'demo.sqlite3'}",
    )
    run(env, "migrate", "--noinput", "-v", "0")

    lines = run(env, "seed_demo", "--referrals", "40")

    assert 2 <= len(lines) <= 10, "\n".join(lines[:40])
    assert lines[-1] == (
        "Demo data ready at http://127.0.0.1:8000/: 12 agencies, 14 accounts "
        "(password demo-mnr-2026); 40 synthetic referrals added."
    )
    assert not [line for line in lines if "succeeded" in line or "kombu" in line]
    assert not [line for line in lines if " WARNING " in line or " ERROR " in line]
    assert any(line.startswith("Synthetic referrals: 40 added") for line in lines)

    # `make demo PORT=8001` serves, and names, another address.
    again = run({**env, "MNR_PUBLIC_URL": "http://127.0.0.1:8001"}, "seed_demo")
    assert again[-1].startswith("Demo data ready at http://127.0.0.1:8001/: ")
    assert "Synthetic referrals: already there, none added." in again
    assert len(again) <= 10


def test_only_the_success_lines_of_in_process_tasks_are_quietened(settings):
    trace = logging.getLogger("celery.app.trace")
    assert trace.isEnabledFor(logging.ERROR)  # a failing task is still reported
    assert trace.isEnabledFor(logging.INFO) is bool(settings.REDIS_URL)  # a worker's log keeps all
    assert logging.getLogger("kombu.connection").isEnabledFor(logging.WARNING)
