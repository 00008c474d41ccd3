"""Rules written once and used by both adapters (issue 14): the transfer
targets the page offers are the ones the service accepts; the one transition
helper checks, stamps and saves; the assignee rule is the same for the case and
for a step; the referrer's list filters with the API's filter set."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from cases import selectors
from cases.models import Case, ProtectionStep, StepStatus, Transfer
from common.errors import InvalidTransition
from common.transitions import transition
from tests.factories import AgencyFactory, UserFactory
from tests.helpers import login_with_second_factor

pytestmark = pytest.mark.django_db


def _web(user) -> Client:
    client = Client()
    login_with_second_factor(client, user)
    return client


def test_transfer_targets_are_what_the_service_accepts(api, world, open_case):
    closed = AgencyFactory(kind="association", departement_code="69", name="D Fermée")
    closed.active = False
    closed.save()
    targets = set(selectors.transfer_targets(case=open_case).values_list("pk", flat=True))
    assert world.paris.pk not in targets  # the case is already there
    assert closed.pk not in targets  # inactive
    assert world.police.pk not in targets  # not an association
    assert {world.national.pk, world.minors.pk} <= targets

    # The page offers exactly those.
    page = _web(world.paris_worker).get(f"/cases/{open_case.reference}/")
    assert page.status_code == 200
    offered = {
        int(value)
        for value, _label in page.context["transfer_form"].fields["to_association"].choices
        if value
    }
    assert offered == targets

    # The service refuses the inactive one, from the API and from the page alike.
    url = f"/api/v1/cases/{open_case.reference}/transfer/"
    r = api.post(world.paris_worker, url, {"to_association": closed.pk, "reason": "x"})
    assert r.status_code == 400 and "to_association" in r.json()["error"]["fields"]
    posted = _web(world.paris_worker).post(
        f"/cases/{open_case.reference}/transfer/",
        {"transfer-to_association": closed.pk, "transfer-reason": "x"},
    )
    assert posted.status_code == 200  # the form again, with its error
    assert not Transfer.objects.exists()

    r = api.post(world.paris_worker, url, {"to_association": world.national.pk, "reason": "x"})
    assert r.status_code == 201, r.content


def test_transition_checks_stamps_the_history_user_and_bumps_the_version(world, open_case):
    case = Case.objects.get(pk=open_case.pk)
    version, rows = case.version, case.history.count()
    transition(
        case,
        to=Case.Status.CLOSED,
        actor=world.paris_manager,
        closure_reason=Case.ClosureReason.SUPPORT_COMPLETED,
        closed_at=timezone.now(),
    )
    case.refresh_from_db()
    assert case.status == Case.Status.CLOSED and case.version == version + 1
    last = case.history.order_by("-history_id").first()
    assert last.history_user_id == world.paris_manager.pk and last.status == Case.Status.CLOSED

    with pytest.raises(InvalidTransition):  # closed → closed is not declared
        transition(case, to=Case.Status.CLOSED, actor=world.paris_manager)
    case.refresh_from_db()
    assert case.version == version + 1
    assert case.history.count() == rows + 1  # the refused move wrote nothing


def test_a_step_refuses_an_undeclared_move_and_writes_nothing(api, world, open_case):
    step = open_case.steps.first()
    transition(step, to=StepStatus.DONE, actor=world.paris_worker, done_at=timezone.now())
    step.refresh_from_db()
    before = step.history.count()
    with pytest.raises(InvalidTransition):
        transition(step, to=StepStatus.DONE, actor=world.paris_worker)
    assert ProtectionStep.objects.get(pk=step.pk).version == step.version
    assert step.history.count() == before


@pytest.mark.parametrize("where", ["case", "step"])
def test_one_assignee_rule_for_the_case_and_its_steps(api, world, open_case, where):
    """Someone of another association, an inactive colleague: refused the same
    way as the case's assignee and as a step's owner."""
    left = UserFactory(membership_agency=world.paris, membership_role="caseworker")
    left.is_active = False
    left.save()
    for candidate in (world.national_worker, left):
        if where == "case":
            etag = api.get(world.paris_worker, f"/api/v1/cases/{open_case.reference}/")
            r = api.as_(world.paris_worker).patch(
                f"/api/v1/cases/{open_case.reference}/",
                {"assigned_to": candidate.pk},
                format="json",
                HTTP_IF_MATCH=etag.headers["ETag"],
            )
            field = "assigned_to"
        else:
            r = api.post(
                world.paris_worker,
                f"/api/v1/cases/{open_case.reference}/steps/",
                {"kind": "medical_care", "owner": candidate.pk},
            )
            field = "owner"
        assert r.status_code == 400, r.content
        assert field in r.json()["error"]["fields"]


def test_the_referrers_list_filters_with_the_api_filter(api, world):
    from tests.referral.conftest import ADULT_BODY, body

    api.submitted(world.referrer, ADULT_BODY)
    labour = body(ADULT_BODY, exploitation_forms=["labour_exploitation"])
    api.submitted(world.referrer, labour)
    client = _web(world.referrer)
    for form, expected in (("labour_exploitation", 1), ("sexual_exploitation", 1), ("", 2)):
        page = client.get("/referrals/", {"exploitation_form": form})
        assert page.status_code == 200
        assert len(page.context["rows"]) == expected, form
        api_rows = api.get(world.referrer, f"/api/v1/referrals/?exploitation_form={form}")
        assert api_rows.json()["count"] == expected
    bad = client.get("/referrals/", {"exploitation_form": "nope"})
    assert bad.status_code == 200 and "exploitation_form" in bad.context["filters"].errors
