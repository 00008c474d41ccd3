from __future__ import annotations

import pytest

from cases.models import Case
from tests.referral.conftest import ADULT_BODY, MINOR_BODY, api, body, world  # noqa: F401


@pytest.fixture
def open_case(api, world) -> Case:  # noqa: F811
    """An adult's referral accepted by the Paris association (caseworker assigned)."""
    api.submitted(world.referrer, ADULT_BODY)
    routing = api.pending_routing(world.paris_worker)
    r = api.post(world.paris_worker, f"/api/v1/routings/{routing['id']}/accept/")
    assert r.status_code == 201, r.content
    return Case.objects.get(reference=r.json()["reference"])


def accept(api, world, data, worker):  # noqa: F811
    api.submitted(world.referrer, data)
    routing = api.pending_routing(worker)
    r = api.post(worker, f"/api/v1/routings/{routing['id']}/accept/")
    assert r.status_code == 201, r.content
    return r.json()


__all__ = ["ADULT_BODY", "MINOR_BODY", "accept", "body"]
