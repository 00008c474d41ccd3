"""Case timeline, access-log API, history actors on every channel."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from agencies.models import Agency
from agencies.system import SYSTEM_USERNAME
from audit.models import AccessLog
from cases.models import Case, ProtectionStep
from referral.models import Referral

pytestmark = pytest.mark.django_db


def full_story(api, world, case):
    ref = case.reference
    step = ProtectionStep.objects.filter(case=case).order_by("pk").first()
    client = api.as_(world.paris_worker)
    with api.capture(execute=True):
        client.patch(
            f"/api/v1/cases/{ref}/steps/{step.pk}/",
            {"status": "done"},
            format="json",
            HTTP_IF_MATCH=f'"step-{step.pk}-v1"',
        )
    api.post(world.paris_worker, f"/api/v1/cases/{ref}/notes/", {"text": "Secret détail médical"})
    api.post(
        world.paris_worker,
        f"/api/v1/cases/{ref}/transfer/",
        {"to_association": world.national.pk, "reason": "Éloignement"},
    )
    transfer = api.get(world.national_worker, "/api/v1/transfers/").json()["results"][0]
    api.post(world.national_worker, f"/api/v1/transfers/{transfer['id']}/accept/")
    tag = api.get(world.national_worker, f"/api/v1/cases/{ref}/").headers["ETag"]
    api.post(
        world.national_worker,
        f"/api/v1/cases/{ref}/close/",
        {"reason": "support_completed"},
        HTTP_IF_MATCH=tag,
    )


def test_timeline_merges_everything_in_order(api, world, open_case):
    full_story(api, world, open_case)
    r = api.get(
        world.national_worker,
        f"/api/v1/cases/{open_case.reference}/timeline/",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert r.status_code == 200
    events = r.json()["events"]
    codes = [e["event"] for e in events]
    for expected in [
        "referral_submitted",
        "routing_created",
        "referral_routed",
        "routing_accepted",
        "referral_accepted",
        "case_opened",
        "step_added",
        "step_status",
        "note_added",
        "transfer_requested",
        "transfer_accepted",
        "case_transferred",
        "case_closed",
    ]:
        assert expected in codes, (expected, codes)
    assert (
        codes.index("referral_submitted") < codes.index("case_opened") < codes.index("case_closed")
    )
    assert [e["at"] for e in events] == sorted(e["at"] for e in events)
    actors = {e["event"]: e["actor"] for e in events}
    assert actors["referral_submitted"] == world.referrer.username
    assert actors["routing_created"] == "MNR (automatic)"  # routed by the system user
    assert actors["step_status"] == world.paris_worker.username
    assert "Secret" not in r.content.decode()  # notes: metadata only
    closed = next(e for e in events if e["event"] == "case_closed")
    assert closed["text"] == "Case closed: Support completed"
    fr = api.get(
        world.national_worker,
        f"/api/v1/cases/{open_case.reference}/timeline/",
        HTTP_ACCEPT_LANGUAGE="fr",
    ).json()
    closed_fr = next(e for e in fr["events"] if e["event"] == "case_closed")
    assert closed_fr["text"] != closed["text"] and closed_fr["text"].startswith("Dossier clôturé")
    assert AccessLog.objects.filter(action="case.timeline", actor=world.national_worker).exists()


@pytest.mark.parametrize("who", ["referrer", "paris_worker", "coordinator", "analyst", "admin"])
def test_timeline_for_the_owning_association_only(api, world, open_case, who):
    full_story(api, world, open_case)  # the case now belongs to the national association
    assert (
        api.get(getattr(world, who), f"/api/v1/cases/{open_case.reference}/timeline/").status_code
        == 404
    )


def test_timeline_query_count_is_constant(api, world, open_case):
    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert (
                api.get(
                    world.paris_worker, f"/api/v1/cases/{open_case.reference}/timeline/"
                ).status_code
                == 200
            )
        return len(ctx.captured_queries)

    few = count()
    for i in range(6):
        api.post(
            world.paris_worker, f"/api/v1/cases/{open_case.reference}/notes/", {"text": f"n{i}"}
        )
        api.post(
            world.paris_worker, f"/api/v1/cases/{open_case.reference}/steps/", {"kind": "lawyer"}
        )
    assert count() == few


def test_access_log_api_admin_all_manager_own_agency(api, world, open_case):
    api.get(world.paris_worker, f"/api/v1/cases/{open_case.reference}/")
    api.get(world.national_worker, f"/api/v1/cases/{open_case.reference}/")  # a refusal
    everything = api.get(world.admin, "/api/v1/audit/access-log/").json()
    assert everything["count"] == AccessLog.objects.count() >= 2
    own = api.get(world.paris_manager, "/api/v1/audit/access-log/").json()
    assert own["count"] >= 1
    assert {e["agency"] for e in own["results"]} == {world.paris.pk}
    filtered = api.get(
        world.admin, f"/api/v1/audit/access-log/?action=access.refused&agency={world.national.pk}"
    ).json()
    assert filtered["count"] == 1 and filtered["results"][0]["target_id"] == open_case.reference
    by_actor = api.get(
        world.admin, f"/api/v1/audit/access-log/?actor={world.paris_worker.username}"
    ).json()
    assert {e["actor"] for e in by_actor["results"]} == {world.paris_worker.username}
    assert (
        api.get(world.admin, "/api/v1/audit/access-log/?created_after=2999-01-01").json()["count"]
        == 0
    )
    assert api.get(world.admin, "/api/v1/audit/access-log/?action=nope").status_code == 400
    for who in ("paris_worker", "referrer", "analyst", "coordinator"):
        assert api.get(getattr(world, who), "/api/v1/audit/access-log/").status_code == 403
    # Reading the log is itself logged, with what was asked.
    reads = AccessLog.objects.filter(action="audit.view").order_by("pk")
    assert [e.actor for e in reads][:2] == [world.admin, world.paris_manager]
    assert reads.filter(actor=world.admin, detail__action="access.refused").count() == 1


def test_history_actor_on_every_channel(api, world, open_case):
    # API: the referrer's submission and the caseworker's step update.
    referral = Referral.objects.get(pk=open_case.referral_id)
    assert referral.history.earliest().history_user == world.referrer
    # Celery task: routing was done by the named system user.
    routing = referral.routings.get()
    assert routing.history.earliest().history_user.username == SYSTEM_USERNAME
    # Admin: see tests/agencies/test_admin.py::test_admin_creates_agency_through_service.
    # Management command: seed_demo records its changes under the system user.
    with override_settings(MNR_DEMO_MODE=True):
        call_command("seed_demo", "--no-referrals")
    seeded = Agency.objects.get(name="Mineurs Protégés Méditerranée (Marseille)")
    assert seeded.history.earliest().history_user.username == SYSTEM_USERNAME
    # The case itself: opened by the accepting caseworker.
    assert Case.objects.get(pk=open_case.pk).history.earliest().history_user == world.paris_worker
