"""The statistics table (stats.ReferralFact) follows every change made through
the services, is checked and repaired by the nightly job, and a referral with
several forms counts once unless the form is grouped by."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.models import ProtectionStep
from referral.models import Referral
from stats.models import ReferralFact
from stats.services import facts_drift, facts_rebuild, facts_repair
from stats.tasks import facts_repair_task
from tests.cases.conftest import ADULT_BODY, MINOR_BODY, body
from tests.cases.test_transfers import request_transfer
from tests.stats.conftest import publish, shown

pytestmark = pytest.mark.django_db


def fact(referral_reference: str, **filters) -> ReferralFact:
    return ReferralFact.objects.get(
        referral__reference=referral_reference, is_primary=True, **filters
    )


def patch_step(api, user, case_reference, step, data):
    client = api.as_(user)
    with api.capture(execute=True):
        return client.patch(
            f"/api/v1/cases/{case_reference}/steps/{step.pk}/",
            data,
            format="json",
            HTTP_IF_MATCH=f'"step-{step.pk}-v{step.version}"',
        )


def test_every_service_keeps_the_table_in_step(api, world):
    # Submission (several forms: one row per form, one of them primary).
    ref = api.submitted(
        world.referrer,
        body(ADULT_BODY, exploitation_forms=["sexual_exploitation", "labour_exploitation"]),
    )["reference"]
    rows = ReferralFact.objects.filter(referral__reference=ref)
    assert sorted(rows.values_list("form", "is_primary")) == [
        ("labour_exploitation", True),
        ("sexual_exploitation", False),
    ]
    row = fact(ref)
    assert (row.sex, row.nationality, row.world_region, row.age_group, row.minor) == (
        "female",
        "NG",
        "africa",
        "25-34",
        False,
    )
    assert (row.departement, row.region, row.referring_sector) == ("93", "11", "police")
    assert row.outcome == "routed" and row.case_opened_at is None  # routed on commit
    # Acceptance opens the case.
    routing = api.pending_routing(world.paris_worker)
    case_ref = api.post(world.paris_worker, f"/api/v1/routings/{routing['id']}/accept/").json()[
        "reference"
    ]
    row = fact(ref)
    assert row.outcome == "accepted" and row.accepted_at and row.case_opened_at
    assert row.case_association_id == world.paris.pk
    # A complaint filed, a residence permit requested then obtained.
    r = api.post(
        world.paris_worker, f"/api/v1/cases/{case_ref}/steps/", {"kind": "complaint_filed"}
    )
    assert r.status_code == 201, r.content
    step = ProtectionStep.objects.get(pk=r.json()["id"])
    assert not fact(ref).complaint_filed
    assert (
        patch_step(api, world.paris_worker, case_ref, step, {"status": "done"}).status_code == 200
    )
    assert fact(ref).complaint_filed
    permit = ProtectionStep.objects.get(case__reference=case_ref, kind="residence_permit")
    r = patch_step(api, world.paris_worker, case_ref, permit, {"status": "in_progress"})
    assert r.status_code == 200, r.content
    assert fact(ref).residence_permit == "requested"
    permit.refresh_from_db()
    patch_step(api, world.paris_worker, case_ref, permit, {"status": "done"})
    assert fact(ref).residence_permit == "obtained"
    # A transfer moves the case (and its figures) to the other association.
    transfer = request_transfer(api, world, Referral.objects.get(reference=ref).case).json()
    api.post(world.national_worker, f"/api/v1/transfers/{transfer['id']}/accept/")
    assert fact(ref).case_association_id == world.national.pk
    # Withdrawal, and escalation when every association declines.
    withdrawn = api.submitted(world.referrer, ADULT_BODY)["reference"]
    r = api.post(world.referrer, f"/api/v1/referrals/{withdrawn}/withdraw/", {"reason": "erreur"})
    assert r.status_code == 200, r.content
    assert fact(withdrawn).outcome == "withdrawn"
    escalated = api.submitted(world.other_referrer, MINOR_BODY)["reference"]
    assert fact(escalated).minor and fact(escalated).age_group == "minor"
    routing = api.pending_routing(world.minors_worker)
    api.post(world.minors_worker, f"/api/v1/routings/{routing['id']}/decline/", {"reason": "non"})
    assert fact(escalated).outcome == "escalated"
    # After all that, a fresh computation agrees with every stored row.
    assert facts_drift() == []


def test_check_reports_drift_and_repair_fixes_it(api, world, caplog):
    ref = api.submitted(world.referrer, ADULT_BODY)["reference"]
    call_command("rebuild_stats_facts", "--check")
    ReferralFact.objects.filter(referral__reference=ref).update(sex="male")
    referral_id = Referral.objects.get(reference=ref).pk
    assert facts_drift() == [referral_id]
    with pytest.raises(CommandError, match="1 referrals"):
        call_command("rebuild_stats_facts", "--check")
    assert facts_repair_task.delay().get() == 1
    assert "out of date for 1 referrals" in caplog.text
    assert fact(ref).sex == "female" and facts_drift() == []
    # A lost row is found and restored too; the full rebuild writes the same rows.
    ReferralFact.objects.filter(referral__reference=ref).delete()
    assert facts_repair() == [referral_id]
    before = sorted(ReferralFact.objects.values_list("referral_id", "form", "sex", "outcome"))
    assert facts_rebuild() == 1
    call_command("rebuild_stats_facts")
    after = sorted(ReferralFact.objects.values_list("referral_id", "form", "sex", "outcome"))
    assert before == after


def test_several_forms_count_once_unless_grouped_by_form(api, world, exact):
    for _ in range(3):
        api.submitted(
            world.referrer,
            body(ADULT_BODY, exploitation_forms=["sexual_exploitation", "forced_begging"]),
        )
    api.submitted(world.referrer, ADULT_BODY)
    publish()

    def release(query):
        return api.get(world.analyst, f"/api/v1/stats/referrals/?{query}").json()

    assert shown(release("by=sex")["rows"], "sex") == {"female": 4}
    by_form = release("by=exploitation_form")
    assert shown(by_form["rows"], "exploitation_form") == {
        "forced_begging": 3,
        "sexual_exploitation": 4,
    }
    # The total counts each person once.
    assert by_form["totals"] == [{"exploitation_form": "*", "count": 4, "suppressed": False}]
    filtered = release("by=sex&exploitation_form=forced_begging")
    assert shown(filtered["rows"], "sex") == {"female": 3}


def test_stats_queries_do_not_grow_with_the_data(api, world, django_assert_max_num_queries):
    api.submitted(world.referrer, ADULT_BODY)
    publish()
    client = api.as_(world.analyst)

    def run():
        r = client.get("/api/v1/stats/referrals/?by=exploitation_form,sex&period=2026")
        assert r.status_code == 200
        return r

    with CaptureQueriesContext(connection) as small:
        run()
    first = len(small.captured_queries)
    assert 0 < first <= 8
    for _ in range(5):
        api.submitted(world.other_referrer, MINOR_BODY)
    publish()
    with django_assert_max_num_queries(first):
        run()
