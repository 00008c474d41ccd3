"""Token lifecycle: issue, use, expire, revoke, wrong password, hashed storage."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from agencies.models import ApiToken
from tests.factories import AgencyFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-test-password"


@pytest.fixture
def member():
    # A referrer: no second factor (tests/api/test_token_otp.py covers those who need one).
    return UserFactory(
        membership_agency=AgencyFactory(kind="frontline"), membership_role="referrer"
    )


def obtain(client, username, password=PASSWORD):
    return client.post(
        "/api/v1/auth/token/", {"username": username, "password": password}, format="json"
    )


def test_issue_and_use_token(api_client, member):
    r = obtain(api_client, member.username)
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["token"].startswith("mnr_") and body["token_type"] == "Token"
    token = ApiToken.objects.get(pk=body["id"])
    assert token.expires_at > timezone.now() + timedelta(hours=7)

    api_client.credentials(HTTP_AUTHORIZATION=f"Token {body['token']}")
    me = api_client.get("/api/v1/auth/me/")
    assert me.status_code == 200
    assert me.json()["username"] == member.username
    assert me.json()["role"] == "referrer"


def test_token_is_stored_hashed(api_client, member):
    key = obtain(api_client, member.username).json()["token"]
    token = ApiToken.objects.get()
    assert key not in (token.key_hash, token.prefix)
    assert len(token.key_hash) == 64
    assert not ApiToken.objects.filter(key_hash=key).exists()


def test_expired_token_refused(api_client, member):
    body = obtain(api_client, member.username).json()
    ApiToken.objects.filter(pk=body["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {body['token']}")
    r = api_client.get("/api/v1/agencies/")
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "authentication_failed"
    assert r.headers["WWW-Authenticate"] == "Token"


def test_revoke_current_token(api_client, member):
    key = obtain(api_client, member.username).json()["token"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api_client.delete("/api/v1/auth/token/").status_code == 204
    assert api_client.get("/api/v1/agencies/").status_code == 401
    assert ApiToken.objects.get().revoked_at is not None


def test_list_and_revoke_own_token_by_id(api_client, member):
    first = obtain(api_client, member.username).json()
    second = obtain(api_client, member.username).json()
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {second['token']}")
    listed = api_client.get("/api/v1/auth/tokens/").json()
    assert {t["id"] for t in listed} == {first["id"], second["id"]}
    assert all("token" not in t and "key_hash" not in t for t in listed)
    assert [t["current"] for t in listed if t["id"] == second["id"]] == [True]
    assert api_client.delete(f"/api/v1/auth/tokens/{first['id']}/").status_code == 204
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {first['token']}")
    assert api_client.get("/api/v1/agencies/").status_code == 401


def test_cannot_revoke_someone_elses_token(api_client, member):
    other = UserFactory(
        membership_agency=AgencyFactory(kind="frontline"), membership_role="manager"
    )
    theirs = obtain(api_client, other.username).json()
    mine = obtain(api_client, member.username).json()
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {mine['token']}")
    r = api_client.delete(f"/api/v1/auth/tokens/{theirs['id']}/")
    assert r.status_code == 404
    assert ApiToken.objects.get(pk=theirs["id"]).revoked_at is None


def test_wrong_password_and_unknown_user_answer_401_without_token(api_client, member):
    for username, password in [(member.username, "wrong-password"), ("nobody", PASSWORD)]:
        r = obtain(api_client, username, password)
        assert r.status_code == 401
        assert r.json()["error"]["code"] == "authentication_failed"
    assert not ApiToken.objects.exists()


def test_inactive_user_gets_no_token_and_loses_existing_ones(api_client, member):
    key = obtain(api_client, member.username).json()["token"]
    member.is_active = False
    member.save()
    assert obtain(api_client, member.username).status_code == 401
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api_client.get("/api/v1/agencies/").status_code == 401


def test_missing_fields_answer_400_with_field_errors(api_client):
    r = api_client.post("/api/v1/auth/token/", {"username": ""}, format="json")
    assert r.status_code == 400
    fields = r.json()["error"]["fields"]
    assert set(fields) == {"username", "password"}


@pytest.mark.parametrize("header", ["Token", "Token a b", "Token nonsense", "Token mnr_forged"])
def test_malformed_or_forged_tokens_answer_401(api_client, header):
    api_client.credentials(HTTP_AUTHORIZATION=header)
    assert api_client.get("/api/v1/agencies/").status_code == 401


def test_sign_in_is_throttled(api_client, member):
    # Different usernames: the per-username lockout (test_token_otp.py) stays out of the way.
    codes = [obtain(api_client, f"nobody{i}", "wrong").status_code for i in range(11)]
    assert codes[:10] == [401] * 10
    assert codes[10] == 429
    r = obtain(api_client, member.username)
    assert r.status_code == 429
    assert r.json()["error"]["code"] == "throttled"
    assert "Retry-After" in r.headers


def test_revoking_current_needs_a_token(api_client, member):
    api_client.force_authenticate(user=member)
    assert api_client.delete("/api/v1/auth/token/").status_code == 401
