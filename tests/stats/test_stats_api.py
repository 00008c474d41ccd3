"""Statistics through the API: dimensions, roles, suppression, CSV = JSON, and
no personal data in any response."""

from __future__ import annotations

import csv
import io

import pytest

from audit.models import AccessLog
from stats.dimensions import DIMENSIONS
from stats.models import ReferralFact
from tests.cases.conftest import ADULT_BODY, MINOR_BODY, body

pytestmark = pytest.mark.django_db


@pytest.fixture
def data(api, world):
    """Twelve adult women referred for sexual exploitation, four minors for forced
    criminality, two adult men for labour exploitation; some accepted."""
    for i in range(12):
        api.submitted(world.referrer, body(ADULT_BODY, person={"family_name": f"Okafor{i}"}))
    for i in range(4):
        api.submitted(
            world.other_referrer, body(MINOR_BODY, person={"family_name": f"Stanescu{i}"})
        )
    for i in range(2):
        api.submitted(
            world.referrer,
            body(
                ADULT_BODY,
                exploitation_forms=["labour_exploitation"],
                person={"sex": "male", "family_name": f"Ahmed{i}"},
            ),
        )
    inbox = api.get(world.paris_worker, "/api/v1/routings/?outcome=pending").json()["results"]
    api.post(world.paris_worker, f"/api/v1/routings/{inbox[0]['id']}/accept/")


def get(api, user, query):
    return api.get(user, f"/api/v1/stats/referrals/?{query}")


@pytest.mark.parametrize("name", list(DIMENSIONS))
def test_every_dimension_answers(api, world, data, name):
    for measure in ("referrals", "cases"):
        r = api.get(world.analyst, f"/api/v1/stats/{measure}/?by={name}")
        assert r.status_code == 200, r.content
        assert r.json()["dimensions"] == [name]


def test_counts_and_suppression(api, world, data, settings):
    settings.MNR_STATS_THRESHOLD = 10
    release = get(api, world.analyst, "by=sex").json()
    rows = {r["sex"]: r for r in release["rows"]}
    # male: 2 men + 4 boys = 6 < 10; female must go too, or male = total - female.
    assert rows["male"]["count"] is None and rows["male"]["suppressed"]
    assert rows["female"]["count"] is None and rows["female"]["suppressed"]
    total = release["totals"][0]
    assert total["sex"] == "*" and total["count"] == 18
    forms = {
        r["exploitation_form"]: r
        for r in get(api, world.analyst, "by=exploitation_form").json()["rows"]
    }
    assert forms["sexual_exploitation"]["count"] == 12
    assert forms["forced_criminality"]["suppressed"] and forms["labour_exploitation"]["suppressed"]
    minors = {r["minor"]: r["count"] for r in get(api, world.analyst, "by=minor").json()["rows"]}
    assert minors == {False: None, True: None}  # 4 < 10, and 14 = 18 - 4 would give it away


def test_threshold_setting_and_filters(api, world, data, settings):
    settings.MNR_STATS_THRESHOLD = 2
    rows = get(api, world.analyst, "by=exploitation_form&sex=male").json()["rows"]
    assert {r["exploitation_form"]: r["count"] for r in rows} == {
        "forced_criminality": 4,
        "labour_exploitation": 2,
    }
    assert get(api, world.analyst, "by=outcome&period=2099").json()["rows"] == []
    assert get(api, world.analyst, "by=year,quarter,month,sex").status_code == 200


@pytest.mark.parametrize(
    "query",
    [
        "",
        "by=shoe_size",
        "by=sex,sex",
        "by=sex,age_group,minor,year,month",
        "by=sex&period=25",
        "by=sex&period=2025-Q5",
        "by=sex&year=2025",
    ],
)
def test_bad_queries_are_400(api, world, data, query):
    r = get(api, world.analyst, query)
    assert r.status_code == 400
    assert r.json()["error"]["fields"]


def test_roles(api, world, data, settings):
    settings.MNR_STATS_THRESHOLD = 1
    national = get(api, world.analyst, "by=outcome").json()
    assert national["scope"] == "national"
    assert sum(r["count"] for r in national["rows"]) == 18
    assert get(api, world.coordinator, "by=outcome").status_code == 200
    own = get(api, world.paris_manager, "by=outcome").json()
    assert own["scope"] == "association"
    assert sum(r["count"] for r in own["rows"]) == 14  # routed to Paris: the adults
    minors_manager = api.as_(world.minors_worker)
    for who in ("referrer", "paris_worker", "admin", "crip_referrer"):
        assert get(api, getattr(world, who), "by=outcome").status_code == 403, who
    assert minors_manager.get("/api/v1/stats/cases/?by=sex").status_code == 403


