"""The named system user that automatic actions (Celery tasks, sweeps) are
recorded under in history and audit."""

from __future__ import annotations

from django.contrib.auth.models import Group

from .models import User

SYSTEM_USERNAME = "mnr-system"


def system_user() -> User:
    user, created = User.objects.get_or_create(
        username=SYSTEM_USERNAME,
        defaults={"is_active": False, "first_name": "MNR", "last_name": "system"},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


DESK_GROUP_NAME = "MNR coordination desk"


def desk_group() -> Group:
    """The group of the coordination desk's people (role "coordinator"), across
    agencies: escalated referrals are granted to it, so analysts and managers of
    the coordinating agency, who share its agency group, never see them.
    Membership services keep it in step with the roles."""
    group, _created = Group.objects.get_or_create(name=DESK_GROUP_NAME)
    return group


def children_group(agency_id: int) -> Group:
    """The decision-makers of one identification unit trained for children:
    the files of presumed minors are granted to it, not to the unit's group.
    Membership services keep it in step with ``Membership.children_trained``."""
    group, _created = Group.objects.get_or_create(name=children_group_name(agency_id))
    return group


def children_group_name(agency_id: int) -> str:
    return f"agency:{agency_id}:children"
