"""POST /api/v1/auth/token/ needs a second factor where 2FA applies, and shares
the per-username lockout with the web sign-in."""

from __future__ import annotations

import pytest

from agencies.models import ApiToken
from tests.factories import AgencyFactory, UserFactory
from tests.web.conftest import enrol_totp, totp_code

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-test-password"


@pytest.fixture
def caseworker():
    return UserFactory(
        membership_agency=AgencyFactory(kind="association"), membership_role="caseworker"
    )


def obtain(client, username, password=PASSWORD, **extra):
    return client.post(
        "/api/v1/auth/token/", {"username": username, "password": password, **extra}, format="json"
    )


def test_staff_without_device_are_told_to_enrol_on_the_web(api_client, caseworker):
    r = obtain(api_client, caseworker.username)
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "two_factor_not_enrolled"
    assert not ApiToken.objects.exists()


def test_otp_missing_or_wrong_is_a_field_error(api_client, caseworker):
    enrol_totp(caseworker)
    missing = obtain(api_client, caseworker.username)
    assert missing.status_code == 400 and set(missing.json()["error"]["fields"]) == {"otp"}
    wrong = obtain(api_client, caseworker.username, otp="000000")
    assert wrong.status_code == 400 and set(wrong.json()["error"]["fields"]) == {"otp"}
    assert not ApiToken.objects.exists()


def test_totp_code_gives_a_token_once(api_client, caseworker):
    device = enrol_totp(caseworker)
    code = totp_code(device)
    r = obtain(api_client, caseworker.username, otp=code)
    assert r.status_code == 201, r.content
    replay = obtain(api_client, caseworker.username, otp=code)
    assert replay.status_code == 400  # a TOTP code is used once


def test_recovery_code_gives_a_token_and_is_used_up(api_client, caseworker):
    enrol_totp(caseworker)
    static = caseworker.staticdevice_set.create(name="MNR recovery codes", confirmed=True)
    static.token_set.create(token="k3m4n5p6q7")
    assert obtain(api_client, caseworker.username, otp="k3m4n5p6q7").status_code == 201
    assert obtain(api_client, caseworker.username, otp="k3m4n5p6q7").status_code == 400


def test_wrong_password_never_reveals_the_otp_step(api_client, caseworker):
    enrol_totp(caseworker)
    r = obtain(api_client, caseworker.username, "wrong-password")
    assert r.status_code == 401


def test_demo_mode_needs_no_otp(api_client, caseworker, settings):
    settings.MNR_DEMO_MODE = True
    assert obtain(api_client, caseworker.username).status_code == 201


def test_lockout_after_five_failures(api_client, caseworker):
    for _ in range(4):
        assert obtain(api_client, caseworker.username, "wrong-password").status_code == 401
    fifth = obtain(api_client, caseworker.username, "wrong-password")
    assert fifth.status_code == 429
    assert fifth.json()["error"]["code"] == "signin_locked"
    assert int(fifth.headers["Retry-After"]) > 0
    enrol_totp(caseworker)
    assert obtain(api_client, caseworker.username).status_code == 429
