"""Grants are the authority (issue 12): writes as well as reads are decided by
the per-object grants, access follows people and the process, and
check_grants finds every drift. Through the HTTP API."""

from __future__ import annotations

import statistics
import time

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from guardian.shortcuts import assign_perm, remove_perm

from agencies.services import membership_set
from agencies.system import desk_group
from audit.models import AccessLog
from cases.models import Case, CaseGroupObjectPermission
from referral.models import Referral, ReferralUserObjectPermission
from tests.referral.conftest import ADULT_BODY

pytestmark = pytest.mark.django_db


def escalate(api, world) -> Referral:
    ref = api.submitted(world.referrer, ADULT_BODY)["reference"]
    for worker in (world.paris_worker, world.national_worker):
        routing = api.pending_routing(worker)
        api.post(worker, f"/api/v1/routings/{routing['id']}/decline/", {"reason": "non"})
    referral = Referral.objects.get(reference=ref)
    assert referral.status == "escalated"
    return referral


def grants_clean(capsys) -> None:
    call_command("check_grants")
    assert "All grants agree" in capsys.readouterr().out


# --- writes are decided by grants, not by foreign keys ------------------------------


def test_a_routed_association_without_its_respond_grant_cannot_answer(api, world, capsys):
    api.submitted(world.referrer, ADULT_BODY)
    routing = api.pending_routing(world.paris_worker)
    referral = Referral.objects.get()
    remove_perm("referral.respond_referral", world.paris.group, referral)
    r = api.post(world.paris_worker, f"/api/v1/routings/{routing['id']}/accept/")
    assert r.status_code == 403
    assert not Case.objects.exists()
    with pytest.raises(CommandError):
        call_command("check_grants")  # and the drift is reported
    assert "lacks respond_referral" in capsys.readouterr().out


def test_the_owner_without_change_case_cannot_write_though_it_owns_the_case(api, world):
    api.submitted(world.referrer, ADULT_BODY)
    routing = api.pending_routing(world.paris_worker)
    reference = api.post(world.paris_worker, f"/api/v1/routings/{routing['id']}/accept/").json()[
        "reference"
    ]
    case = Case.objects.get(reference=reference)
    remove_perm("cases.change_case", world.paris.group, case)
    note = api.post(world.paris_worker, f"/api/v1/cases/{reference}/notes/", {"text": "x"})
    assert note.status_code == 403
    assert not case.notes.exists()
    # Reads still follow view_case, which the owner keeps.
    assert api.get(world.paris_worker, f"/api/v1/cases/{reference}/").status_code == 200


def test_a_grant_given_by_hand_to_another_group_lets_it_answer(api, world):
    """The other side: the grant decides, whatever the foreign keys say. (Stray
    grants are what check_grants reports; this proves nothing else decides.)"""
    api.submitted(world.referrer, ADULT_BODY)
    routing = api.pending_routing(world.paris_worker)
    referral = Referral.objects.get()
    # National holds respond through its own group, but the routing is Paris's:
    # answering a routing needs the grant through the routed association's group.
    assign_perm("referral.respond_referral", world.national.group, referral)
    assign_perm("referral.view_referral", world.national.group, referral)
    r = api.post(world.national_worker, f"/api/v1/routings/{routing['id']}/accept/")
    assert r.status_code == 404  # not their routing: the routing list is theirs only
    assert (
        api.get(world.national_worker, f"/api/v1/referrals/{referral.reference}/").status_code
        == 200
    )


# --- access follows people -------------------------------------------------------------


def test_a_referrer_moved_to_miprof_as_analyst_loses_their_referrals(api, world, capsys):
    refs = [api.submitted(world.referrer, ADULT_BODY)["reference"] for _ in range(2)]
    assert api.get(world.referrer, "/api/v1/referrals/").json()["count"] == 2
    membership_set(actor=world.admin, user=world.referrer, agency=world.miprof, role="analyst")
    world.referrer.refresh_from_db()
    assert api.get(world.referrer, "/api/v1/referrals/").json()["count"] == 0
    for ref in refs:
        assert api.get(world.referrer, f"/api/v1/referrals/{ref}/").status_code == 404
        withdraw = api.post(world.referrer, f"/api/v1/referrals/{ref}/withdraw/", {"reason": "x"})
        assert withdraw.status_code == 404
    assert not ReferralUserObjectPermission.objects.filter(user=world.referrer).exists()
    entry = AccessLog.objects.get(action="access.grants_ended")
    assert entry.target_id == str(world.referrer.pk)
    assert entry.detail["reason"] == "membership_moved"
    # The referrals stay with the association.
    for ref in refs:
        assert api.get(world.paris_worker, f"/api/v1/referrals/{ref}/").status_code == 200
    grants_clean(capsys)


