"""Statistics through the API: dimensions, roles, the cell-key protection (full
grids, consistent figures, the publication), bad input, throttling, CSV = JSON,
and no personal data in any response."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AccessLog
from referral.models import Referral
from stats import cellkey
from stats.dimensions import DIMENSIONS
from stats.domains import public_domain
from stats.models import ReferralFact
from tests.cases.conftest import ADULT_BODY, MINOR_BODY, body
from tests.stats.conftest import publish, shown

pytestmark = pytest.mark.django_db


@pytest.fixture
def data(api, world):
    """Twelve adult women referred for sexual exploitation, four minors for forced
    criminality, two adult men for labour exploitation; one accepted; published."""
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
    publish()


def get(api, user, query):
    return api.get(user, f"/api/v1/stats/referrals/?{query}")


def expected(referrals) -> int | None:
    """The figure the method must show for this set of referrals."""
    ids = [r.pk for r in referrals]
    return cellkey.published(len(ids), sum(cellkey.record_key(i) for i in ids))


@pytest.mark.parametrize("name", list(DIMENSIONS))
def test_every_dimension_answers_with_its_whole_domain(api, world, data, name):
    for measure in ("referrals", "cases"):
        r = api.get(world.analyst, f"/api/v1/stats/{measure}/?by={name}&period=2026")
        assert r.status_code == 200, r.content
        release = r.json()
        assert release["dimensions"] == [name]
        assert [row[name] for row in release["rows"]] == public_domain(name, "2026")


def test_figures_are_the_cell_key_method_and_small_ones_are_hidden(api, world, data):
    release = get(api, world.analyst, "by=sex").json()
    assert release["privacy"] == "cell-key" and release["threshold"] == 10
    assert release["max_noise"] == cellkey.MAX_NOISE and release["published_at"]
    rows = {r["sex"]: r for r in release["rows"]}
    # Each figure is the one the method gives for those referrals. Whether 12 or
    # 6 is shown depends on their keys, hence on their ids (on which tests ran
    # before): -3 or less hides the 12 women, +4 or +5 shows the 6 men.
    for sex in ("female", "male"):
        figure = expected(Referral.objects.filter(person__sex=sex))
        assert rows[sex] == {"sex": sex, "count": figure, "suppressed": figure is None}
    if rows["female"]["count"] is not None:
        assert abs(rows["female"]["count"] - 12) <= cellkey.MAX_NOISE
    # No one of unknown sex, and 4 minors (at most 9 once moved): both only
    # "under 10", alike, whatever the keys.
    assert rows["unknown"] == {"sex": "unknown", "count": None, "suppressed": True}
    minors = {r["minor"]: r for r in get(api, world.analyst, "by=minor").json()["rows"]}
    assert minors[True] == {"minor": True, "count": None, "suppressed": True}
    assert release["totals"][0]["count"] == expected(Referral.objects.all())


def test_the_same_cell_shows_the_same_figure_however_it_is_asked(api, world, data):
    def figure(query, name, value, where="rows"):
        release = get(api, world.analyst, query).json()
        return next(r["count"] for r in release[where] if r[name] == value)

    women = figure("by=sex", "sex", "female")
    assert women == figure("by=sex&period=2026", "sex", "female")
    both = get(api, world.analyst, "by=minor,sex").json()
    margin = next(r for r in both["totals"] if r["sex"] == "female" and r["minor"] == "*")
    assert margin["count"] == women
    grand = {get(api, world.analyst, f"by={n}").json()["totals"][-1]["count"] for n in DIMENSIONS}
    survey = api.get(world.analyst, "/api/v1/stats/reports/survey/?year=2026").json()
    grand |= {survey["tables"]["identified_by_form"]["totals"][0]["count"]}
    assert len(grand) == 1  # every table of the same referrals has the same total
    # Asked again, nothing moves.
    assert get(api, world.analyst, "by=sex").json() == get(api, world.analyst, "by=sex").json()


def test_rows_do_not_depend_on_who_exists(api, world, data):
    """Which rows a release lists is no leak: the grid is the domains' product,
    the same with or without data."""
    full = get(api, world.analyst, "by=nationality,minor&period=2026").json()
    empty = get(api, world.analyst, "by=nationality,minor&period=2019").json()
    keys = [(r["nationality"], r["minor"]) for r in full["rows"]]
    assert keys == [(r["nationality"], r["minor"]) for r in empty["rows"]]
    assert len(keys) == len(public_domain("nationality")) * 2
    assert all(r["count"] is None for r in empty["rows"] + empty["totals"])


def test_a_new_referral_changes_nothing_until_the_next_publication(api, world, data):
    before = get(api, world.analyst, "by=sex,minor").json()
    api.submitted(world.referrer, body(ADULT_BODY, person={"family_name": "Late"}))
    assert get(api, world.analyst, "by=sex,minor").json() == before
    publish()
    after = get(api, world.analyst, "by=sex,minor").json()
    assert after["published_at"] > before["published_at"]
    assert after["totals"][-1]["count"] == expected(Referral.objects.all())


def test_counts_filters_and_totals(api, world, data, exact):
    rows = get(api, world.analyst, "by=exploitation_form&sex=male").json()["rows"]
    assert shown(rows, "exploitation_form") == {"forced_criminality": 4, "labour_exploitation": 2}
    release = get(api, world.analyst, "by=sex,minor").json()
    totals = {(r["sex"], r["minor"]): r["count"] for r in release["totals"]}
    assert totals[("*", "*")] == 18 and totals[("male", "*")] == 6 and totals[("*", True)] == 4
    assert all(
        r["count"] is None for r in get(api, world.analyst, "by=outcome&period=2099").json()["rows"]
    )
    assert get(api, world.analyst, "by=year,quarter,month,sex&period=2026").status_code == 200


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("", "by"),
        ("by=shoe_size", "by"),
        ("by=sex,sex", "by"),
        ("by=sex,age_group,minor,year,month", "by"),
        ("by=sex&period=25", "period"),
        ("by=sex&period=2025-Q5", "period"),
        ("by=sex&period=2025%00", "period"),
        ("by=sex&year=2025", "year"),
        ("by=sex&minor=maybe", "minor"),
        ("by=sex&departement=999", "departement"),
        ("by=sex&departement=75%00", "departement"),
        ("by=sex&nationality=%00", "nationality"),
        ("by=sex&exploitation_form=x" + "y" * 300, "exploitation_form"),
        ("by=sex&privacy=dp&epsilon=1e-320", "privacy"),
        ("by=nationality,departement", "by"),
        ("by=nationality,departement,month,step_delivered&period=2031", "by"),
    ],
)
def test_bad_queries_are_400_with_the_field(api, world, data, query, field):
    r = get(api, world.analyst, query)
    assert r.status_code == 400, r.content
    assert field in r.json()["error"]["fields"]


def test_a_grid_too_large_is_refused_before_any_figure_is_computed(api, world, data):
    client = api.as_(world.analyst)
    with CaptureQueriesContext(connection) as queries:
        r = client.get(
            "/api/v1/stats/referrals/?by=nationality,departement,month,step_delivered&period=2031"
        )
    assert r.status_code == 400
    assert "10,000" in r.json()["error"]["fields"]["by"][0]
    assert not any("stats_publishedfact" in q["sql"] for q in queries.captured_queries)


def test_stats_are_throttled_per_user(api, world, data, monkeypatch):
    """The API and the pages share one allowance per user (MNR_THROTTLE_STATS)."""
    from rest_framework.settings import api_settings
    from rest_framework.throttling import ScopedRateThrottle

    from tests.helpers import login_with_second_factor
    from web.views.statistics import StatsThrottle

    rates = {**api_settings.DEFAULT_THROTTLE_RATES, "stats": "3/min"}
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", rates)
    monkeypatch.setattr(StatsThrottle, "THROTTLE_RATES", rates)
    codes = [get(api, world.analyst, "by=sex").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert api.get(world.analyst, "/api/v1/stats/reports/survey/?year=2026").status_code == 429
    from django.test import Client

    page = Client(SERVER_NAME="localhost")
    login_with_second_factor(page, world.analyst)
    assert page.get("/statistics/").status_code == 429  # the same allowance
    # Another user has their own allowance.
    assert get(api, world.coordinator, "by=sex").status_code == 200
    other = Client(SERVER_NAME="localhost")
    login_with_second_factor(other, world.coordinator)
    assert other.get("/statistics/?measure=referrals&by=sex").status_code == 200


def test_roles(api, world, data, exact):
    national = get(api, world.analyst, "by=outcome").json()
    assert national["scope"] == "national"
    assert sum(shown(national["rows"], "outcome").values()) == 18
    assert get(api, world.coordinator, "by=outcome").status_code == 200
    own = get(api, world.paris_manager, "by=outcome").json()
    assert own["scope"] == "association"
    assert sum(shown(own["rows"], "outcome").values()) == 14  # routed to Paris: the adults
    for who in ("referrer", "paris_worker", "admin", "crip_referrer"):
        assert get(api, getattr(world, who), "by=outcome").status_code == 403, who
    assert api.as_(world.minors_worker).get("/api/v1/stats/cases/?by=sex").status_code == 403


def test_csv_equals_json(api, world, data):
    query = "by=exploitation_form,minor"
    as_json = get(api, world.analyst, query).json()
    response = get(api, world.analyst, query + "&format=csv")
    assert response["Content-Type"].startswith("text/csv")
    reader = list(csv.DictReader(io.StringIO(response.content.decode())))
    expected_rows = [
        {
            "exploitation_form": str(r["exploitation_form"]),
            "minor": str(r["minor"]).lower(),
            "count": "" if r["count"] is None else str(r["count"]),
            "suppressed": str(r["suppressed"]).lower(),
        }
        for r in [*as_json["rows"], *as_json["totals"]]
    ]
    assert reader == expected_rows


def test_no_stats_response_holds_personal_data(api, world, data, exact):
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
    assert entry.detail["privacy"] == "cell-key" and entry.detail["published_at"]


def test_acceptance_delays_on_postgresql(postgres, api, world, data, settings):
    """A cell's delays are shown only when the number of accepted referrals they
    are computed from is shown and reaches the threshold."""
    from datetime import timedelta

    from stats.services import facts_repair

    settings.MNR_STATS_PERTURB = False
    women = list(Referral.objects.filter(person__sex="female", accepted_at__isnull=True))
    for i, referral in enumerate(women[:5]):  # with the one accepted already: 6 of 12 women
        Referral.objects.filter(pk=referral.pk).update(
            status="accepted", accepted_at=referral.submitted_at + timedelta(days=2, hours=i)
        )
    facts_repair()
    publish()
    r = api.get(world.analyst, "/api/v1/stats/acceptance-delays/?by=sex")
    assert r.status_code == 200, r.content
    rows = {row["sex"]: row for row in r.json()["rows"]}
    assert rows["female"]["count"] == 12  # the cell is shown …
    assert rows["female"]["accepted_count"] is None  # … but its delays describe 6 people
    assert rows["female"]["median_days"] is None and rows["female"]["p90_days"] is None
    settings.MNR_STATS_THRESHOLD = 1
    settings.MNR_STATS_PERTURB = False
    rows = {
        row["sex"]: row
        for row in api.get(world.analyst, "/api/v1/stats/acceptance-delays/?by=sex").json()["rows"]
    }
    assert rows["female"]["accepted_count"] == 6
    assert Referral.objects.filter(person__sex="female", accepted_at__isnull=False).count() == 6
    assert rows["female"]["median_days"] == 2 and isinstance(rows["female"]["median_days"], int)
    assert api.get(world.referrer, "/api/v1/stats/acceptance-delays/?by=sex").status_code == 403
    bad = api.get(world.analyst, "/api/v1/stats/acceptance-delays/?by=sex&minor=%00")
    assert bad.status_code == 400 and "minor" in bad.json()["error"]["fields"]


def test_no_stats_response_holds_a_demo_name(api, world, settings, exact):
    from demo.referrals import FAMILY, GIVEN
    from stats.services import facts_drift

    settings.MNR_DEMO_MODE = True
    call_command("seed_demo", "--referrals", "40")
    # The demo is seeded through the services: its statistics rows are all current.
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
    assert "Okafor" not in blob
    for person_name in [*GIVEN, *FAMILY]:
        assert person_name not in blob, person_name


def test_notes_follow_the_language(api, world, data):
    client = api.as_(world.analyst)
    en = client.get("/api/v1/stats/referrals/?by=exploitation_form", HTTP_ACCEPT_LANGUAGE="en")
    fr = client.get("/api/v1/stats/referrals/?by=exploitation_form", HTTP_ACCEPT_LANGUAGE="fr")
    assert en.json()["notes"][0] == (
        "exploitation_form: a person may count in several categories; "
        "totals count each person once."
    )
    assert "at most 5 either way" in en.json()["notes"][1]
    assert fr.json()["notes"][0].startswith("exploitation_form")
    assert fr.json()["notes"] != en.json()["notes"]


def test_production_refuses_weak_statistics_settings(settings):
    settings.MNR_STATS_THRESHOLD = 5
    with pytest.raises(SystemCheckError, match=r"mnr\.E101"):
        call_command("check", "--deploy", "--tag", "security")
    settings.MNR_STATS_THRESHOLD = 10
    settings.MNR_STATS_PERTURB = False
    with pytest.raises(SystemCheckError, match=r"mnr\.E102"):
        call_command("check", "--deploy", "--tag", "security")


def test_the_monthly_task_publishes_the_live_figures(api, world, data):
    from stats.models import Publication
    from stats.tasks import publish_task

    api.submitted(world.referrer, body(ADULT_BODY, person={"family_name": "Late"}))
    assert publish_task.delay().get() == Referral.objects.count() == 19
    assert Publication.objects.count() == 2  # the fixture's, then the task's
