"""Reads of names in lists are logged (issue point 5): one access-log entry per
page of a list that shows identity, with the references shown; nothing for an
empty page, a refused request or a list that shows no identity; never a value
typed in a filter (it may be a name)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import AccessAction, AccessLog
from audit.services import READ_ACTIONS, access_log_list, access_log_write, verify_chain
from cases.models import Case
from referral.models import Routing, RoutingOutcome
from tests.audit.conftest import ADULT_BODY, MINOR_BODY, accept, body
from tests.helpers import login_with_second_factor

pytestmark = pytest.mark.django_db

LIST_ACTIONS = (AccessAction.REFERRAL_LIST, AccessAction.CASE_LIST)
NAMES = ("Blessing", "Okafor", "Ionut", "Stanescu")


def list_entries(**filters) -> list[AccessLog]:
    return list(AccessLog.objects.filter(action__in=LIST_ACTIONS, **filters).order_by("pk"))


def web(user) -> Client:
    client = Client(SERVER_NAME="localhost", HTTP_ACCEPT_LANGUAGE="en")
    login_with_second_factor(client, user)
    return client


def whole_log() -> str:
    """Every column of every access-log entry, as text."""
    return json.dumps(list(AccessLog.objects.values()), default=str)


@pytest.fixture
def two_cases(api, world) -> list[str]:
    """Two adults' cases of the Paris association, newest first (the list order)."""
    first = accept(api, world, ADULT_BODY, world.paris_worker)["reference"]
    second = accept(
        api, world, body(ADULT_BODY, person={"given_name": "Grace"}), world.paris_worker
    )["reference"]
    return [second, first]


# --- lists that show names: one entry per page, with the references shown ----------


def test_the_api_case_list_logs_the_references_of_the_page(api, world, two_cases):
    r = api.get(world.paris_worker, "/api/v1/cases/")
    assert [row["reference"] for row in r.json()["results"]] == two_cases
    assert {row["family_name"] for row in r.json()["results"]} == {"Okafor"}
    [entry] = list_entries()
    assert entry.action == AccessAction.CASE_LIST
    assert (entry.actor, entry.agency, entry.target_type, entry.target_id) == (
        world.paris_worker,
        world.paris,
        "case",
        "",
    )
    assert entry.detail == {"view": "api.cases", "refs": two_cases, "filters": []}


def test_each_api_page_logs_only_its_own_references_and_the_filter_names(api, world, two_cases):
    r = api.get(world.paris_worker, "/api/v1/cases/?status=open&page_size=1&page=2")
    assert [row["reference"] for row in r.json()["results"]] == two_cases[1:]
    api.get(world.paris_worker, "/api/v1/cases/?page_size=1&exploitation_form=sexual_exploitation")
    first, second = list_entries()
    assert first.detail == {"view": "api.cases", "refs": two_cases[1:], "filters": ["status"]}
    assert second.detail == {
        "view": "api.cases",
        "refs": two_cases[:1],
        "filters": ["exploitation_form"],
    }


@pytest.mark.parametrize("who", ["referrer", "coordinator", "paris_worker"])
def test_the_api_referral_list_logs_the_references_shown_to_each_viewer(api, world, who):
    mine = api.submitted(world.referrer, ADULT_BODY)["reference"]
    escalated = api.submitted(world.referrer, body(MINOR_BODY))["reference"]
    # Make the minor's referral reach the desk: the minors' association declines it.
    routing = api.pending_routing(world.minors_worker)
    api.post(world.minors_worker, f"/api/v1/routings/{routing['id']}/decline/", {"reason": "x"})
    user = getattr(world, who)
    r = api.get(user, "/api/v1/referrals/")
    shown = [row["reference"] for row in r.json()["results"]]
    assert shown, "each viewer sees at least one referral here"
    expected = {"referrer": [escalated, mine], "coordinator": [escalated], "paris_worker": [mine]}
    assert shown == expected[who]
    [entry] = list_entries(actor=user)
    assert entry.action == AccessAction.REFERRAL_LIST
    assert entry.target_type == "referral"
    assert entry.detail == {"view": "api.referrals", "refs": shown, "filters": []}