@pytest.mark.parametrize("change", ["role", "deactivate", "remove"])
def test_a_role_change_deactivation_or_removal_ends_author_grants(api, world, change, capsys):
    ref = api.submitted(world.referrer, ADULT_BODY)["reference"]
    if change == "role":
        membership_set(actor=world.admin, user=world.referrer, agency=world.police, role="manager")
    elif change == "deactivate":
        world.referrer.is_active = False
        world.referrer.save()
    else:
        from agencies.services import membership_remove

        membership_remove(actor=world.admin, membership=world.referrer.membership)
    assert not ReferralUserObjectPermission.objects.filter(user=world.referrer).exists()
    world.referrer.refresh_from_db()
    if change != "deactivate":  # a deactivated account cannot sign in at all
        assert api.get(world.referrer, f"/api/v1/referrals/{ref}/").status_code == 404
    grants_clean(capsys)


def test_check_grants_finds_an_author_grant_that_outlived_the_author(api, world, capsys):
    ref = api.submitted(world.referrer, ADULT_BODY)["reference"]
    membership_set(actor=world.admin, user=world.referrer, agency=world.miprof, role="analyst")
    assign_perm("referral.view_referral", world.referrer, Referral.objects.get(reference=ref))
    with pytest.raises(CommandError):
        call_command("check_grants")
    assert f"user {world.referrer.pk} holds view_referral but is not its author with access" in (
        capsys.readouterr().out
    )


# --- the coordination desk ---------------------------------------------------------------


def test_the_desk_sees_an_escalation_until_it_is_accepted_analysts_never(api, world, capsys):
    referral = escalate(api, world)
    url = f"/api/v1/referrals/{referral.reference}/"
    assert api.get(world.coordinator, url).status_code == 200
    assert api.get(world.analyst, url).status_code == 404  # same kind of agency, no grant
    r = api.post(world.coordinator, f"{url}assign/", {"association": world.paris.pk})
    assert r.status_code == 201
    assert api.get(world.coordinator, url).status_code == 200  # still followed while routed
    grants_clean(capsys)
    routing = api.pending_routing(world.paris_worker)
    assert (
        api.post(world.paris_worker, f"/api/v1/routings/{routing['id']}/accept/").status_code == 201
    )
    assert api.get(world.coordinator, url).status_code == 404
    assert not api.get(world.coordinator, "/api/v1/referrals/").json()["count"]
    grants_clean(capsys)


def test_a_coordinator_changing_role_leaves_the_desk(api, world):
    referral = escalate(api, world)
    membership_set(actor=world.admin, user=world.coordinator, agency=world.desk, role="analyst")
    assert not world.coordinator.groups.filter(pk=desk_group().pk).exists()
    r = api.get(world.coordinator, f"/api/v1/referrals/{referral.reference}/")
    assert r.status_code == 404


def test_check_grants_finds_the_desk_holding_an_accepted_referral(api, world, capsys):
    referral = escalate(api, world)
    api.post(
        world.coordinator,
        f"/api/v1/referrals/{referral.reference}/assign/",
        {"association": world.paris.pk},
    )
    routing = api.pending_routing(world.paris_worker)
    api.post(world.paris_worker, f"/api/v1/routings/{routing['id']}/accept/")
    assign_perm("referral.view_referral", desk_group(), referral)
    with pytest.raises(CommandError):
        call_command("check_grants")
    assert "the coordination desk holds view_referral without a reason" in capsys.readouterr().out


# --- constant queries -------------------------------------------------------------------


def _queries(api, user, path) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert api.get(user, path).status_code == 200
    return len(ctx.captured_queries)


def test_access_filtered_lists_cost_the_same_with_1_and_1000_objects(api, world):
    first = api.submitted(world.referrer, ADULT_BODY)["reference"]
    one = _queries(api, world.referrer, "/api/v1/referrals/")
    source = Referral.objects.get(reference=first)
    person = source.person
    grants = list(ReferralUserObjectPermission.objects.filter(content_object=source))
    clones = []
    for i in range(999):
        clone = Referral.objects.get(pk=source.pk)
        clone.pk = None
        clone.reference = f"MNR-2001-{i:06d}"
        clones.append(clone)
    Referral.objects.bulk_create(clones)
    people, rows = [], []
    for clone in clones:
        p = type(person).objects.get(pk=person.pk)
        p.pk, p.referral = None, clone
        people.append(p)
        rows += [
            ReferralUserObjectPermission(user=g.user, permission=g.permission, content_object=clone)
            for g in grants
        ]
    type(person).objects.bulk_create(people)
    ReferralUserObjectPermission.objects.bulk_create(rows)
    assert api.get(world.referrer, "/api/v1/referrals/").json()["count"] == 1000
    assert _queries(api, world.referrer, "/api/v1/referrals/") == one


