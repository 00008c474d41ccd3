"""Decline, expiry, escalation, assignment, withdrawal, acceptance (docs/domain.md, sections 2–3)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from agencies.system import SYSTEM_USERNAME
from cases.models import Case
from referral import services, tasks
from referral.models import Referral, Routing
from tests.referral.conftest import ADULT_BODY, body

pytestmark = pytest.mark.django_db


def submit(api, world, data=ADULT_BODY) -> Referral:
    ref = api.submitted(world.referrer, data)["reference"]
    return Referral.objects.get(reference=ref)


def test_decline_needs_a_reason(api, world):
    submit(api, world)
    routing = api.pending_routing(world.paris_worker)
    for payload in ({}, {"reason": ""}, {"reason": "   "}):
        r = api.post(world.paris_worker, f"/api/v1/routings/{routing['id']}/decline/", payload)
        assert r.status_code == 400
        assert "reason" in r.json()["error"]["fields"]
    assert Routing.objects.get().outcome == "pending"


def test_decline_routes_to_the_next_candidate_and_revokes_access(api, world):
    referral = submit(api, world)
    routing = api.pending_routing(world.paris_worker)
    r = api.post(
        world.paris_worker, f"/api/v1/routings/{routing['id']}/decline/", {"reason": "Complet"}
    )
    assert r.status_code == 200
    assert r.json()["outcome"] == "declined" and r.json()["reason"] == "Complet"
    nxt = api.pending_routing(world.national_worker)
    assert nxt["referral"] == referral.reference
    assert (
        api.get(world.paris_worker, f"/api/v1/referrals/{referral.reference}/").status_code == 404
    )
    assert (
        api.get(world.national_worker, f"/api/v1/referrals/{referral.reference}/").status_code
        == 200
    )
    # Declining again is an impossible transition.
    again = api.post(
        world.paris_worker, f"/api/v1/routings/{routing['id']}/decline/", {"reason": "x"}
    )
    assert again.status_code == 409


def test_every_candidate_declines_then_escalated_then_desk_assigns(api, world):
    referral = submit(api, world)
    for worker in (world.paris_worker, world.national_worker):
        routing = api.pending_routing(worker)
        api.post(worker, f"/api/v1/routings/{routing['id']}/decline/", {"reason": "Non"})
    referral.refresh_from_db()
    assert referral.status == "escalated" and referral.escalated_at is not None
    assert any("desk@example.org" in m.to for m in mail.outbox)

    # The desk now sees it; an analyst does not.
    assert api.get(world.coordinator, f"/api/v1/referrals/{referral.reference}/").status_code == 200
    assert api.get(world.analyst, f"/api/v1/referrals/{referral.reference}/").status_code == 404

    url = f"/api/v1/referrals/{referral.reference}/assign/"
    assert api.post(world.coordinator, url, {"association": world.police.pk}).status_code == 400
    assert api.post(world.coordinator, url, {}).status_code == 400
    assert api.post(world.paris_manager, url, {"association": world.paris.pk}).status_code == 404
    r = api.post(world.coordinator, url, {"association": world.paris.pk})
    assert r.status_code == 201, r.content
    assert r.json()["status"] == "routed"
    routing = Routing.objects.get(referral=referral, outcome="pending")
    assert routing.assigned_by == world.coordinator
    assert api.pending_routing(world.paris_worker)["referral"] == referral.reference
    # Assigning again while it is routed is an impossible transition.
    assert api.post(world.coordinator, url, {"association": world.national.pk}).status_code == 409


def test_expiry_routes_to_the_next_candidate_under_the_system_user(api, world):
    referral = submit(api, world)
    first = Routing.objects.get()
    assert tasks.routings_expire_overdue() == 0  # not overdue yet
    past = timezone.now() - timedelta(hours=49)
    Routing.objects.filter(pk=first.pk).update(
        routed_at=past, respond_by=past + timedelta(hours=48)
    )
    assert tasks.routings_expire_overdue() == 1
    first.refresh_from_db()
    assert first.outcome == "expired"
    assert first.history.first().history_user.username == SYSTEM_USERNAME
    assert Routing.objects.get(referral=referral, outcome="pending").association == world.national
    assert tasks.routings_expire_overdue() == 0  # idempotent


def test_accept_opens_the_case_and_referrer_sees_status_only(api, world):
    referral = submit(api, world)
    routing = api.pending_routing(world.paris_worker)
    r = api.post(world.paris_worker, f"/api/v1/routings/{routing['id']}/accept/")
    assert r.status_code == 201, r.content
    case = r.json()
    assert case["referral"]["reference"] == referral.reference == case["reference"]
    assert case["association"]["id"] == world.paris.pk and case["status"] == "open"
    assert Case.objects.get().referral == referral
    assert world.paris_worker.has_perm("cases.view_case", Case.objects.get())
    detail = api.get(world.referrer, f"/api/v1/referrals/{referral.reference}/").json()
    assert detail["status"] == "accepted" and detail["case_status"] == "open"
    assert detail["receiving_association"]["id"] == world.paris.pk
    assert "routings" not in detail
    assert any("referent@example.org" in m.to for m in mail.outbox)
    # The association still sees the referral, but can no longer respond.
    assert (
        api.get(world.paris_manager, f"/api/v1/referrals/{referral.reference}/").status_code == 200
    )
    assert (
        api.post(world.paris_worker, f"/api/v1/routings/{routing['id']}/accept/").status_code == 409
    )


def test_withdraw_cancels_the_pending_routing(api, world):
    referral = submit(api, world)
    url = f"/api/v1/referrals/{referral.reference}/withdraw/"
    assert api.post(world.paris_worker, url).status_code == 403  # sees it, not the author
    assert api.post(world.other_referrer, url).status_code == 404
    r = api.post(world.referrer, url, {"reason": "Doublon de mon collègue"})
    assert r.status_code == 200 and r.json()["status"] == "withdrawn"
    assert Routing.objects.get().outcome == "cancelled"
    assert (
        api.get(world.paris_worker, f"/api/v1/referrals/{referral.reference}/").status_code == 404
    )
    assert api.post(world.referrer, url).status_code == 409


def test_cannot_withdraw_after_acceptance(api, world):
    referral = submit(api, world)
    routing = api.pending_routing(world.paris_worker)
    api.post(world.paris_worker, f"/api/v1/routings/{routing['id']}/accept/")
    r = api.post(world.referrer, f"/api/v1/referrals/{referral.reference}/withdraw/")
    assert r.status_code == 409


def test_route_is_idempotent(api, world):
    referral = submit(api, world)
    assert services.referral_route(referral_id=referral.pk) is None
    assert Routing.objects.count() == 1


def test_sweep_routes_referrals_left_submitted(world):
    data = services.ReferralInput(
        exploitation_forms=["labour_exploitation"],
        consent_to_referral=True,
        exploitation_departement="75",
        person=services.PersonInput(given_name="A", family_name="B", sex="male"),
    )
    referral, _ = services.referral_submit(actor=world.referrer, data=data)
    assert referral.status == "submitted"  # its task never ran (no commit in this test)
    assert tasks.referrals_sweep_submitted() == 0  # too recent
    Referral.objects.filter(pk=referral.pk).update(
        submitted_at=timezone.now() - timedelta(minutes=5)
    )
    assert tasks.referrals_sweep_submitted() == 1
    referral.refresh_from_db()
    assert referral.status == "routed"
    assert Routing.objects.get().association == world.paris


def test_history_rows_name_the_actor(api, world):
    referral = submit(api, world)
    assert referral.history.earliest().history_user == world.referrer
    routing = api.pending_routing(world.paris_worker)
    api.post(world.paris_worker, f"/api/v1/routings/{routing['id']}/decline/", {"reason": "x"})
    assert Routing.objects.get(pk=routing["id"]).history.first().history_user == world.paris_worker
    assert referral.person.history.first().history_user == world.referrer


def test_relocation_need_prefers_relocating_association(api, world):
    data = body(ADULT_BODY, needs=["secure_relocation"])
    detail = api.submitted(world.referrer, data)
    assert detail["receiving_association"]["id"] == world.national.pk
