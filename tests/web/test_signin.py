"""Sign-in, lockout, two-factor authentication, the 2FA gate, sign-out and the
error pages, through Django's test client (the browser tests repeat the main
paths in Chromium)."""

from __future__ import annotations

import re
import time

import pytest
from django.test import Client
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from agencies.signin import otp_needed, two_factor_required
from audit.models import AccessAction, AccessLog
from common import crypto
from tests.factories import AgencyFactory, UserFactory
from tests.helpers import login_with_second_factor
from tests.web.conftest import PASSWORD, enrol_totp, totp_code

pytestmark = pytest.mark.django_db


@pytest.fixture
def client() -> Client:
    # English, so that assertions on messages do not depend on the French catalogue.
    return Client(SERVER_NAME="localhost", HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def fr_client() -> Client:
    return Client(SERVER_NAME="localhost")


@pytest.fixture
def referrer():
    return UserFactory(
        membership_agency=AgencyFactory(kind="frontline"), membership_role="referrer"
    )


@pytest.fixture
def caseworker():
    return UserFactory(
        membership_agency=AgencyFactory(kind="association"), membership_role="caseworker"
    )


def post_signin(client, username, password=PASSWORD, **extra):
    return client.post("/sign-in/", {"username": username, "password": password, **extra})


# Who needs a second factor ------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "role", "required"),
    [
        ("frontline", "referrer", False),
        ("frontline", "manager", False),
        ("child_protection", "referrer", False),
        ("association", "caseworker", True),
        ("association", "manager", True),
        ("coordinator", "coordinator", True),
        ("coordinator", "analyst", True),
        ("platform", "admin", True),
    ],
)
def test_two_factor_required_by_agency_kind(kind, role, required, settings):
    agency = AgencyFactory(kind=kind, departement_code=None if kind == "platform" else "75")
    user = UserFactory(membership_agency=agency, membership_role=role)
    assert two_factor_required(user) is required
    settings.MNR_DEMO_MODE = True
    assert two_factor_required(user) is False


def test_a_device_means_a_code_even_when_not_required(referrer):
    assert otp_needed(referrer) is False
    enrol_totp(referrer)
    assert otp_needed(referrer) is True


# Sign-in -------------------------------------------------------------------------


def test_anonymous_home_redirects_to_signin(client):
    r = client.get("/")
    assert r.status_code == 302 and r["Location"] == "/sign-in/?next=/"


def test_signin_page_is_french_with_csp_and_no_demo_accounts(fr_client):
    r = fr_client.get("/sign-in/")
    assert r.status_code == 200
    html = r.content.decode()
    assert '<html lang="fr"' in html
    assert 'name="viewport"' in html
    assert "referent.police75" not in html
    csp = r.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert "style=" not in html  # inline styles would be blocked
    assert re.search(r"<script(?![^>]*\bsrc=)", html) is None  # no inline script


def test_demo_mode_lists_the_demo_accounts(client, settings):
    settings.MNR_DEMO_MODE = True
    html = client.get("/sign-in/").content.decode()
    for username in ("referent.police75", "asso.paris", "coordination", "miprof.analyste", "admin"):
        assert f"<code>{username}</code>" in html
    assert "demo-mnr-2026" in html


