"""/healthz against real services: up, database down (503), broker down (200)."""

from __future__ import annotations

import json
import socket

import pytest

from tests.helpers import run_django

GET_HEALTH = (
    "from django.test import Client\nimport json\n"
    "r = Client(SERVER_NAME='localhost').get('/healthz')\n"
    "print(json.dumps({'status': r.status_code, 'body': r.json()}))\n"
)


def closed_port() -> int:
    """A local port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def health(env):
    result = run_django(GET_HEALTH, {"DJANGO_SECRET_KEY": "k" * 50, **env})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.django_db
def test_healthz_up(api_client):
    r = api_client.get("/healthz")
    assert r.status_code == 200
    body = r.json()
    assert body["database"] == "up"
    assert body["broker"] in {"up", "in-process"}


@pytest.mark.django_db
def test_healthz_reports_real_redis_up(api_client, redis_url):
    assert api_client.get("/healthz").json()["broker"] == "up"


def test_healthz_503_when_database_unreachable():
    port = closed_port()
    out = health({"DATABASE_URL": f"postgres://postgres@127.0.0.1:{port}/mnr"})
    assert out["status"] == 503
    assert out["body"] == {"status": "unavailable", "database": "down", "broker": "in-process"}


def test_healthz_503_when_sqlite_file_unreachable(tmp_path):
    out = health({"DATABASE_URL": f"sqlite:///{tmp_path}/missing-dir/db.sqlite3"})
    assert out["status"] == 503
    assert out["body"]["database"] == "down"


def test_healthz_200_with_broker_down(tmp_path):
    port = closed_port()
    db = tmp_path / "db.sqlite3"
    db.touch()
    out = health({"DATABASE_URL": f"sqlite:///{db}", "REDIS_URL": f"redis://127.0.0.1:{port}/0"})
    assert out["status"] == 200
    assert out["body"] == {"status": "ok", "database": "up", "broker": "down"}
