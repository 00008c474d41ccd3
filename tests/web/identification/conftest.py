"""Fixtures of the identification page tests: the referral world
(tests/referral), the identification units and their decision-makers
(tests/identification), a signed-in client per user, and helpers that move a
file along through the API (the pages under test are the web's)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from cases.models import Case
from identification.models import Identification
from tests.identification.conftest import units
from tests.referral.conftest import ADULT_BODY, MINOR_BODY, api, body, world
from tests.web.association.conftest import client_for

__all__ = [
    "ADULT_BODY",
    "MINOR_BODY",
    "accepted_case",
    "api",
    "body",
    "client_for",
    "recovery_over",
    "routed",
    "units",
    "world",
]


def routed(api, world, data=ADULT_BODY) -> Identification:
    """Submit a referral through the API; its file opens on routing."""
    referral = api.submitted(world.referrer, data)
    return Identification.objects.get(referral__reference=referral["reference"])


def accepted_case(api, worker) -> Case:
    routing = api.pending_routing(worker)
    r = api.post(worker, f"/api/v1/routings/{routing['id']}/accept/")
    assert r.status_code == 201, r.content
    return Case.objects.get(reference=r.json()["reference"])


def recovery_over(identification: Identification) -> None:
    """Time travel: the recovery period began 31 days ago and has ended."""
    start = timezone.localdate() - timedelta(days=31)
    Identification.objects.filter(pk=identification.pk).update(
        recovery_starts_on=start, recovery_ends_on=start + timedelta(days=30)
    )
