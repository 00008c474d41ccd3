"""Each agency has a group; a user is in exactly the group of their membership."""

from __future__ import annotations

import pytest

from agencies import services
from agencies.models import Membership
from common.errors import ValidationFailed
from tests.factories import AgencyFactory, UserFactory

pytestmark = pytest.mark.django_db


def group_names(user):
    return set(user.groups.values_list("name", flat=True))


def test_each_agency_gets_its_own_group():
    a = AgencyFactory(kind="association")
    b = AgencyFactory(kind="association")
    assert a.group_id != b.group_id
    assert a.group.name == f"agency:{a.pk}"


def test_membership_puts_user_in_agency_group_and_moving_moves_it():
    a = AgencyFactory(kind="association")
    b = AgencyFactory(kind="association")
    user = UserFactory(membership_agency=a, membership_role="caseworker")
    assert group_names(user) == {a.group.name}
    services.membership_set(actor=None, user=user, agency=b, role="manager")
    assert group_names(user) == {b.group.name}
    assert Membership.objects.get(user=user).role == "manager"
    assert Membership.objects.filter(user=user).count() == 1


def test_removing_membership_removes_group():
    a = AgencyFactory(kind="association")
    user = UserFactory(membership_agency=a, membership_role="caseworker")
    services.membership_remove(actor=None, membership=user.membership)
    assert group_names(user) == set()


def test_role_not_in_agency_kind_refused_and_nothing_written():
    police = AgencyFactory(kind="frontline")
    user = UserFactory()
    with pytest.raises(ValidationFailed) as err:
        services.membership_set(actor=None, user=user, agency=police, role="caseworker")
    assert "role" in err.value.fields
    assert not Membership.objects.filter(user=user).exists()
    assert group_names(user) == set()


def test_platform_admin_is_staff_with_admin_permissions_only_through_group():
    platform = AgencyFactory(kind="platform", departement_code=None)
    admin = UserFactory(membership_agency=platform, membership_role="admin")
    admin.refresh_from_db()
    assert admin.is_staff and not admin.is_superuser
    assert admin.has_perm("agencies.change_accreditation")
    assert not admin.has_perm("agencies.delete_agency")
    # Moving them out of the platform agency removes staff status and permissions.
    asso = AgencyFactory(kind="association")
    services.membership_set(actor=None, user=admin, agency=asso, role="caseworker")
    admin = type(admin).objects.get(pk=admin.pk)
    assert not admin.is_staff
    assert not admin.has_perm("agencies.change_accreditation")


def test_membership_history_records_actor():
    a = AgencyFactory(kind="association")
    actor = UserFactory()
    user = UserFactory()
    services.membership_set(actor=actor, user=user, agency=a, role="caseworker")
    assert user.membership.history.first().history_user == actor