def test_the_web_case_list_logs_the_references_of_the_page(api, world, two_cases, monkeypatch):
    client = web(world.paris_worker)
    html = client.get("/cases/").content.decode()
    assert "Okafor" in html
    monkeypatch.setattr("web.views.association.CASES_PER_PAGE", 1)
    html = client.get("/cases/?status=open&page=2").content.decode()
    assert two_cases[1] in html and two_cases[0] not in html
    first, second = list_entries(actor=world.paris_worker)
    assert first.detail == {"view": "web.cases", "refs": two_cases, "filters": []}
    assert second.detail == {"view": "web.cases", "refs": two_cases[1:], "filters": ["status"]}
    assert second.action == AccessAction.CASE_LIST and second.agency == world.paris


# --- nothing for an empty page, a refusal or a bad request -------------------------


def test_an_empty_page_writes_nothing(api, world, two_cases):
    # No case for the national association, no referral for this referrer.
    assert api.get(world.national_worker, "/api/v1/cases/").json()["count"] == 0
    assert api.get(world.other_referrer, "/api/v1/referrals/").json()["count"] == 0
    assert api.get(world.paris_worker, "/api/v1/cases/?status=closed").json()["count"] == 0
    assert "No case matches." in web(world.national_worker).get("/cases/").content.decode()
    assert list_entries() == []
    assert (
        access_log_list(actor=world.paris_worker, action=AccessAction.CASE_LIST, refs=[], view="x")
        is None
    )


def test_refused_and_foreign_requests_write_no_list_entry(api, world, two_cases):
    # Other people's lists: empty for them (the selectors), so nothing is logged.
    for who in ("referrer", "national_worker", "analyst", "admin", "coordinator"):
        assert api.get(getattr(world, who), "/api/v1/cases/").json()["count"] == 0, who
    for who in ("analyst", "admin", "national_worker"):
        assert api.get(getattr(world, who), "/api/v1/referrals/").json()["count"] == 0, who
    # Refused outright, or a bad request: no list was shown.
    assert Client(SERVER_NAME="localhost").get("/api/v1/cases/").status_code == 401
    assert api.get(world.paris_worker, "/api/v1/cases/?status=lost").status_code == 400
    assert api.get(world.paris_worker, "/api/v1/cases/?page=9").status_code == 404
    assert api.get(world.referrer, "/api/v1/referrals/?submitted_after=x").status_code == 400
    for who in ("referrer", "analyst", "coordinator"):
        assert web(getattr(world, who)).get("/cases/").status_code == 403
    assert list_entries() == []


def test_a_name_typed_in_a_filter_is_never_written_to_the_access_log(api, world, two_cases):
    for query in (
        "?search=Okafor&q=Blessing&given_name=Okafor&family_name=Okafor",
        "?status=Okafor",
        "?assigned_to=Okafor",
        "?Okafor=1&status=open",
    ):
        api.get(world.paris_worker, f"/api/v1/cases/{query}")
        api.get(world.referrer, f"/api/v1/referrals/{query}")
        web(world.paris_worker).get(f"/cases/{query}")
    assert list_entries(), "the valid queries were logged"
    assert {tuple(e.detail["filters"]) for e in list_entries()} <= {(), ("status",)}
    text = whole_log()
    for name in NAMES:
        assert name not in text


# --- lists that show no identity write nothing --------------------------------------


