"""Submitting referrals through the API: every rule of docs/domain.md, section 1."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core import mail

from notifications.models import OutboxMessage
from referral.models import PresumedVictim, Referral, Routing
from tests.referral.conftest import ADULT_BODY, MINOR_BODY, body

pytestmark = pytest.mark.django_db


def fields_of(response) -> dict:
    assert response.status_code == 400, response.content
    return response.json()["error"]["fields"]


def test_adult_with_consent_is_routed_to_the_nearest_association(api, world):
    r = api.submit(world.referrer, ADULT_BODY)
    assert r.status_code == 201, r.content
    assert r.json()["status"] == "submitted"  # routing runs after the commit
    data = api.get(world.referrer, f"/api/v1/referrals/{r.json()['reference']}/").json()
    assert data["reference"].startswith(f"MNR-{date.today().year}-")
    assert data["status"] == "routed"
    assert data["receiving_association"]["id"] == world.paris.pk
    assert data["person"]["given_name"] == "Blessing"
    assert "possible_duplicate" not in data and "routings" not in data
    routing = Routing.objects.get()
    assert routing.association == world.paris
    assert routing.explanation["chosen"] == world.paris.pk
    assert (routing.respond_by - routing.routed_at) == timedelta(hours=48)


def test_references_are_sequential_per_year(api, world):
    refs = [api.submit(world.referrer, ADULT_BODY).json()["reference"] for _ in range(3)]
    numbers = [int(ref.rsplit("-", 1)[1]) for ref in refs]
    assert numbers == [numbers[0], numbers[0] + 1, numbers[0] + 2]
    assert all(len(ref) == len("MNR-2026-000001") for ref in refs)


def test_immediate_danger_gives_four_hours(api, world):
    api.submit(world.referrer, body(ADULT_BODY, immediate_danger=True))
    routing = Routing.objects.get()
    assert routing.respond_by - routing.routed_at == timedelta(hours=4)


def test_at_least_one_form_of_exploitation(api, world):
    assert "exploitation_forms" in fields_of(
        api.submit(world.referrer, body(ADULT_BODY, exploitation_forms=[]))
    )
    assert "exploitation_forms" in fields_of(
        api.submit(world.referrer, body(ADULT_BODY, exploitation_forms=["pickpocketing"]))
    )
    assert not Referral.objects.exists()


def test_other_form_needs_a_detail(api, world):
    f = fields_of(api.submit(world.referrer, body(ADULT_BODY, exploitation_forms=["other"])))
    assert "exploitation_other_detail" in f
    r = api.submit(
        world.referrer,
        body(ADULT_BODY, exploitation_forms=["other"], exploitation_other_detail="mariage forcé"),
    )
    assert r.status_code == 201


def test_adult_without_consent_is_an_anonymous_notification(api, world):
    data = body(ADULT_BODY, consent_to_referral=False)
    f = fields_of(api.submit(world.referrer, data, HTTP_ACCEPT_LANGUAGE="en"))
    assert set(f["person"]) == {"given_name", "family_name", "date_of_birth", "phone"}
    assert "narrative" in f
    assert "anonymous notification" in f["person"]["given_name"][0]
    fr = fields_of(api.submit(world.referrer, data, HTTP_ACCEPT_LANGUAGE="fr"))
    assert "signalement est anonyme" in fr["person"]["given_name"][0]
    assert not Referral.objects.exists() and not PresumedVictim.objects.exists()

    anonymous = {
        "exploitation_forms": ["labour_exploitation"],
        "exploitation_departement": "13",
        "consent_to_referral": False,
        "person": {"estimated_age": 35, "sex": "male", "nationality": "PK"},
    }
    r = api.submit(world.referrer, anonymous)
    assert r.status_code == 201, r.content
    assert r.json()["status"] == "notified"
    assert not Routing.objects.exists()
    assert Referral.objects.filter(status="notified").count() == 1


def test_minor_needs_no_consent_goes_to_minors_association_and_crip_notified(api, world):
    data = api.submitted(world.referrer, MINOR_BODY)
    assert data["status"] == "routed"
    assert data["person"]["presumed_minor"] is True
    assert data["receiving_association"]["id"] == world.minors.pk
    assert data["crip_notified"] is True
    referral = Referral.objects.get()
    assert referral.crip_agency == world.crip93
    assert referral.crip_notified_at is not None
    crip = OutboxMessage.objects.get(kind="crip_minor")
    assert crip.recipient_agency == world.crip93 and crip.sent_at is not None
    crip_mail = [m for m in mail.outbox if "crip93@example.org" in m.to]
    assert len(crip_mail) == 1
    assert referral.reference in crip_mail[0].body
    assert "Ionut" not in crip_mail[0].body and "Stanescu" not in crip_mail[0].subject


@pytest.mark.parametrize(
    ("person", "minor"),
    [
        ({"date_of_birth": (date.today() - timedelta(days=365 * 15)).isoformat()}, True),
        ({"estimated_age": 16}, True),
        ({"estimated_age": 25, "declared_minor": True}, True),  # presumption of minority
        ({"date_of_birth": "2000-01-01", "declared_minor": True}, True),
        ({"estimated_age": 25}, False),
        ({}, False),
    ],
)
def test_presumption_of_minority(api, world, person, minor):
    base = {"given_name": "X", "family_name": "Y", "date_of_birth": None, "estimated_age": None}
    data = body(ADULT_BODY, person={**base, **person}, exploitation_forms=["forced_begging"])
    data = api.submitted(world.referrer, data)
    assert data["person"]["presumed_minor"] is minor
    expected = world.minors if minor else world.national
    assert data["receiving_association"]["id"] == expected.pk


def test_minor_in_departement_without_crip_alerts_the_desk(api, world):
    data = body(MINOR_BODY, exploitation_departement="13", person={"current_departement": "13"})
    r = api.submit(world.referrer, data)
    assert r.status_code == 201
    assert r.json()["crip_notified"] is False
    message = OutboxMessage.objects.get(kind="crip_missing")
    assert message.recipient_coordination_desk
    assert any("desk@example.org" in m.to for m in mail.outbox)


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        ({"exploitation_departement": "20"}, ["exploitation_departement"]),
        (
            {"exploitation_departement": None, "exploitation_country": "XX"},
            ["exploitation_country"],
        ),
        (
            {"exploitation_departement": None, "exploitation_country": "FR"},
            ["exploitation_country"],
        ),
        ({"exploitation_country": "ES"}, ["exploitation_country"]),  # both given
        ({"exploitation_departement": None}, ["exploitation_departement"]),  # neither
        ({"person": {"nationality": "ZZ"}}, ["person", "nationality"]),
        ({"person": {"current_departement": "99"}}, ["person", "current_departement"]),
        ({"person": {"languages": ["xx"]}}, ["person", "languages"]),
        ({"person": {"phone": "call me"}}, ["person", "phone"]),
        ({"person": {"sex": "robot"}}, ["person", "sex"]),
        ({"person": {"date_of_birth": "2999-01-01"}}, ["person", "date_of_birth"]),
        ({"person": {"date_of_birth": "1850-01-01"}}, ["person", "date_of_birth"]),
        ({"person": {"date_of_birth": "not a date"}}, ["person", "date_of_birth"]),
        (
            {"person": {"date_of_birth": "1999-04-02", "estimated_age": 45}},
            ["person", "estimated_age"],
        ),
        ({"person": {"estimated_age": 300}}, ["person", "estimated_age"]),
        ({"indicators": ["made_up.indicator"]}, ["indicators"]),
        # An adult's referral takes the adults' list only (the service decides, not the form).
        (
            {"indicators": ["child_specific.group_begging_or_stealing_supervised_by_adults"]},
            ["indicators"],
        ),
        ({"needs": ["yacht"]}, ["needs"]),
        ({"consent_to_referral": "perhaps"}, ["consent_to_referral"]),
        ({"person": "nobody"}, ["person"]),
    ],
)
def test_bad_input_is_400_naming_the_field_and_nothing_is_written(api, world, changes, path):
    f = fields_of(api.submit(world.referrer, body(ADULT_BODY, **changes)))
    node = f
    for key in path:
        assert key in node, f
        node = node[key]
    assert not Referral.objects.exists()
    assert not OutboxMessage.objects.exists()


def test_missing_consent_field_is_required(api, world):
    data = body(ADULT_BODY)
    del data["consent_to_referral"]
    assert "consent_to_referral" in fields_of(api.submit(world.referrer, data))


def test_consistent_estimated_age_is_accepted(api, world):
    data = body(ADULT_BODY, person={"date_of_birth": "1999-04-02", "estimated_age": 26})
    assert api.submit(world.referrer, data).status_code == 201


def test_idempotency_key_returns_the_same_referral(api, world):
    first = api.submit(world.referrer, ADULT_BODY, HTTP_IDEMPOTENCY_KEY="abc-1")
    again = api.submit(world.referrer, ADULT_BODY, HTTP_IDEMPOTENCY_KEY="abc-1")
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert first.json()["reference"] == again.json()["reference"]
    assert Referral.objects.count() == 1 and Routing.objects.count() == 1
    # Another user may use the same key: it is theirs.
    other = api.submit(world.other_referrer, ADULT_BODY, HTTP_IDEMPOTENCY_KEY="abc-1")
    assert other.json()["reference"] != first.json()["reference"]


def test_idempotency_key_with_a_different_body_is_409(api, world):
    api.submit(world.referrer, ADULT_BODY, HTTP_IDEMPOTENCY_KEY="abc-2")
    r = api.submit(
        world.referrer, body(ADULT_BODY, narrative="autre"), HTTP_IDEMPOTENCY_KEY="abc-2"
    )
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "conflict"
    assert Referral.objects.count() == 1


def test_overlong_idempotency_key_is_400(api, world):
    r = api.submit(world.referrer, ADULT_BODY, HTTP_IDEMPOTENCY_KEY="k" * 101)
    assert "Idempotency-Key" in fields_of(r)


@pytest.mark.parametrize(
    "who", ["paris_worker", "paris_manager", "coordinator", "analyst", "admin"]
)
def test_only_referrers_submit(api, world, who):
    r = api.submit(getattr(world, who), ADULT_BODY)
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "permission_denied"
    assert not Referral.objects.exists()


def test_crip_staff_can_refer(api, world):
    assert api.submit(world.crip_referrer, MINOR_BODY).status_code == 201


def test_anonymous_user_gets_401(api_client, world):
    assert api_client.post("/api/v1/referrals/", ADULT_BODY, format="json").status_code == 401


def test_indicators_reference_served_in_both_languages(api, world):
    fr = api.get(world.referrer, "/api/v1/reference/indicators/", HTTP_ACCEPT_LANGUAGE="fr").json()
    en = api.get(world.referrer, "/api/v1/reference/indicators/", HTTP_ACCEPT_LANGUAGE="en").json()
    assert fr["version"] == en["version"] == "ilo-2009-adapted.1"
    by_code_fr = {i["code"]: i for i in fr["indicators"]}
    by_code_en = {i["code"]: i for i in en["indicators"]}
    assert by_code_en["coercion_at_destination.debt_bondage"]["label"] == "Debt bondage"
    assert by_code_fr["coercion_at_destination.debt_bondage"]["label"] == "Servitude pour dettes"
    assert len(fr["dimensions"]) == 7
    assert sum(1 for i in en["indicators"] if "adult" in i["strength"]) == 67
    missing = api.get(world.referrer, "/api/v1/reference/indicators/?version=nope")
    assert missing.status_code == 404


def test_association_sees_indicator_summary(api, world):
    data = body(
        ADULT_BODY,
        indicators=[
            "coercion_at_destination.debt_bondage",
            "coercion_at_destination.confiscation_of_documents",
        ],
    )
    ref = api.submit(world.referrer, data).json()["reference"]
    detail = api.get(world.paris_worker, f"/api/v1/referrals/{ref}/").json()
    summary = {row["dimension"]: row for row in detail["indicator_summary"]}
    assert summary["coercion_at_destination"]["strong"] == 2
    assert summary["coercion_at_destination"]["indicated"] is True


def test_a_minors_referral_takes_the_childrens_list_only(api, world):
    r = api.submit(
        world.other_referrer,
        body(
            MINOR_BODY,
            indicators=[
                "recruitment_abuse_of_vulnerability.false_information_about_law_and_authorities"
            ],
        ),
    )
    assert r.status_code == 400, r.content
    message = r.json()["error"]["fields"]["indicators"][0]
    assert "recruitment_abuse_of_vulnerability.false_information" in message
    ok = api.submit(
        world.other_referrer,
        body(MINOR_BODY, indicators=["coercion_at_destination.debt_bondage"]),
    )
    assert ok.status_code == 201, ok.content


def test_an_idempotency_key_over_100_characters_is_refused(api, world):
    r = api.submit(world.referrer, ADULT_BODY, HTTP_IDEMPOTENCY_KEY="k" * 101)
    assert r.status_code == 400 and "Idempotency-Key" in r.json()["error"]["fields"]
    assert not Referral.objects.exists()
