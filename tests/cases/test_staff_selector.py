"""cases.selectors.association_staff: who a case can be assigned to, or a step
owned by, as offered on the association's pages."""

from __future__ import annotations

import pytest

from cases.selectors import association_staff
from tests.factories import UserFactory
from tests.referral.conftest import world  # noqa: F401

pytestmark = pytest.mark.django_db


def test_staff_of_the_users_association_only(world):  # noqa: F811
    gone = UserFactory(membership_agency=world.paris, membership_role="caseworker")
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    staff = list(association_staff(user=world.paris_worker))
    assert set(staff) == {world.paris_worker, world.paris_manager}
    assert gone not in staff
    assert list(association_staff(user=world.national_worker)) == [world.national_worker]


@pytest.mark.parametrize("who", ["referrer", "analyst", "coordinator", "admin"])
def test_nobody_for_non_staff(world, who):  # noqa: F811
    assert not association_staff(user=getattr(world, who)).exists()