def test_lists_without_identity_write_no_list_entry(api, world, two_cases):
    """The routings inbox, transfers, shared cases, "Mes signalements", the
    escalations: no name, date of birth or phone on them, so no entry. If one of
    them ever shows a name, this test fails: log it with access_log_list."""
    # An escalated referral (both adult associations decline it), a pending
    # routing (the inbox), a transfer offered and a case shared.
    escalated = api.submitted(world.referrer, body(ADULT_BODY, person={"given_name": "Zoe"}))
    for worker in (world.paris_worker, world.national_worker):
        pending = api.pending_routing(worker)
        api.post(worker, f"/api/v1/routings/{pending['id']}/decline/", {"reason": "Complet"})
    api.submitted(world.referrer, body(ADULT_BODY, person={"given_name": "Ada"}))
    routing = Routing.objects.get(association=world.paris, outcome=RoutingOutcome.PENDING)
    r = api.post(
        world.paris_worker,
        f"/api/v1/cases/{two_cases[0]}/transfer/",
        {"to_association": world.national.pk, "reason": "Éloignement"},
    )
    assert r.status_code == 201, r.content
    minor = accept(api, world, MINOR_BODY, world.minors_worker)["reference"]
    r = api.post(
        world.minors_worker,
        f"/api/v1/cases/{minor}/shares/",
        {
            "grantee": world.crip_referrer.username,
            "purpose": "child_protection",
            "purpose_detail": "Évaluation",
            "parts": ["profile"],
            "until": str(timezone.localdate() + timedelta(days=10)),
        },
    )
    assert r.status_code == 201, r.content
    before = AccessLog.objects.count()
    pages = [
        (api.as_(world.paris_worker), "/api/v1/routings/", str(routing.referral.reference)),
        (api.as_(world.national_worker), "/api/v1/transfers/", two_cases[0]),
        (api.as_(world.crip_referrer), "/api/v1/shared-cases/", minor),
        (web(world.paris_worker), "/inbox/", str(routing.referral.reference)),
        (web(world.national_worker), "/inbox/", two_cases[0]),  # the transfer offered
        (web(world.referrer), "/referrals/", two_cases[0]),
        (web(world.coordinator), "/escalations/", escalated["reference"]),
        (web(world.crip_referrer), "/shared-cases/", minor),
    ]
    for client, url, reference in pages:
        r = client.get(url)
        assert r.status_code == 200, url
        text = r.content.decode()
        assert reference in text, url  # the list is not empty
        for name in (*NAMES, "Ada", "Zoe", "Grace", "1999-04-02", "02/04/1999", "+33 6"):
            assert name not in text, (url, name)
    assert list_entries() == []
    assert AccessLog.objects.count() == before


# --- cost and chain ------------------------------------------------------------------


def test_list_reads_are_asynchronous_reads_and_keep_the_chain(api, world, two_cases):
    assert {AccessAction.REFERRAL_LIST, AccessAction.CASE_LIST} <= READ_ACTIONS
    api.get(world.paris_worker, "/api/v1/cases/")
    api.get(world.referrer, "/api/v1/referrals/")
    assert len(list_entries()) == 2
    assert verify_chain().ok


def _queries(api, user, path) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert api.get(user, path).status_code == 200
    return len(ctx.captured_queries)


def test_the_entry_adds_a_fixed_number_of_queries(api, world, two_cases, settings):
    settings.MNR_AUDIT_ACCESS_LOG = False
    off = _queries(api, world.paris_worker, "/api/v1/cases/")
    settings.MNR_AUDIT_ACCESS_LOG = True
    on = _queries(api, world.paris_worker, "/api/v1/cases/")
    for i in range(4):
        accept(api, world, body(ADULT_BODY, person={"family_name": f"N{i}"}), world.paris_worker)
    assert Case.objects.filter(association=world.paris).count() == 6
    assert _queries(api, world.paris_worker, "/api/v1/cases/") == on
    # Exactly one append: what one entry costs written alone (in a test's
    # transaction: a savepoint and its release around the append's statements).
    with CaptureQueriesContext(connection) as one:
        access_log_write(
            action=AccessAction.CASE_LIST, actor=world.paris_worker, target_type="case"
        )
    assert on - off == len(one.captured_queries) <= 5
