"""The coordination desk's pages: escalated referrals and their assignment,
through Django's test client (the browser test repeats the main path)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from audit.models import AccessAction, AccessLog
from referral.models import Referral, Routing
from tests.helpers import login_with_second_factor
from tests.referral import conftest as referral_world
from tests.referral.conftest import ADULT_BODY, MINOR_BODY, body

pytestmark = pytest.mark.django_db

# The referral tests' world (agencies, accreditations, users) and API helper.
world = referral_world.world
api = referral_world.api

LIST = "/escalations/"


def assign_url(reference: str) -> str:
    return f"/escalations/{reference}/assign/"


@pytest.fixture
def client() -> Client:
    # English, so that assertions on messages do not depend on the French catalogue.
    return Client(SERVER_NAME="localhost", HTTP_ACCEPT_LANGUAGE="en")


def as_(client: Client, user) -> Client:
    login_with_second_factor(client, user)
    return client


def escalate(api, world, reason: str = "Plus de place avant trois semaines") -> Referral:
    """A referral every candidate association declined."""
    reference = api.submitted(world.referrer, ADULT_BODY)["reference"]
    for worker in (world.paris_worker, world.national_worker):
        routing = api.pending_routing(worker)
        r = api.post(worker, f"/api/v1/routings/{routing['id']}/decline/", {"reason": reason})
        assert r.status_code == 200, r.content
    referral = Referral.objects.get(reference=reference)
    assert referral.status == "escalated"
    return referral


def test_the_list_shows_escalated_referrals_only_with_their_routing_history(client, api, world):
    escalated = escalate(api, world)
    routed = api.submitted(world.referrer, body(MINOR_BODY))["reference"]
    r = as_(client, world.coordinator).get(LIST)
    assert r.status_code == 200
    text = r.content.decode()
    assert escalated.reference in text and routed not in text
    # What the API shows the desk: who declined, and why.
    assert "Plus de place avant trois semaines" in text
    assert world.paris.name in text and world.national.name in text
    assert assign_url(escalated.reference) in text
    # No name of the person on the desk's list.
    assert "Okafor" not in text and "Blessing" not in text


def test_the_list_is_oldest_first(client, api, world):
    first, second = escalate(api, world), escalate(api, world)
    text = as_(client, world.coordinator).get(LIST).content.decode()
    assert text.index(first.reference) < text.index(second.reference)


def test_the_list_costs_the_same_queries_with_more_referrals(client, api, world):
    escalate(api, world)
    as_(client, world.coordinator)

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(LIST).status_code == 200
        return len(ctx.captured_queries)

    one = queries()
    for _ in range(3):
        escalate(api, world)
    assert queries() == one
    assert one <= 12


def test_the_assign_page_lists_active_associations_with_their_accreditation(client, api, world):
    referral = escalate(api, world)
    world.minors.active = False
    world.minors.save()
    r = as_(client, world.coordinator).get(assign_url(referral.reference))
    assert r.status_code == 200
    text = r.content.decode()
    assert world.paris.name in text and world.national.name in text
    assert world.minors.name not in text  # inactive: not offered
    assert "60" in text and "National" in text  # capacity, territory
    assert f'value="{world.paris.pk}"' in text
    # Opening the referral is a logged read, as the API's detail.
    assert AccessLog.objects.filter(
        action=AccessAction.REFERRAL_VIEW, actor=world.coordinator, target_id=referral.reference
    ).exists()


def test_assign_routes_the_referral_to_the_chosen_association(client, api, world):
    referral = escalate(api, world)
    r = as_(client, world.coordinator).post(
        assign_url(referral.reference), {"association": world.paris.pk}, follow=True
    )
    assert r.redirect_chain[-1][0] == LIST
    assert referral.reference in r.content.decode()  # the success message
    referral.refresh_from_db()
    assert referral.status == "routed"
    routing = Routing.objects.get(referral=referral, outcome="pending")
    assert routing.association == world.paris and routing.assigned_by == world.coordinator
    # The association now has it in its inbox.
    assert api.pending_routing(world.paris_worker)["referral"] == referral.reference


@pytest.mark.parametrize("choice", ["police", "inactive", "", "abc", "999999"])
def test_a_bad_choice_is_a_field_error_and_nothing_is_written(client, api, world, choice):
    referral = escalate(api, world)
    world.minors.active = False
    world.minors.save()
    value = {
        "police": world.police.pk,
        "inactive": world.minors.pk,
    }.get(choice, choice)
    before = Routing.objects.count()
    r = as_(client, world.coordinator).post(assign_url(referral.reference), {"association": value})
    assert r.status_code == 400
    assert r.context["form"].errors["association"]
    assert "Error:" in r.content.decode()  # the page title says so
    assert Routing.objects.count() == before
    referral.refresh_from_db()
    assert referral.status == "escalated"


def test_a_referral_no_longer_escalated_gives_a_message(client, api, world):
    referral = escalate(api, world)
    as_(client, world.coordinator)
    client.post(assign_url(referral.reference), {"association": world.paris.pk})
    before = Routing.objects.count()
    r = client.post(assign_url(referral.reference), {"association": world.national.pk}, follow=True)
    assert r.redirect_chain[-1][0] == assign_url(referral.reference)
    text = r.content.decode()
    assert "Only an escalated referral can be assigned." in text
    assert 'id="assign-form"' not in text
    assert Routing.objects.count() == before


def test_a_referral_never_escalated_is_not_found(client, api, world):
    routed = api.submitted(world.referrer, ADULT_BODY)["reference"]
    as_(client, world.coordinator)
    assert client.get(assign_url(routed)).status_code == 404
    assert client.post(assign_url(routed), {"association": world.paris.pk}).status_code == 404
    assert client.get(assign_url("MNR-2000-999999")).status_code == 404
    assert Routing.objects.filter(assigned_by__isnull=False).count() == 0


@pytest.mark.parametrize("who", ["analyst", "referrer", "paris_worker", "paris_manager"])
def test_other_roles_are_refused_and_logged(client, api, world, who):
    referral = escalate(api, world)
    user = getattr(world, who)
    as_(client, user)
    for method, url in (
        ("get", LIST),
        ("get", assign_url(referral.reference)),
        ("post", assign_url(referral.reference)),
    ):
        r = getattr(client, method)(
            url, {"association": world.paris.pk} if method == "post" else {}
        )
        assert r.status_code == 403, (who, url)
    assert AccessLog.objects.filter(action=AccessAction.REFUSAL, actor=user).count() == 3
    referral.refresh_from_db()
    assert referral.status == "escalated"


def test_anonymous_goes_to_sign_in(client, api, world):
    r = client.get(LIST)
    assert r.status_code == 302 and r.url.startswith("/sign-in/")


def test_csrf_is_enforced(api, world):
    referral = escalate(api, world)
    client = Client(SERVER_NAME="localhost", enforce_csrf_checks=True)
    login_with_second_factor(client, world.coordinator)
    r = client.post(assign_url(referral.reference), {"association": world.paris.pk})
    assert r.status_code == 403
    referral.refresh_from_db()
    assert referral.status == "escalated"


def test_the_desk_has_its_entries_in_the_navigation(client, world):
    text = as_(client, world.coordinator).get("/").content.decode()
    assert f'href="{LIST}"' in text
