"""docs/access.md through the HTTP API, role by role: who sees which referral and
routing, and every refusal (404 for what is not yours)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from referral.models import Referral
from tests.referral.conftest import ADULT_BODY, MINOR_BODY, body

pytestmark = pytest.mark.django_db

SEES = {
    # role → can see the routed referral's detail (routed to Paris, not yet accepted)
    "referrer": True,  # author
    "other_referrer": False,
    "crip_referrer": False,  # the CRIP is notified, not given the file
    "paris_worker": True,
    "paris_manager": True,
    "national_worker": False,  # other association
    "minors_worker": False,
    "coordinator": False,  # not escalated
    "analyst": False,
    "admin": False,
}


@pytest.fixture
def routed(api, world) -> Referral:
    ref = api.submitted(world.referrer, ADULT_BODY)["reference"]
    return Referral.objects.get(reference=ref)


@pytest.mark.parametrize(("who", "sees"), SEES.items())
def test_referral_detail_and_list_per_role(api, world, routed, who, sees):
    user = getattr(world, who)
    r = api.get(user, f"/api/v1/referrals/{routed.reference}/")
    assert r.status_code == (200 if sees else 404)
    listed = [x["reference"] for x in api.get(user, "/api/v1/referrals/").json()["results"]]
    assert (routed.reference in listed) is sees


@pytest.mark.parametrize("who", ["paris_worker", "paris_manager"])
def test_routed_association_may_respond(api, world, routed, who):
    routing = api.pending_routing(getattr(world, who))
    r = api.post(getattr(world, who), f"/api/v1/routings/{routing['id']}/accept/")
    assert r.status_code == 201


@pytest.mark.parametrize(
    "who",
    [
        "referrer",
        "other_referrer",
        "national_worker",
        "minors_worker",
        "coordinator",
        "analyst",
        "admin",
    ],
)
def test_nobody_else_sees_or_answers_the_routing(api, world, routed, who):
    user = getattr(world, who)
    routing_id = routed.routings.get().pk
    assert api.get(user, "/api/v1/routings/").json()["count"] == 0
    assert api.get(user, f"/api/v1/routings/{routing_id}/").status_code == 404
    accept = api.post(user, f"/api/v1/routings/{routing_id}/accept/")
    decline = api.post(user, f"/api/v1/routings/{routing_id}/decline/", {"reason": "x"})
    assert accept.status_code == decline.status_code == 404
    routed.refresh_from_db()
    assert routed.status == "routed"


@pytest.mark.parametrize(
    "who", ["other_referrer", "paris_worker", "national_worker", "analyst", "admin", "referrer"]
)
def test_only_the_desk_assigns(api, world, routed, who):
    # Escalate it first: both adult associations decline.
    for worker in (world.paris_worker, world.national_worker):
        routing = api.pending_routing(worker)
        api.post(worker, f"/api/v1/routings/{routing['id']}/decline/", {"reason": "non"})
    url = f"/api/v1/referrals/{routed.reference}/assign/"
    r = api.post(getattr(world, who), url, {"association": world.paris.pk})
    assert r.status_code in (403, 404)  # 403 only for the author, who sees it
    assert r.status_code == (403 if who == "referrer" else 404)
    routed.refresh_from_db()
    assert routed.status == "escalated"


def test_coordinator_sees_escalated_but_not_case_notes_fields(api, world, routed):
    for worker in (world.paris_worker, world.national_worker):
        routing = api.pending_routing(worker)
        api.post(worker, f"/api/v1/routings/{routing['id']}/decline/", {"reason": "non"})
    detail = api.get(world.coordinator, f"/api/v1/referrals/{routed.reference}/").json()
    assert detail["status"] == "escalated"
    assert [r["outcome"] for r in detail["routings"]] == ["declined", "declined"]
    assert "possible_duplicate" in detail


def test_association_sees_only_its_own_routings_in_detail(api, world, routed):
    routing = api.pending_routing(world.paris_worker)
    api.post(
        world.paris_worker, f"/api/v1/routings/{routing['id']}/decline/", {"reason": "Complet"}
    )
    detail = api.get(world.national_worker, f"/api/v1/referrals/{routed.reference}/").json()
    assert [r["association"]["id"] for r in detail["routings"]] == [world.national.pk]
    assert "Complet" not in str(detail)


def test_unknown_reference_and_forbidden_reference_look_the_same(api, world, routed):
    missing = api.get(world.other_referrer, "/api/v1/referrals/MNR-2026-999999/")
    hidden = api.get(world.other_referrer, f"/api/v1/referrals/{routed.reference}/")
    assert missing.status_code == hidden.status_code == 404
    assert missing.json() == hidden.json()


def test_list_filters(api, world):
    api.submitted(world.referrer, ADULT_BODY)
    api.submitted(world.referrer, MINOR_BODY)
    api.submitted(
        world.referrer,
        {
            "exploitation_forms": ["labour_exploitation"],
            "exploitation_departement": "13",
            "consent_to_referral": False,
            "person": {"sex": "male"},
        },
    )
    get = lambda q: api.get(world.referrer, f"/api/v1/referrals/{q}").json()  # noqa: E731
    assert get("")["count"] == 3
    assert get("?status=notified")["count"] == 1
    assert get("?exploitation_form=forced_criminality")["count"] == 1
    assert get("?exploitation_form=sexual_exploitation")["count"] == 1
    assert get("?submitted_after=2000-01-01&submitted_before=2999-01-01")["count"] == 3
    assert get("?submitted_after=2999-01-01")["count"] == 0
    for bad in ("?status=lost", "?exploitation_form=x", "?submitted_after=yesterday"):
        r = api.get(world.referrer, f"/api/v1/referrals/{bad}")
        assert r.status_code == 400, bad
    assert api.get(world.referrer, "/api/v1/referrals/?page=99").status_code == 404


def count_queries(api, user, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        r = api.get(user, url)
    assert r.status_code == 200
    return len(ctx.captured_queries)


def test_referral_and_routing_lists_have_constant_query_counts(api, world):
    api.submitted(world.referrer, ADULT_BODY)
    api.submitted(world.referrer, MINOR_BODY)
    few_referrals = count_queries(api, world.referrer, "/api/v1/referrals/")
    few_inbox = count_queries(api, world.paris_worker, "/api/v1/routings/")
    few_desk = count_queries(api, world.coordinator, "/api/v1/referrals/")
    for i in range(12):
        api.submitted(world.referrer, body(ADULT_BODY, person={"family_name": f"N{i}"}))
        api.submitted(world.referrer, body(MINOR_BODY, person={"family_name": f"M{i}"}))
    assert count_queries(api, world.referrer, "/api/v1/referrals/") == few_referrals
    assert count_queries(api, world.paris_worker, "/api/v1/routings/") == few_inbox
    assert count_queries(api, world.coordinator, "/api/v1/referrals/") == few_desk
    # The referral list shows names: + its access-log entry (4 statements in a test's
    # transaction); the routings inbox shows none and writes nothing.
    assert few_referrals <= 10 and few_inbox <= 6
