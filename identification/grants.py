"""Who holds what on an identification file: the one authority for the unit's
reads and decisions, for both adapters (docs/access.md, docs/identification.md).

========================  ======================================  =====================
who                       holds                                   from → until
========================  ======================================  =====================
the unit's group (adult)  view_identification,                    opening → the final
or its children group     decide_identification                   decision (identified,
(a presumed minor)                                                withdrawn, negative
                                                                  past reconsideration)
========================  ======================================  =====================

The association reads the file through its own grants on the case (or, before
acceptance, on the referral): decision-makers never hold anything on the case,
so its notes stay out of their reach. Every decision is one query over the
grant table, constant in the number of rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from django.db.models import Q

from agencies.models import User
from agencies.system import children_group
from common import grants as common_grants

from .models import FINAL, Identification, IdentificationGroupObjectPermission

VIEW = "view_identification"
DECIDE = "decide_identification"
UNIT = (VIEW, DECIDE)


def _group_id(identification: Identification) -> int:
    if identification.minor:
        return children_group(identification.unit_id).pk
    return identification.unit.group_id


def grant_unit(*, identification: Identification) -> None:
    common_grants.give_group(
        IdentificationGroupObjectPermission,
        "identification",
        _group_id(identification),
        identification.pk,
        UNIT,
    )


def end_unit(*, identification: Identification) -> None:
    IdentificationGroupObjectPermission.objects.filter(content_object_id=identification.pk).delete()


def held_q(user: User, codename: str = VIEW, *, ref: str = "pk", one: bool = False) -> Q:
    return common_grants.held_q(
        None, IdentificationGroupObjectPermission, user, codename, ref, one=one
    )


def holds(user: User, codename: str, identification_id: int) -> bool:
    if not (user.is_authenticated and user.is_active):
        return False
    return Identification.objects.filter(
        held_q(user, codename, one=True), pk=identification_id
    ).exists()


def expected_open(identification: Identification) -> bool:
    """Does the process expect the unit to hold its grants on this file?"""
    if identification.status in FINAL:
        return False
    return identification.reconsider_until is not None or identification.status not in (
        Identification.Status.NOT_PRESUMED,
        Identification.Status.NOT_IDENTIFIED,
    )


def problems() -> Iterator[str]:
    expected: dict[tuple[int, int], set[str]] = defaultdict(set)
    for identification in Identification.objects.select_related("unit"):
        if expected_open(identification):
            expected[(identification.pk, _group_id(identification))] |= set(UNIT)
    held = common_grants.held_by(
        IdentificationGroupObjectPermission.objects.values_list(
            "content_object_id", "group_id", "permission__codename"
        )
    )
    for (file_id, group_id), codename, extra in common_grants.drift(expected, held):
        if extra:
            yield f"identification {file_id}: group {group_id} holds {codename} without a reason"
        else:
            yield f"identification {file_id}: group {group_id} lacks {codename}"