def test_referrer_signs_in_and_reaches_home(client, referrer):
    r = post_signin(client, referrer.username)
    assert r.status_code == 302 and r["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert referrer.username in home.content.decode()
    assert AccessLog.objects.filter(action=AccessAction.LOGIN, actor=referrer).count() == 1


def test_signin_follows_a_safe_next_only(client, referrer):
    r = post_signin(client, referrer.username, next="/admin/")
    assert r["Location"] == "/admin/"
    client.logout()
    r = post_signin(client, referrer.username, next="https://evil.example/")
    assert r["Location"] == "/"


def test_wrong_password_and_unknown_user_get_the_same_error(client, referrer):
    wrong = post_signin(client, referrer.username, "wrong-password")
    unknown = post_signin(client, "nobody", PASSWORD)
    for r in (wrong, unknown):
        assert r.status_code == 200
        assert "Wrong username or password." in r.content.decode()
        assert 'id="error-summary"' in r.content.decode()
    assert AccessLog.objects.filter(action=AccessAction.LOGIN_FAILED).count() == 2
    assert "_auth_user_id" not in client.session


def test_lockout_after_five_failures_even_with_the_right_password(client, referrer, api_client):
    for _ in range(5):
        post_signin(client, referrer.username, "wrong-password")
    r = post_signin(client, referrer.username)  # right password, but locked
    assert "Too many failed attempts" in r.content.decode()
    assert "_auth_user_id" not in client.session
    # The API token endpoint shares the lock.
    r = api_client.post(
        "/api/v1/auth/token/", {"username": referrer.username, "password": PASSWORD}, format="json"
    )
    assert r.status_code == 429 and r.json()["error"]["code"] == "signin_locked"
    # Other usernames are not affected.
    other = UserFactory(membership_agency=referrer.membership.agency, membership_role="referrer")
    assert post_signin(client, other.username).status_code == 302


def test_unknown_usernames_lock_like_real_ones(client):
    for _ in range(5):
        post_signin(client, "nobody", "wrong")
    assert "Too many failed attempts" in post_signin(client, "nobody", "x").content.decode()


def test_lock_expires(client, referrer, settings):
    settings.MNR_SIGNIN_LOCKOUT_MINUTES = 1 / 60  # one second
    for _ in range(5):
        post_signin(client, referrer.username, "wrong-password")
    assert "Too many failed attempts" in post_signin(client, referrer.username).content.decode()
    time.sleep(1.2)
    assert post_signin(client, referrer.username).status_code == 302


def test_signout_needs_post_and_ends_the_session(client, referrer):
    post_signin(client, referrer.username)
    assert client.get("/sign-out/").status_code == 405
    r = client.post("/sign-out/")
    assert r.status_code == 302 and r["Location"] == "/sign-in/"
    assert client.get("/").status_code == 302


def test_session_idle_timeout_is_the_cookie_age(client, referrer, settings):
    settings.SESSION_COOKIE_AGE = 1200
    post_signin(client, referrer.username)
    r = client.get("/")
    assert r.cookies["sessionid"]["max-age"] == 1200  # renewed on every request
    assert r.cookies["sessionid"]["secure"] and r.cookies["sessionid"]["httponly"]


# Two-factor authentication --------------------------------------------------------


def test_staff_without_device_must_enrol_then_gets_recovery_codes(client, caseworker):
    r = post_signin(client, caseworker.username)
    assert r["Location"] == "/sign-in/two-factor/"
    # Nothing else is reachable yet: pages, admin, API through the session.
    assert client.get("/")["Location"] == "/sign-in/two-factor/"
    assert client.get("/admin/")["Location"] == "/sign-in/two-factor/"
    api = client.get("/api/v1/auth/me/")
    assert api.status_code == 403 and api.json()["error"]["code"] == "two_factor_required"

    page = client.get("/sign-in/two-factor/")
    html = page.content.decode()
    assert "<svg" in html and 'id="totp-secret"' in html
    device = TOTPDevice.objects.get(user=caseworker, confirmed=False)
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', html).group(1).replace(" ", "")
    from base64 import b32decode

    assert b32decode(secret + "=" * (-len(secret) % 8)) == device.bin_key

    wrong = client.post("/sign-in/two-factor/", {"otp": "000000"})
    assert wrong.status_code == 200 and "This code is not valid" in wrong.content.decode()
    done = client.post("/sign-in/two-factor/", {"otp": totp_code(device)})
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([a-z0-9]{10})</code></li>", done.content.decode())
    assert len(codes) == 10 and len(set(codes)) == 10
    assert StaticToken.objects.filter(device__user=caseworker).count() == 10
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/").status_code == 200  # verified now
    assert AccessLog.objects.filter(
        action=AccessAction.TWO_FACTOR_ENROLLED, actor=caseworker
    ).exists()
    # The codes are never shown again.
    assert client.get("/sign-in/two-factor/")["Location"] == "/"


def test_enrolled_staff_give_a_totp_code(client, caseworker):
    device = enrol_totp(caseworker)
    r = post_signin(client, caseworker.username)
    assert r["Location"] == "/sign-in/code/"
    assert client.get("/")["Location"] == "/sign-in/code/"
    wrong = client.post("/sign-in/code/", {"otp": "000000"})
    assert "This code is not valid" in wrong.content.decode()
    assert AccessLog.objects.filter(
        action=AccessAction.LOGIN_FAILED, actor_username=caseworker.username
    ).exists()
    # The password alone is not a sign-in: logged only once the code is given.
    assert not AccessLog.objects.filter(action=AccessAction.LOGIN, actor=caseworker).exists()
    time.sleep(1.1)  # django-otp delays the device after a failure (1 s, then doubling)
    ok = client.post("/sign-in/code/", {"otp": totp_code(device)})
    assert ok.status_code == 302 and ok["Location"] == "/"
    login = AccessLog.objects.get(action=AccessAction.LOGIN, actor=caseworker)
    assert login.detail == {"channel": "web"}
    assert client.get("/").status_code == 200


def test_recovery_code_signs_in_once(client, caseworker):
    enrol_totp(caseworker)
    static = caseworker.staticdevice_set.create(name="MNR recovery codes", confirmed=True)
    static.token_set.create(token="abcde23456")
    post_signin(client, caseworker.username)
    r = client.post("/sign-in/code/", {"otp": "ABCDE 23456"}, follow=True)
    assert r.status_code == 200 and "recovery code" in r.content.decode()
    assert not StaticToken.objects.filter(token="abcde23456").exists()
    used = AccessLog.objects.get(action=AccessAction.RECOVERY_CODE_USED)
    assert used.actor == caseworker and used.detail == {"left": 0}
    client.post("/sign-out/")
    post_signin(client, caseworker.username)
    again = client.post("/sign-in/code/", {"otp": "abcde23456"})
    assert "This code is not valid" in again.content.decode()


def test_wrong_codes_count_towards_the_lockout(client, caseworker):
    enrol_totp(caseworker)
    post_signin(client, caseworker.username)
    for _ in range(4):
        client.post("/sign-in/code/", {"otp": "000000"})
    r = client.post("/sign-in/code/", {"otp": "000000"})
    assert r["Location"] == "/sign-in/"  # locked: signed out
    assert "_auth_user_id" not in client.session


def test_demo_mode_skips_the_second_factor(client, caseworker, settings):
    settings.MNR_DEMO_MODE = True
    assert post_signin(client, caseworker.username)["Location"] == "/"


def test_language_switch_to_english(fr_client, referrer):
    post_signin(fr_client, referrer.username)
    assert '<html lang="fr"' in fr_client.get("/").content.decode()
    r = fr_client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert r.status_code == 302
    assert '<html lang="en"' in fr_client.get("/").content.decode()


# Error pages and refusals -----------------------------------------------------------


def test_404_is_a_page_for_people_and_json_for_the_api(client, referrer):
    login_with_second_factor(client, referrer)
    page = client.get("/no-such-page/")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")
    assert "fr-header" in page.content.decode()
    api = client.get("/api/v1/no-such-thing/")
    assert api.status_code == 404 and api.json()["error"]["code"] == "not_found"


def test_an_administrator_resets_a_lost_second_factor(client, caseworker):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    enrol_totp(caseworker)
    caseworker.staticdevice_set.create(name="MNR recovery codes", confirmed=True)
    with pytest.raises(CommandError, match="reason"):
        call_command("reset_two_factor", caseworker.username, "--reason", " ")
    with pytest.raises(CommandError, match="No user"):
        call_command("reset_two_factor", "nobody", "--reason", "x")
    assert TOTPDevice.objects.filter(user=caseworker).exists()
    call_command("reset_two_factor", caseworker.username, "--reason", "Téléphone perdu")
    assert not TOTPDevice.objects.filter(user=caseworker).exists()
    assert not caseworker.staticdevice_set.exists()
    entry = AccessLog.objects.get(action=AccessAction.TWO_FACTOR_RESET)
    assert entry.target_id == str(caseworker.pk)
    # Typed text: encrypted in the log like every free text.
    assert "Téléphone" not in str(entry.detail)
    assert crypto.decrypt(entry.detail["reason"]) == "Téléphone perdu"
    # At the next sign-in the person enrols again.
    assert post_signin(client, caseworker.username)["Location"] == "/sign-in/two-factor/"