def test_the_case_list_costs_the_same_with_1_and_1000_cases(api, world):
    api.submitted(world.referrer, ADULT_BODY)
    routing = api.pending_routing(world.paris_worker)
    api.post(world.paris_worker, f"/api/v1/routings/{routing['id']}/accept/")
    one = _queries(api, world.paris_worker, "/api/v1/cases/")
    case = Case.objects.get()
    source = case.referral
    grants = list(CaseGroupObjectPermission.objects.filter(content_object=case))
    referrals = []
    for i in range(999):
        clone = Referral.objects.get(pk=source.pk)
        clone.pk, clone.reference = None, f"MNR-2001-{i:06d}"
        referrals.append(clone)
    Referral.objects.bulk_create(referrals)
    people, cases = [], []
    for referral in referrals:
        p = type(source.person).objects.get(pk=source.person.pk)
        p.pk, p.referral = None, referral
        people.append(p)
        c = Case.objects.get(pk=case.pk)
        c.pk, c.referral, c.reference = None, referral, referral.reference
        cases.append(c)
    type(source.person).objects.bulk_create(people)
    Case.objects.bulk_create(cases)
    CaseGroupObjectPermission.objects.bulk_create(
        [
            CaseGroupObjectPermission(group=g.group, permission=g.permission, content_object=c)
            for c in cases
            for g in grants
        ]
    )
    assert api.get(world.paris_worker, "/api/v1/cases/").json()["count"] == 1000
    assert _queries(api, world.paris_worker, "/api/v1/cases/") == one


# --- no existence oracle -------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.parametrize("kind", ["cases", "referrals"])
def test_missing_and_not_yours_take_the_same_time_and_leave_the_same_trace(
    api, world, open_case_ref, kind
):
    """200 calls each, interleaved: the medians within 2 ms, every call a 404 and
    one refusal entry each, whether the reference exists or not."""
    client = api.as_(world.national_worker)
    missing = "MNR-1999-000001"
    times: dict[str, list[float]] = {"foreign": [], "missing": []}
    for _ in range(5):  # warm up both paths
        client.get(f"/api/v1/{kind}/{open_case_ref}/")
        client.get(f"/api/v1/{kind}/{missing}/")
    before = AccessLog.objects.filter(action="access.refused").count()
    for _ in range(200):
        for label, ref in (("foreign", open_case_ref), ("missing", missing)):
            start = time.perf_counter()
            r = client.get(f"/api/v1/{kind}/{ref}/")
            times[label].append(time.perf_counter() - start)
            assert r.status_code == 404
    assert AccessLog.objects.filter(action="access.refused").count() == before + 400
    gap_ms = abs(statistics.median(times["foreign"]) - statistics.median(times["missing"])) * 1000
    assert gap_ms < 2, (gap_ms, times)


def test_a_manager_sees_a_refusal_but_not_the_reference_asked_for(api, world, open_case_ref):
    api.get(world.referrer, f"/api/v1/cases/{open_case_ref}/")  # a police referrer probes
    police_manager = type(world.referrer).objects.create(username="police-manager")
    membership_set(actor=world.admin, user=police_manager, agency=world.police, role="manager")
    rows = api.get(police_manager, "/api/v1/audit/access-log/?action=access.refused").json()
    assert rows["count"] == 1
    assert rows["results"][0]["target_id"] == ""
    probe = api.get(
        police_manager, f"/api/v1/audit/access-log/?action=access.refused&target_id={open_case_ref}"
    ).json()
    assert probe["count"] == 0  # nor can they search for it
    admin_rows = api.get(world.admin, "/api/v1/audit/access-log/?action=access.refused").json()
    assert [r["target_id"] for r in admin_rows["results"]] == [open_case_ref]


@pytest.fixture
def open_case_ref(api, world) -> str:
    api.submitted(world.referrer, ADULT_BODY)
    routing = api.pending_routing(world.paris_worker)
    r = api.post(world.paris_worker, f"/api/v1/routings/{routing['id']}/accept/")
    assert r.status_code == 201
    return r.json()["reference"]