def test_csv_equals_json(api, world, data, settings):
    settings.MNR_STATS_THRESHOLD = 3
    query = "by=exploitation_form,minor"
    as_json = get(api, world.analyst, query).json()
    response = get(api, world.analyst, query + "&format=csv")
    assert response["Content-Type"].startswith("text/csv")
    reader = list(csv.DictReader(io.StringIO(response.content.decode())))
    expected = [
        {
            "exploitation_form": str(r["exploitation_form"]),
            "minor": str(r["minor"]).lower(),
            "count": "" if r["count"] is None else str(r["count"]),
            "suppressed": str(r["suppressed"]).lower(),
        }
        for r in [*as_json["rows"], *as_json["totals"]]
    ]
    assert reader == expected


def test_no_stats_response_holds_personal_data(api, world, data, settings):
    settings.MNR_STATS_THRESHOLD = 1
    secrets = ["Okafor", "Stanescu", "Ahmed", "Blessing", "Ionut", "1999-04-02", "+33"]
    for name in DIMENSIONS:
        for measure in ("referrals", "cases"):
            for fmt in ("json", "csv"):
                text = api.get(
                    world.analyst, f"/api/v1/stats/{measure}/?by={name}&format={fmt}"
                ).content.decode()
                for secret in secrets:
                    assert secret not in text, (name, secret)


def test_every_release_is_logged(api, world, data):
    get(api, world.analyst, "by=sex")
    entry = AccessLog.objects.filter(action="stats.export").get()
    assert entry.actor == world.analyst and entry.detail["by"] == ["sex"]


def test_acceptance_delays_on_postgresql(postgres, api, world, data, settings):
    from datetime import timedelta

    from referral.models import Referral

    settings.MNR_STATS_THRESHOLD = 1
    accepted = Referral.objects.filter(status="accepted")
    assert accepted.exists()
    for referral in accepted:
        Referral.objects.filter(pk=referral.pk).update(
            accepted_at=referral.submitted_at + timedelta(days=2)
        )
    # A change made outside the services reaches the statistics through the repair job.
    from stats.services import facts_repair

    assert len(facts_repair()) == accepted.count()
    r = api.get(world.analyst, "/api/v1/stats/acceptance-delays/?by=sex")
    assert r.status_code == 200, r.content
    rows = {row["sex"]: row for row in r.json()["rows"]}
    assert rows["female"]["median_days"] == 2.0 and rows["female"]["p90_days"] == 2.0
    settings.MNR_STATS_THRESHOLD = 10
    hidden = api.get(world.analyst, "/api/v1/stats/acceptance-delays/?by=sex").json()
    assert all(row["median_days"] is None for row in hidden["rows"] if row["suppressed"])
    assert api.get(world.referrer, "/api/v1/stats/acceptance-delays/?by=sex").status_code == 403


def test_no_stats_response_holds_a_demo_name(api, world, settings):
    from django.core.management import call_command

    from referral.demo import FAMILY, GIVEN

    settings.MNR_DEMO_MODE = True
    settings.MNR_STATS_THRESHOLD = 1
    call_command("seed_demo", "--referrals", "40")
    # The demo is seeded through the services: its statistics rows are all current.
    from stats.services import facts_drift

    assert ReferralFact.objects.count() >= 40 and facts_drift() == []
    analyst = world.analyst
    texts = []
    for name in DIMENSIONS:
        for measure in ("referrals", "cases"):
            texts.append(api.get(analyst, f"/api/v1/stats/{measure}/?by={name}&format=csv").content)
            texts.append(api.get(analyst, f"/api/v1/stats/{measure}/?by={name},sex").content)
    texts.append(api.get(analyst, "/api/v1/stats/reports/survey/?year=2025").content)
    texts.append(api.get(analyst, "/api/v1/stats/reports/uk-nrm/?quarter=2025-Q3").content)
    blob = b"\n".join(texts).decode()
    for person_name in [*GIVEN, *FAMILY]:
        assert person_name not in blob, person_name


def test_notes_follow_the_language(api, world, data):
    client = api.as_(world.analyst)
    en = client.get("/api/v1/stats/referrals/?by=exploitation_form", HTTP_ACCEPT_LANGUAGE="en")
    fr = client.get("/api/v1/stats/referrals/?by=exploitation_form", HTTP_ACCEPT_LANGUAGE="fr")
    assert en.json()["notes"] == [
        "exploitation_form: a person may count in several categories; totals are sums of cells."
    ]
    assert (
        fr.json()["notes"][0].startswith("exploitation_form")
        and fr.json()["notes"] != en.json()["notes"]
    )
