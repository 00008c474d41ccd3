"""Who holds what on a case: the one authority for every read and write of a
case, its steps, notes, transfers and shares, for both adapters (docs/access.md).

Grants are django-guardian rows in the direct foreign-key tables
(CaseGroupObjectPermission, CaseUserObjectPermission), given, moved and ended
here only:

========================  ==============================  ==========================
who                       holds                           from → until
========================  ==============================  ==========================
the owning association    view_case, change_case          acceptance → transfer
(its group)                                               (moves to the new owner)
the association a         decide_transfer                 request → decision
transfer is asked of
(its group)
a named person the case   view_case_profile / _plan /     share → revocation, the
is shared with (user)     _notes (the parts shared)       share's end date (periodic
                                                          task), the person's access
                                                          ending, or a transfer
========================  ==============================  ==========================

Every decision is one query over the grant tables, constant in the number of
rows (``held_q`` for lists and lookups, ``holds`` for a write); the case's
``association`` foreign key is data and a constraint, never a rule.
``manage.py check_grants`` reports drift (``problems``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator

from django.db.models import Q

from agencies.models import User
from common import grants as common_grants

from .models import (
    Case,
    CaseGroupObjectPermission,
    CaseShare,
    CaseUserObjectPermission,
    SharePart,
    Transfer,
    TransferStatus,
)

VIEW = "view_case"
CHANGE = "change_case"
DECIDE_TRANSFER = "decide_transfer"
PART_PERMISSION = {
    SharePart.PROFILE: "view_case_profile",
    SharePart.PLAN: "view_case_plan",
    SharePart.NOTES: "view_case_notes",
}
OWNER = (VIEW, CHANGE)


def _give_group(group_id: int, case_id: int, codenames: Iterable[str]) -> None:
    common_grants.give_group(CaseGroupObjectPermission, "cases", group_id, case_id, codenames)


def _end_group(group_id: int, case_id: int, codenames: Iterable[str]) -> None:
    common_grants.end_group(CaseGroupObjectPermission, group_id, case_id, codenames)


# --- the process -----------------------------------------------------------------


def grant_owner(*, case: Case, group_id: int) -> None:
    _give_group(group_id, case.pk, OWNER)


def move_owner(*, case: Case, old_group_id: int, new_group_id: int) -> None:
    _end_group(old_group_id, case.pk, OWNER)
    _give_group(new_group_id, case.pk, OWNER)


def grant_transfer_decision(*, transfer: Transfer) -> None:
    _give_group(transfer.to_association.group_id, transfer.case_id, (DECIDE_TRANSFER,))


def end_transfer_decision(*, transfer: Transfer) -> None:
    _end_group(transfer.to_association.group_id, transfer.case_id, (DECIDE_TRANSFER,))


def grant_share(*, share: CaseShare) -> None:
    CaseUserObjectPermission.objects.bulk_create(
        [
            CaseUserObjectPermission(
                user_id=share.grantee_id, permission=p, content_object_id=share.case_id
            )
            for p in common_grants.permissions(
                "cases", (PART_PERMISSION[part] for part in share.parts)
            )
        ],
        ignore_conflicts=True,
    )


def end_share(*, share: CaseShare) -> None:
    CaseUserObjectPermission.objects.filter(
        user_id=share.grantee_id, content_object_id=share.case_id
    ).delete()


# --- decisions ---------------------------------------------------------------------


def held_q(user: User, codename: str = VIEW, *, ref: str = "pk", one: bool = False) -> Q:
    """The cases on which ``user`` holds ``codename``, in one query (``one``: for
    a lookup of one row; see common.grants). The part grants of a share go to
    people, every other grant on a case to groups: only that table is asked."""
    by_user = codename in PART_PERMISSION.values()
    return common_grants.held_q(
        CaseUserObjectPermission if by_user else None,
        None if by_user else CaseGroupObjectPermission,
        user,
        codename,
        ref,
        one=one,
    )


def holds(user: User, codename: str, case_id: int) -> bool:
    """Does ``user`` (active) hold ``codename`` on this case? One query."""
    if not (user.is_authenticated and user.is_active):
        return False
    return Case.objects.filter(held_q(user, codename, one=True), pk=case_id).exists()


def will_hold_as_owner(user: User, group_id: int) -> bool:
    """Will ``user`` hold the owner's grants given to this group (a case being
    opened has no grant yet)?"""
    return (
        user.is_active and User.groups.through.objects.filter(user=user, group_id=group_id).exists()
    )


# --- drift -------------------------------------------------------------------------


def problems() -> Iterator[str]:
    """Every grant on a case the process does not explain, and every missing one."""
    expected: dict[tuple[int, int], set[str]] = defaultdict(set)
    for case_id, group_id in Case.objects.values_list("pk", "association__group_id"):
        expected[(case_id, group_id)] |= set(OWNER)
    for case_id, group_id in Transfer.objects.filter(status=TransferStatus.PENDING).values_list(
        "case_id", "to_association__group_id"
    ):
        expected[(case_id, group_id)].add(DECIDE_TRANSFER)
    held = common_grants.held_by(
        CaseGroupObjectPermission.objects.values_list(
            "content_object_id", "group_id", "permission__codename"
        )
    )
    for (case_id, group_id), codename, extra in common_grants.drift(expected, held):
        if extra:
            yield f"case {case_id}: group {group_id} holds {codename} without a reason"
        else:
            yield f"case {case_id}: group {group_id} lacks {codename}"

    expected_user: dict[tuple[int, int], set[str]] = defaultdict(set)
    for case_id, user_id, parts in CaseShare.objects.filter(
        ended_at__isnull=True, grantee__is_active=True
    ).values_list("case_id", "grantee_id", "parts"):
        expected_user[(case_id, user_id)] |= {PART_PERMISSION[p] for p in parts}
    held_user = common_grants.held_by(
        CaseUserObjectPermission.objects.values_list(
            "content_object_id", "user_id", "permission__codename"
        )
    )
    for (case_id, user_id), codename, extra in common_grants.drift(expected_user, held_user):
        if extra:
            yield f"case {case_id}: user {user_id} holds {codename} without an active share"
        else:
            yield f"case {case_id}: user {user_id} lacks {codename} of their share"
