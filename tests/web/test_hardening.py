"""Findings of the security review, each shown fixed: a manager's figures stop at
their association's cases, the admin has no sign-in of its own, nothing a
signed-in person receives is cached, bad statistics input is a 400, and the
session key changes after the second factor."""

from __future__ import annotations

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from cases.models import ProtectionStep
from referral.models import Referral
from stats.services import stats_publish
from tests.helpers import login_with_second_factor
from tests.referral.conftest import ADULT_BODY, api, world  # noqa: F401
from tests.web.conftest import PASSWORD, totp_code

pytestmark = pytest.mark.django_db


def test_a_manager_never_counts_what_another_associations_case_did(api, world, settings):  # noqa: F811
    settings.MNR_STATS_THRESHOLD = 1
    settings.MNR_STATS_PERTURB = False
    ref = api.submitted(world.referrer, ADULT_BODY)["reference"]
    routing = api.pending_routing(world.paris_worker)
    api.post(world.paris_worker, f"/api/v1/routings/{routing['id']}/decline/", {"reason": "plein"})
    routing = api.pending_routing(world.national_worker)
    case = api.post(world.national_worker, f"/api/v1/routings/{routing['id']}/accept/").json()
    r = api.post(
        world.national_worker,
        f"/api/v1/cases/{case['reference']}/steps/",
        {"kind": "complaint_filed"},
    )
    step = ProtectionStep.objects.get(pk=r.json()["id"])
    with api.capture(execute=True):
        api.as_(world.national_worker).patch(
            f"/api/v1/cases/{case['reference']}/steps/{step.pk}/",
            {"status": "done"},
            format="json",
            HTTP_IF_MATCH=f'"step-{step.pk}-v1"',
        )
    assert Referral.objects.get(reference=ref).status == "accepted"
    stats_publish()
    for query in ("by=complaint_filed", "by=step_delivered", "by=outcome", "by=sex"):
        paris = api.get(world.paris_manager, f"/api/v1/stats/referrals/?{query}").json()
        # Declined by Paris: no longer Paris's to count.
        assert all(r["count"] is None for r in paris["rows"] + paris["totals"]), query
    national = api.as_(world.national_worker)
    assert national.get("/api/v1/stats/referrals/?by=sex").status_code == 403  # caseworker
    analyst = api.get(world.analyst, "/api/v1/stats/referrals/?by=complaint_filed").json()
    assert [(r["complaint_filed"], r["count"]) for r in analyst["rows"]] == [
        (False, None),
        (True, 1),
    ]
    # While a routing waits for Paris's answer, Paris counts it.
    api.submitted(world.referrer, ADULT_BODY)
    stats_publish()
    paris = api.get(world.paris_manager, "/api/v1/stats/referrals/?by=outcome").json()
    assert [(r["outcome"], r["count"]) for r in paris["rows"] if r["count"]] == [("routed", 1)]


def test_the_admin_has_no_sign_in_of_its_own(world):  # noqa: F811
    client = Client(SERVER_NAME="localhost")
    r = client.get("/admin/login/?next=/admin/")
    assert r.status_code == 302 and r["Location"] == "/sign-in/?next=/admin/"
    r = client.post("/admin/login/", {"username": world.admin.username, "password": PASSWORD})
    assert r.status_code == 302 and "_auth_user_id" not in client.session
    assert client.get("/admin/")["Location"].startswith("/admin/login/")


def test_nothing_a_signed_in_person_receives_is_cached(api, world):  # noqa: F811
    api.submitted(world.referrer, ADULT_BODY)
    client = Client(SERVER_NAME="localhost")
    login_with_second_factor(client, world.paris_worker)
    for url in ("/inbox/", "/cases/", "/api/v1/routings/"):
        r = client.get(url)
        assert r.status_code == 200, url
        assert "no-store" in r["Cache-Control"] and "private" in r["Cache-Control"], url
    token = api.as_(world.referrer)
    r = token.get("/api/v1/referrals/")
    assert "no-store" in r["Cache-Control"]


@pytest.mark.parametrize(
    "query, field",
    [
        ("by=sex&minor=abc", "minor"),
        ("by=sex&exploited_abroad_only=xyz", "exploited_abroad_only"),
        ("by=sex&complaint_filed=maybe", "complaint_filed"),
        ("by=sex&period=0000", "period"),
        ("by=sex&period=9999", "period"),
    ],
)
def test_bad_statistics_input_is_a_400_with_its_field(api, world, query, field):  # noqa: F811
    r = api.get(world.analyst, f"/api/v1/stats/referrals/?{query}")
    assert r.status_code == 400 and field in r.json()["error"]["fields"], r.content
    client = Client(SERVER_NAME="localhost")
    login_with_second_factor(client, world.analyst)
    page = client.get(f"/statistics/?measure=referrals&{query}")
    assert page.status_code == 400
    assert client.get(f"/statistics/export.csv?measure=referrals&{query}").status_code == 400


@pytest.mark.parametrize("year", ["0000", "9999"])
def test_a_survey_year_out_of_range_is_a_400(api, world, year):  # noqa: F811
    r = api.get(world.analyst, f"/api/v1/stats/reports/survey/?year={year}")
    assert r.status_code == 400 and "year" in r.json()["error"]["fields"]
    client = Client(SERVER_NAME="localhost")
    login_with_second_factor(client, world.analyst)
    assert client.get(f"/statistics/?year={year}").status_code == 400


def test_the_session_key_changes_after_the_second_factor(world):  # noqa: F811
    device = TOTPDevice.objects.create(user=world.paris_worker, name="MNR", confirmed=True)
    client = Client(SERVER_NAME="localhost")
    r = client.post("/sign-in/", {"username": world.paris_worker.username, "password": PASSWORD})
    assert r["Location"] == "/sign-in/code/"
    before = client.session.session_key
    r = client.post("/sign-in/code/", {"otp": totp_code(device)})
    assert r.status_code == 302 and r["Location"] == "/"
    assert client.session.session_key != before
    assert client.get("/").status_code == 200
