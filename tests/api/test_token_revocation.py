"""API tokens end with the reason they were trusted (issue 12, point 4): a
password change (however it is done), a second-factor reset, deactivation, a
membership moved, a role changed or a membership removed revoke every token of
the person at once (401 on the next request), each revocation logged."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client

from agencies import services
from agencies.models import ApiToken, Membership
from agencies.system import SYSTEM_USERNAME
from audit.models import AccessAction, AccessLog
from tests.factories import AgencyFactory, UserFactory
from tests.helpers import login_with_second_factor
from tests.web.conftest import enrol_totp, totp_code

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-test-password"
NEW_PASSWORD = "an-entirely-new-passphrase-2026"


@pytest.fixture
def referrer():
    return UserFactory(
        membership_agency=AgencyFactory(kind="frontline"), membership_role="referrer"
    )


def obtain(client, user, password=PASSWORD, **extra) -> str:
    r = client.post(
        "/api/v1/auth/token/",
        {"username": user.username, "password": password, **extra},
        format="json",
    )
    assert r.status_code == 201, r.content
    return r.json()["token"]


def works(client, key: str) -> bool:
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    status = client.get("/api/v1/auth/me/").status_code
    client.credentials()
    assert status in (200, 401)
    return status == 200


def revocations(user, reason: str) -> list[AccessLog]:
    entries = AccessLog.objects.filter(
        action=AccessAction.TOKEN_REVOKE, target_type="token", detail__reason=reason
    )
    return [entry for entry in entries if entry.detail.get("user") == user.pk]


def test_password_change_revokes_every_token(api_client, referrer):
    keys = [obtain(api_client, referrer), obtain(api_client, referrer)]
    other = UserFactory(membership_agency=referrer.membership.agency, membership_role="referrer")
    others_key = obtain(api_client, other)
    referrer.set_password(NEW_PASSWORD)
    referrer.save()
    assert not any(works(api_client, key) for key in keys)
    assert works(api_client, others_key)  # nobody else's
    assert ApiToken.objects.filter(user=referrer, revoked_at__isnull=True).count() == 0
    entries = revocations(referrer, "password_changed")
    assert {int(e.target_id) for e in entries} == set(
        ApiToken.objects.filter(user=referrer).values_list("pk", flat=True)
    )
    assert {e.actor_username for e in entries} == {SYSTEM_USERNAME}
    # The new password gives a new token that works.
    assert works(api_client, obtain(api_client, referrer, NEW_PASSWORD))


def test_password_change_with_update_fields_revokes_too(api_client, referrer):
    key = obtain(api_client, referrer)
    referrer.set_password(NEW_PASSWORD)
    referrer.save(update_fields=["password"])
    assert not works(api_client, key)


def test_password_made_unusable_revokes(api_client, referrer):
    key = obtain(api_client, referrer)
    referrer.set_unusable_password()
    referrer.save()
    assert not works(api_client, key)
    assert len(revocations(referrer, "password_changed")) == 1


def test_other_changes_of_the_account_keep_the_tokens(api_client, referrer):
    key = obtain(api_client, referrer)
    referrer.email = "someone@example.org"
    referrer.save()
    referrer.first_name = "Camille"
    referrer.save(update_fields=["first_name"])
    assert works(api_client, key)
    assert not AccessLog.objects.filter(action=AccessAction.TOKEN_REVOKE).exists()


def test_a_hash_upgrade_at_sign_in_is_no_password_change(api_client, referrer, settings):
    key = obtain(api_client, referrer)  # the password is hashed with MD5 in tests
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
    old_hash = referrer.password
    second = obtain(api_client, referrer)  # Django upgrades the hash while checking it
    referrer.refresh_from_db()
    assert referrer.password != old_hash and referrer.password.startswith("pbkdf2_sha256$")
    assert works(api_client, key) and works(api_client, second)


def test_password_change_in_the_admin_revokes(api_client, referrer):
    key = obtain(api_client, referrer)
    admin = UserFactory(
        membership_agency=AgencyFactory(kind="platform", departement_code=None),
        membership_role="admin",
    )
    client = Client(SERVER_NAME="localhost")
    login_with_second_factor(client, admin)
    r = client.post(
        f"/admin/agencies/user/{referrer.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    assert r.status_code == 302, r.content[:2000]
    assert not works(api_client, key)
    assert len(revocations(referrer, "password_changed")) == 1


def test_deactivation_in_the_admin_revokes(api_client, referrer):
    key = obtain(api_client, referrer)
    admin = UserFactory(
        membership_agency=AgencyFactory(kind="platform", departement_code=None),
        membership_role="admin",
    )
    client = Client(SERVER_NAME="localhost")
    login_with_second_factor(client, admin)
    r = client.post(
        f"/admin/agencies/user/{referrer.pk}/change/",
        {"username": referrer.username, "first_name": "", "last_name": "", "email": ""},
    )  # "active" left unticked
    assert r.status_code == 302, r.content[:2000]
    referrer.refresh_from_db()
    assert not referrer.is_active
    # Revoked, not merely refused while inactive: reactivating does not revive it.
    referrer.is_active = True
    referrer.save()
    assert not works(api_client, key)
    assert len(revocations(referrer, "deactivated")) == 1


def test_second_factor_reset_revokes(api_client):
    caseworker = UserFactory(
        membership_agency=AgencyFactory(kind="association"), membership_role="caseworker"
    )
    device = enrol_totp(caseworker)
    key = obtain(api_client, caseworker, otp=totp_code(device))
    assert works(api_client, key)
    call_command("reset_two_factor", caseworker.username, "--reason", "Téléphone perdu")
    assert not works(api_client, key)
    (entry,) = revocations(caseworker, "two_factor_reset")
    assert entry.actor_username == SYSTEM_USERNAME  # the command's actor


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("move", "membership_moved"),
        ("role", "role_changed"),
        ("remove", "membership_removed"),
    ],
)
def test_membership_end_revokes(api_client, referrer, change, reason):
    key = obtain(api_client, referrer)
    agency = referrer.membership.agency
    if change == "move":
        services.membership_set(
            actor=None, user=referrer, agency=AgencyFactory(kind="frontline"), role="referrer"
        )
    elif change == "role":
        services.membership_set(actor=None, user=referrer, agency=agency, role="manager")
    else:
        services.membership_remove(actor=None, membership=Membership.objects.get(user=referrer))
    assert not works(api_client, key)
    assert len(revocations(referrer, reason)) == 1


def test_membership_saved_unchanged_keeps_the_tokens(api_client, referrer):
    key = obtain(api_client, referrer)
    services.membership_set(
        actor=None, user=referrer, agency=referrer.membership.agency, role="referrer"
    )
    assert works(api_client, key)


def test_revoked_token_answers_401_at_once(api_client, referrer):
    key = obtain(api_client, referrer)
    assert works(api_client, key)
    assert services.tokens_revoke_all(user=referrer, actor=None, reason="password_changed") == 1
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    r = api_client.get("/api/v1/auth/me/")
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "authentication_failed"
    # Already revoked: nothing more to revoke, nothing more logged.
    assert services.tokens_revoke_all(user=referrer, actor=None, reason="password_changed") == 0
    assert len(revocations(referrer, "password_changed")) == 1
