"""Identity fields are encrypted at rest, rotatable, and duplicates are flagged
through the blind index to the association and desk only."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from common import crypto
from referral.models import PresumedVictim, Referral
from tests.helpers import pg_dump_data
from tests.referral.conftest import ADULT_BODY, body

SECRETS = ["Blessing", "Okafor", "1999-04-02", "12 34 56 78", "contrôle routier"]


def raw_rows() -> str:
    with connection.cursor() as cursor:
        text = []
        for table in (
            "referral_referral",
            "referral_historicalreferral",
            "referral_presumedvictim",
            "referral_historicalpresumedvictim",
        ):
            cursor.execute(f"SELECT * FROM {table}")
            text.append(repr(cursor.fetchall()))
    return "\n".join(text)


@pytest.mark.django_db
def test_identity_fields_are_not_in_clear_in_the_tables(api, world):
    api.submitted(world.referrer, ADULT_BODY)
    raw = raw_rows()
    for secret in SECRETS:
        assert secret not in raw
    assert "enc:v1:" in raw
    person = PresumedVictim.objects.get()
    assert person.given_name == "Blessing" and person.date_of_birth == "1999-04-02"


@pytest.mark.django_db(transaction=True)
def test_pg_dump_shows_no_identity_field(postgres, api, world):
    api.submitted(world.referrer, ADULT_BODY)
    dump = pg_dump_data(connection.settings_dict)
    assert "referral_presumedvictim" in dump
    for secret in SECRETS:
        assert secret not in dump


@pytest.mark.django_db
def test_key_rotation(api, world, settings):
    old = settings.MNR_FIELD_ENCRYPTION_KEYS[0]
    api.submitted(world.referrer, ADULT_BODY)
    new = Fernet.generate_key().decode()
    settings.MNR_FIELD_ENCRYPTION_KEYS = [new, old]
    assert PresumedVictim.objects.get().family_name == "Okafor"  # old key still decrypts
    call_command("rotate_encryption_keys")
    settings.MNR_FIELD_ENCRYPTION_KEYS = [new]  # old key dropped
    person = PresumedVictim.objects.get()
    assert person.family_name == "Okafor"
    assert Referral.objects.get().narrative.startswith("Rencontrée")
    assert person.history.first().given_name == "Blessing"  # history re-encrypted too
    settings.MNR_FIELD_ENCRYPTION_KEYS = [old]
    with pytest.raises(Exception):  # noqa: B017 - InvalidToken from cryptography
        PresumedVictim.objects.get().family_name  # noqa: B018


@pytest.mark.django_db
def test_blind_index_reindex_after_key_change(api, world, settings):
    api.submitted(world.referrer, ADULT_BODY)
    before = PresumedVictim.objects.get().blind_index
    history = PresumedVictim.history.model.objects
    assert set(history.values_list("blind_index", flat=True)) == {before}
    settings.MNR_BLIND_INDEX_KEY = "Yn6x0cJ0mVq3sO8t7bQkz1Xw4LhR2dF9pGm5aCeU3s0="
    call_command("rotate_encryption_keys", "--reindex")
    after = PresumedVictim.objects.get().blind_index
    assert after and after != before
    # No history row is left under the old key (a dictionary built with it
    # would still match them).
    assert set(history.values_list("blind_index", flat=True)) == {after}


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        (("Blessing", "Okafor"), ("blessing", "OKAFOR"), True),
        (("Éléonore", "Dûpont"), ("Eleonore", "Dupont"), True),
        (("Okafor", "Blessing"), ("Blessing", "Okafor"), True),  # names swapped
        (("Marie-Anne", "N'Diaye"), ("Marie Anne", "N Diaye"), True),
        (("Blessing", "Okafor"), ("Blessing", "Okafar"), False),
    ],
)
def test_blind_index_normalises(settings, a, b, same):
    settings.MNR_BLIND_INDEX_KEY = "k"
    first = crypto.blind_index(given_name=a[0], family_name=a[1], date_of_birth="1999-04-02")
    second = crypto.blind_index(given_name=b[0], family_name=b[1], date_of_birth="1999-04-02")
    assert (first == second) is same
    assert crypto.blind_index(given_name=a[0], family_name=a[1], date_of_birth="") == ""


@pytest.mark.django_db
def test_possible_duplicate_flagged_to_association_and_desk_never_to_referrer(api, world):
    first = api.submitted(world.referrer, ADULT_BODY)["reference"]
    variant = body(ADULT_BODY, person={"given_name": "BLESSING", "family_name": "okafor"})
    second = api.submitted(world.other_referrer, variant)["reference"]
    for ref in (first, second):
        detail = api.get(world.paris_worker, f"/api/v1/referrals/{ref}/").json()
        assert detail.get("possible_duplicate") is True, detail
    inbox = api.get(world.paris_worker, "/api/v1/routings/?outcome=pending").json()["results"]
    assert {r["possible_duplicate"] for r in inbox} == {True}
    for user, ref in ((world.referrer, first), (world.other_referrer, second)):
        detail = api.get(user, f"/api/v1/referrals/{ref}/").json()
        assert "possible_duplicate" not in detail
        listing = api.get(user, "/api/v1/referrals/").json()
        assert listing["count"] == 1
        assert "possible_duplicate" not in str(listing)
    third = api.submitted(world.referrer, body(ADULT_BODY, person={"date_of_birth": "1998-04-02"}))[
        "reference"
    ]
    assert (
        api.get(world.paris_worker, f"/api/v1/referrals/{third}/").json()["possible_duplicate"]
        is False
    )
