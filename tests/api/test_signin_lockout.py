"""The sign-in lockout holds under attack (issue 12, point 4), through HTTP:

- the counters are in the database: two real server processes share them, and
  a dead Redis neither opens nor breaks the lockout;
- forged X-Forwarded-For headers change nothing; with MNR_TRUSTED_PROXIES = N
  the N-th hop from the right is the client, for the access log and throttling;
- parallel attempts never check more passwords than the limit;
- when the counters cannot be reached, sign-in fails closed (503, no token, no
  session), on the API and on the web.
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
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client, RequestFactory
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.test import APIClient
from rest_framework.throttling import BaseThrottle

from agencies.models import ApiToken, SigninLockout
from agencies.signin import signin_lockouts_purge
from agencies.tasks import signin_lockouts_purge_task
from audit.models import AccessAction, AccessLog
from common.http import client_ip
from tests.factories import AgencyFactory, UserFactory

PASSWORD = "a-long-test-password"
TOKEN_URL = "/api/v1/auth/token/"
ROOT = Path(__file__).resolve().parent.parent.parent
DEAD_REDIS = "redis://127.0.0.1:6390/0"  # nothing listens there


def make_referrer():
    # A referrer: no second factor, so the password alone gives a token.
    return UserFactory(
        membership_agency=AgencyFactory(kind="frontline"), membership_role="referrer"
    )


def obtain(client, username, password=PASSWORD, **extra):
    return client.post(
        TOKEN_URL, {"username": username, "password": password}, format="json", **extra
    )


def code_of(response) -> str:
    return response.json()["error"]["code"]


@pytest.fixture
def referrer(db):
    return make_referrer()


# Forged X-Forwarded-For and the proxy depth ----------------------------------------


def test_forged_forwarded_for_headers_still_lock(api_client, referrer):
    codes = [
        obtain(
            api_client, referrer.username, "wrong", HTTP_X_FORWARDED_FOR=f"198.51.100.{i}"
        ).status_code
        for i in range(12)
    ]
    assert codes[:4] == [401] * 4
    assert codes[4:] == [429] * 8
    # The right password, from another address altogether, is refused: locked.
    other_address = APIClient(SERVER_NAME="localhost", REMOTE_ADDR="192.0.2.50")
    r = obtain(other_address, referrer.username, HTTP_X_FORWARDED_FOR="203.0.113.1")
    assert r.status_code == 429 and code_of(r) == "signin_locked"
    assert int(r.headers["Retry-After"]) > 0
    assert not ApiToken.objects.exists()
    # The access log names the real peer, never a forged address.
    failed = AccessLog.objects.filter(action=AccessAction.LOGIN_FAILED)
    assert failed.count() == 5
    assert set(failed.values_list("ip", flat=True)) == {"127.0.0.1"}


def test_forged_forwarded_for_headers_do_not_escape_throttling(api_client, db):
    codes = [
        obtain(
            api_client, f"nobody{i}", "wrong", HTTP_X_FORWARDED_FOR=f"198.51.100.{i}"
        ).status_code
        for i in range(11)
    ]
    assert codes == [401] * 10 + [429]


def test_behind_one_trusted_proxy_the_last_hop_is_the_client(api_client, referrer, settings):
    settings.MNR_TRUSTED_PROXIES = 1
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    client_a, client_b = "203.0.113.7", "203.0.113.8"
    # The client forges the left part; our proxy appends the address it saw.
    codes = [
        obtain(
            api_client, f"nobody{i}", "wrong", HTTP_X_FORWARDED_FOR=f"10.0.0.{i}, {client_a}"
        ).status_code
        for i in range(11)
    ]
    assert codes == [401] * 10 + [429]  # throttled as one client, whatever it forged
    r = obtain(
        api_client, referrer.username, "wrong", HTTP_X_FORWARDED_FOR=f"{client_a}, {client_b}"
    )
    assert r.status_code == 401  # another client: its own throttling bucket
    ips = AccessLog.objects.filter(action=AccessAction.LOGIN_FAILED).values_list("ip", flat=True)
    assert set(ips) == {client_a, client_b}
    assert AccessLog.objects.filter(actor_username=referrer.username).get().ip == client_b
    # The lockout is per username, whatever the addresses.
    for i in range(4):
        obtain(
            api_client, referrer.username, "wrong", HTTP_X_FORWARDED_FOR=f"192.0.2.{i}, 192.0.2.{i}"
        )
    r = obtain(api_client, referrer.username, HTTP_X_FORWARDED_FOR="192.0.2.99, 192.0.2.99")
    assert r.status_code == 429 and code_of(r) == "signin_locked"


@pytest.mark.parametrize(
    ("depth", "forwarded", "expected"),
    [
        (0, None, "127.0.0.1"),
        (0, "198.51.100.1", "127.0.0.1"),
        (0, "198.51.100.1, 203.0.113.7", "127.0.0.1"),
        (1, None, "127.0.0.1"),
        (1, "203.0.113.7", "203.0.113.7"),
        (1, "198.51.100.1, 203.0.113.7", "203.0.113.7"),
        (1, " 198.51.100.1 ,203.0.113.7 ", "203.0.113.7"),
        (2, "198.51.100.1, 203.0.113.7, 10.0.0.2", "203.0.113.7"),
        (2, "203.0.113.7", "203.0.113.7"),  # fewer hops than proxies: the first one
        (1, "2001:db8::1", "2001:db8::1"),
    ],
)
def test_client_ip_reads_the_configured_depth_like_drf(settings, depth, forwarded, expected):
    settings.MNR_TRUSTED_PROXIES = depth
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": depth}
    extra = {} if forwarded is None else {"HTTP_X_FORWARDED_FOR": forwarded}
    request = RequestFactory().get("/", REMOTE_ADDR="127.0.0.1", **extra)
    assert client_ip(request) == expected
    assert BaseThrottle().get_ident(Request(request)) == expected  # one answer for both


@pytest.mark.parametrize("forwarded", ["not-an-address", "198.51.100.1, <script>", ""])
def test_a_forwarded_value_that_is_no_address_falls_back_to_the_peer(settings, forwarded):
    settings.MNR_TRUSTED_PROXIES = 1
    request = RequestFactory().get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == "127.0.0.1"


def test_trusted_proxies_default_to_none():
    assert django_settings.MNR_TRUSTED_PROXIES == 0
    assert django_settings.REST_FRAMEWORK["NUM_PROXIES"] == 0


# Redis down --------------------------------------------------------------------


@pytest.fixture
def dead_redis(settings):
    """The cache (and so DRF's throttling) points at a port nothing listens on."""
    settings.CACHES = {
        "default": {
            **django_settings.CACHES["default"],
            "BACKEND": "common.cache.ResilientRedisCache",
            "LOCATION": DEAD_REDIS,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }


def test_redis_down_neither_opens_nor_breaks_the_lockout(api_client, referrer, dead_redis):
    from django.core.cache import cache

    assert cache.add("probe", 1) is False  # really down: writes are dropped
    codes = [obtain(api_client, referrer.username, "wrong").status_code for _ in range(8)]
    assert codes == [401] * 4 + [429] * 4
    r = obtain(api_client, referrer.username)  # the right password
    assert r.status_code == 429 and code_of(r) == "signin_locked"
    assert not ApiToken.objects.exists()
    # Someone else still signs in: a dead Redis breaks nothing.
    other = make_referrer()
    assert obtain(api_client, other.username).status_code == 201


def test_redis_down_web_sign_in_locks_and_still_works(referrer, dead_redis):
    client = Client(SERVER_NAME="localhost", HTTP_ACCEPT_LANGUAGE="en")
    for _ in range(5):
        client.post("/sign-in/", {"username": referrer.username, "password": "wrong"})
    r = client.post("/sign-in/", {"username": referrer.username, "password": PASSWORD})
    assert "Too many failed attempts" in r.content.decode()
    assert "_auth_user_id" not in client.session
    other = make_referrer()
    r = client.post("/sign-in/", {"username": other.username, "password": PASSWORD})
    assert r.status_code == 302


# Parallel attempts -----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_parallel_attempts_check_no_more_passwords_than_the_limit(postgres):
    user = make_referrer()
    attempts = 10  # within the throttling rate (10/min): only the lockout refuses
    barrier = threading.Barrier(attempts)
    codes: list[int] = []

    def attempt() -> None:
        try:
            client = APIClient(SERVER_NAME="localhost")
            barrier.wait()
            codes.append(obtain(client, user.username, "wrong").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Each attempt is counted before its password is checked: exactly 5 passwords
    # were checked (each failed check is logged through Django's signal), and every
    # other attempt was refused as locked; those still being checked when the lock
    # came answer "locked" too.
    assert AccessLog.objects.filter(action=AccessAction.LOGIN_FAILED).count() == 5
    assert len(codes) == attempts and set(codes) <= {401, 429}
    assert codes.count(401) <= 4
    assert obtain(APIClient(SERVER_NAME="localhost"), user.username).status_code == 429


# The counters stored: no username, purged when expired ---------------------------


def test_counters_name_no_one(api_client, referrer):
    obtain(api_client, "someone.unknown", "wrong")
    obtain(api_client, referrer.username, "wrong")
    keys = list(SigninLockout.objects.values_list("username_hash", flat=True))
    assert len(keys) == 2
    assert not any("unknown" in key or referrer.username in key for key in keys)
    import hashlib

    assert hashlib.sha256(b"someone.unknown").hexdigest() not in keys  # keyed, not a bare hash


def test_case_and_spaces_of_the_username_share_one_counter(api_client, referrer):
    for variant in [referrer.username.upper(), f"  {referrer.username} ", referrer.username]:
        obtain(api_client, variant, "wrong")
        obtain(api_client, variant, "wrong")
    assert SigninLockout.objects.count() == 1
    assert obtain(api_client, referrer.username).status_code == 429


def test_a_success_forgets_the_failures(api_client, referrer):
    for _ in range(4):
        obtain(api_client, referrer.username, "wrong")
    assert obtain(api_client, referrer.username).status_code == 201
    assert not SigninLockout.objects.exists()
    for _ in range(4):
        assert obtain(api_client, referrer.username, "wrong").status_code == 401


def test_expired_counters_are_purged(api_client, referrer):
    obtain(api_client, "nobody", "wrong")
    for _ in range(5):
        obtain(api_client, referrer.username, "wrong")
    assert SigninLockout.objects.count() == 2
    assert signin_lockouts_purge() == 0  # a window and a lock still running
    later = timezone.now() + timedelta(
        minutes=django_settings.MNR_SIGNIN_LOCKOUT_MINUTES, seconds=1
    )
    assert signin_lockouts_purge(now=later) == 2
    assert not SigninLockout.objects.exists()


def test_purge_runs_periodically(api_client, db):
    obtain(api_client, "nobody", "wrong")
    SigninLockout.objects.update(window_start=timezone.now() - timedelta(days=1))
    assert signin_lockouts_purge_task.delay().get() == 1
    schedule = django_settings.CELERY_BEAT_SCHEDULE["purge-signin-lockouts"]
    assert schedule["task"] == signin_lockouts_purge_task.name


# The counter store unreachable: fail closed --------------------------------------


@pytest.fixture
def counters_gone(db):
    """The counters' table is gone (inside the test's transaction, rolled back
    after it): every read or write of a counter is a database error."""
    table = connection.ops.quote_name(SigninLockout._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {table}")


def test_api_answers_503_and_no_token_when_the_counters_fail(api_client, referrer, counters_gone):
    for password in ("wrong", PASSWORD):
        r = obtain(api_client, referrer.username, password, HTTP_ACCEPT_LANGUAGE="en")
        assert r.status_code == 503
        assert r.json()["error"] == {
            "status": 503,
            "code": "signin_unavailable",
            "message": "Sign-in is unavailable for a moment. Try again in a few minutes.",
            "fields": {},
        }
    assert not ApiToken.objects.exists()


def test_web_answers_503_and_no_session_when_the_counters_fail(referrer, counters_gone):
    client = Client(SERVER_NAME="localhost", HTTP_ACCEPT_LANGUAGE="en")
    r = client.post("/sign-in/", {"username": referrer.username, "password": PASSWORD})
    assert r.status_code == 503
    html = r.content.decode()
    assert "Sign-in is unavailable for a moment" in html and 'id="error-summary"' in html
    assert "_auth_user_id" not in client.session
    assert client.get("/").status_code == 302  # still signed out


def test_web_message_is_translated(referrer, counters_gone):
    client = Client(SERVER_NAME="localhost", HTTP_ACCEPT_LANGUAGE="fr")
    r = client.post("/sign-in/", {"username": referrer.username, "password": PASSWORD})
    assert r.status_code == 503
    assert "La connexion est momentanément indisponible" in r.content.decode()


# Real server processes -------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Server:
    """One gunicorn process (one sync worker) serving MNR on a free port."""

    def __init__(self, env: dict[str, str]) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        child_env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "MNR_"))}
        child_env.pop("DATABASE_URL", None)
        child_env.pop("REDIS_URL", None)  # no Redis: each process has its own cache
        child_env.update(
            {"DJANGO_SETTINGS_MODULE": "config.settings_test", "DJANGO_CONN_MAX_AGE": "0"}
        )
        child_env.update(env)
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "1",
                "--timeout",
                "60",
            ],
            cwd=ROOT,
            env=child_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(self.process.stderr.read().decode()[-3000:])
            try:
                urllib.request.urlopen(f"{self.url}/healthz", timeout=5)  # noqa: S310
                return
            except urllib.error.HTTPError:
                return  # it answers (503 when its database is down)
            except OSError:
                time.sleep(0.2)
        raise TimeoutError(f"{self.url} did not start")

    def post_json(self, path: str, body: dict, headers: dict | None = None) -> tuple[int, dict]:
        request = urllib.request.Request(  # noqa: S310
            self.url + path,
            data=json.dumps(body).encode(),
            headers={
                "Content-Type": "application/json",
                "Accept-Language": "en",
                **(headers or {}),
            },
            method="POST",
        )
        return self._send(request)

    def get_json(self, path: str, headers: dict | None = None) -> tuple[int, dict]:
        return self._send(urllib.request.Request(self.url + path, headers=headers or {}))  # noqa: S310

    @staticmethod
    def _send(request: urllib.request.Request) -> tuple[int, dict]:
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def servers():
    started: list[Server] = []

    def start(count: int, env: dict[str, str]) -> list[Server]:
        new = [Server(env) for _ in range(count)]
        started.extend(new)
        for server in new:
            server.wait_ready()
        return new

    yield start
    for server in started:
        server.stop()


@pytest.mark.django_db(transaction=True)
def test_lockout_holds_across_two_worker_processes(postgres, servers):
    user, other = make_referrer(), make_referrer()
    first, second = servers(2, {"DATABASE_URL": _database_url()})
    limit = django_settings.MNR_SIGNIN_MAX_FAILURES
    # Both serve the same database: a token from one works on the other.
    status, body = second.post_json(TOKEN_URL, {"username": other.username, "password": PASSWORD})
    assert status == 201
    status, _body = first.get_json("/api/v1/auth/me/", {"Authorization": f"Token {body['token']}"})
    assert status == 200
    # Wrong passwords, alternately on each process: the lock comes at the limit, in total.
    answers = [
        (first, second)[i % 2].post_json(
            TOKEN_URL, {"username": user.username, "password": "wrong"}
        )
        for i in range(limit)
    ]
    assert [status for status, _body in answers] == [401] * (limit - 1) + [429]
    assert answers[-1][1]["error"]["code"] == "signin_locked"
    # The right password is refused by both.
    for server in (first, second):
        status, body = server.post_json(
            TOKEN_URL, {"username": user.username, "password": PASSWORD}
        )
        assert status == 429 and body["error"]["code"] == "signin_locked"
    assert not ApiToken.objects.filter(user=user).exists()


def test_sign_in_fails_closed_when_the_database_is_unreachable(servers):
    # Nothing listens on that port: the counters (and everything else) are unreachable.
    (server,) = servers(1, {"DATABASE_URL": "postgres://postgres@127.0.0.1:5439/mnr"})
    status, body = server.post_json(TOKEN_URL, {"username": "asso.paris", "password": PASSWORD})
    assert status == 503
    assert body["error"]["code"] == "signin_unavailable"
    assert "token" not in body
