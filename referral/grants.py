"""Who holds what on a referral: the one authority for every read and write of
a referral, for both adapters (docs/access.md).

Grants are django-guardian rows in the direct foreign-key tables
(ReferralUserObjectPermission, ReferralGroupObjectPermission). They are given,
moved and ended here only:

=====================  ===========================  ============================
who                    holds                        from → until
=====================  ===========================  ============================
the author (user)      view, withdraw               submission → their access
                                                    ends (moved, role changed,
                                                    membership removed,
                                                    deactivated)
a routed association   view, respond                routing → decline, expiry,
(its group)                                         cancellation (both) or
                                                    acceptance (respond)
the owning association view                         acceptance → transfer (moves
(its group)                                         to the new owner)
the coordination desk  view, assign                 escalation → acceptance or
(the desk's group)                                  withdrawal
=====================  ===========================  ============================

When the author's access ends, the referral stays with the association and the
desk; nobody else at the referring agency gains it (a frontline agency needs no
identity once the referral is filed; its other referrers never held it).

Every decision is one query over the grant tables, constant in the number of
rows: ``visible_q`` for lists and lookups, ``holds`` for a write. Foreign keys
(author, routing association, case owner) stay as data and constraints; they
decide nothing. ``manage.py check_grants`` reports any drift (``problems``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator

from django.contrib.auth.models import Group
from django.db.models import F, Q

from agencies.models import Membership, User
from agencies.system import children_group_name, desk_group
from common import grants as common_grants

from .models import (
    Referral,
    ReferralGroupObjectPermission,
    ReferralStatus,
    ReferralUserObjectPermission,
    Routing,
    RoutingOutcome,
)

VIEW = "view_referral"
RESPOND = "respond_referral"
WITHDRAW = "withdraw_referral"
ASSIGN = "assign_referral"

AUTHOR = (VIEW, WITHDRAW)
ROUTED = (VIEW, RESPOND)
OWNER = (VIEW,)
DESK = (VIEW, ASSIGN)
USER_ONLY = frozenset(AUTHOR) - frozenset(ROUTED + OWNER + DESK)
GROUP_ONLY = frozenset(ROUTED + OWNER + DESK) - frozenset(AUTHOR)

# The desk follows a referral from its escalation until it is accepted or withdrawn.
DESK_STATUSES = (ReferralStatus.ESCALATED, ReferralStatus.ROUTED, ReferralStatus.SUBMITTED)


def _give_group(group_id: int, referral_id: int, codenames: Iterable[str]) -> None:
    common_grants.give_group(
        ReferralGroupObjectPermission, "referral", group_id, referral_id, codenames
    )


def _end_group(group_id: int, referral_id: int, codenames: Iterable[str]) -> None:
    common_grants.end_group(ReferralGroupObjectPermission, group_id, referral_id, codenames)


# --- the process -----------------------------------------------------------------


def grant_author(*, referral: Referral) -> None:
    ReferralUserObjectPermission.objects.bulk_create(
        [
            ReferralUserObjectPermission(
                user_id=referral.referring_user_id, permission=p, content_object=referral
            )
            for p in common_grants.permissions("referral", AUTHOR)
        ],
        ignore_conflicts=True,
    )


def grant_routing(*, routing: Routing) -> None:
    _give_group(routing.association.group_id, routing.referral_id, ROUTED)


def end_routing(*, routing: Routing, accepted: bool) -> None:
    """The routing is decided: on acceptance the association keeps view (it owns
    the case now); otherwise it loses both."""
    _end_group(
        routing.association.group_id, routing.referral_id, (RESPOND,) if accepted else ROUTED
    )


def grant_desk(*, referral: Referral) -> None:
    _give_group(desk_group().pk, referral.pk, DESK)


def end_desk(*, referral: Referral) -> None:
    _end_group(desk_group().pk, referral.pk, DESK)


def move_owner(*, referral_id: int, old_group_id: int, new_group_id: int) -> None:
    """A transfer: the new owner gains view, the old loses it (same transaction)."""
    _end_group(old_group_id, referral_id, OWNER)
    _give_group(new_group_id, referral_id, OWNER)


def end_user_grants(*, user: User) -> int:
    """The person's access ended: every grant they held on their own goes."""
    deleted, _ = ReferralUserObjectPermission.objects.filter(user=user).delete()
    return deleted


# --- decisions ---------------------------------------------------------------------


def held_q(user: User, codename: str = VIEW, *, ref: str = "pk", one: bool = False) -> Q:
    """The referrals on which ``user`` holds ``codename``, in one query (``one``:
    for a lookup of one row; see common.grants). Only the table(s) the
    permission is granted in are asked: withdraw goes to the author alone,
    respond and assign to groups alone, view to both."""
    return common_grants.held_q(
        None if codename in GROUP_ONLY else ReferralUserObjectPermission,
        None if codename in USER_ONLY else ReferralGroupObjectPermission,
        user,
        codename,
        ref,
        one=one,
    )


def holds(user: User, codename: str, referral_id: int) -> bool:
    """Does ``user`` (active) hold ``codename`` on this referral? One query."""
    if not (user.is_authenticated and user.is_active):
        return False
    return Referral.objects.filter(held_q(user, codename, one=True), pk=referral_id).exists()


def holds_through(user: User, codename: str, referral_id: int, group_id: int) -> bool:
    """Does ``user`` hold ``codename`` on the referral through this very group
    (a routing's association answers for itself, not through another grant)?"""
    if not (user.is_authenticated and user.is_active):
        return False
    return ReferralGroupObjectPermission.objects.filter(
        content_object_id=referral_id,
        group_id=group_id,
        group__user=user,
        permission__codename=codename,
    ).exists()


# --- drift -------------------------------------------------------------------------


def _expected_group_grants(desk_id: int) -> dict[tuple[int, int], set[str]]:
    expected: dict[tuple[int, int], set[str]] = defaultdict(set)
    pending = Routing.objects.filter(outcome=RoutingOutcome.PENDING).values_list(
        "referral_id", "association__group_id"
    )
    for referral_id, group_id in pending:
        expected[(referral_id, group_id)] |= set(ROUTED)
    # A case is the referral's accepted outcome (through the relation cases adds:
    # cases sit above referrals).
    owned = Referral.objects.filter(case__isnull=False).values_list(
        "pk", "case__association__group_id"
    )
    for referral_id, group_id in owned:
        expected[(referral_id, group_id)] |= set(OWNER)
    followed = Referral.objects.filter(
        escalated_at__isnull=False, status__in=DESK_STATUSES
    ).values_list("pk", flat=True)
    for referral_id in followed:
        expected[(referral_id, desk_id)] |= set(DESK)
    return expected


def _trusted_authors() -> dict[int, int]:
    """Referral → author, for authors who still hold their reason to see it: an
    active referrer of the referring agency."""
    return dict(
        Referral.objects.filter(
            referring_user__is_active=True,
            referring_user__membership__role=Membership.Role.REFERRER,
            referring_user__membership__agency=F("referring_agency"),
        ).values_list("pk", "referring_user_id")
    )


def group_problems() -> Iterator[str]:
    """People in groups their membership does not give them."""
    desk_id = desk_group().pk
    agency_groups = set(Group.objects.filter(agency__isnull=False).values_list("pk", flat=True))
    children_groups = dict(
        Group.objects.filter(name__regex=r"^agency:[0-9]+:children$").values_list("pk", "name")
    )
    memberships = {
        m["user_id"]: m
        for m in Membership.objects.values(
            "user_id", "role", "agency_id", "agency__group_id", "children_trained"
        )
    }
    for user_id, group_id in User.groups.through.objects.values_list("user_id", "group_id"):
        m = memberships.get(user_id)
        if group_id == desk_id:
            ok = m is not None and m["role"] == Membership.Role.COORDINATOR
        elif group_id in children_groups:
            ok = (
                m is not None
                and m["role"] == Membership.Role.DECISION_MAKER
                and m["children_trained"]
                and children_groups[group_id] == children_group_name(m["agency_id"])
            )
        elif group_id in agency_groups:
            ok = m is not None and m["agency__group_id"] == group_id
        else:
            continue
        if not ok:
            yield f"user {user_id} is in group {group_id} without the membership for it"


def problems() -> Iterator[str]:
    """Every grant on a referral that the process does not explain, and every
    grant the process expects that is missing."""
    trusted = _trusted_authors()
    expected_user: dict[tuple[int, int], set[str]] = {
        (referral_id, user_id): set(AUTHOR) for referral_id, user_id in trusted.items()
    }
    held_user = common_grants.held_by(
        ReferralUserObjectPermission.objects.values_list(
            "content_object_id", "user_id", "permission__codename"
        )
    )
    for (referral_id, user_id), codename, extra in common_grants.drift(expected_user, held_user):
        if extra:
            yield (
                f"referral {referral_id}: user {user_id} holds {codename} but is not its "
                "author with access"
            )
        else:
            yield f"referral {referral_id}: its author (user {user_id}) lacks {codename}"

    desk_id = desk_group().pk
    expected = _expected_group_grants(desk_id)
    held = common_grants.held_by(
        ReferralGroupObjectPermission.objects.values_list(
            "content_object_id", "group_id", "permission__codename"
        )
    )
    for (referral_id, group_id), codename, extra in common_grants.drift(expected, held):
        who = "the coordination desk" if group_id == desk_id else f"group {group_id}"
        if extra:
            yield f"referral {referral_id}: {who} holds {codename} without a reason"
        else:
            yield f"referral {referral_id}: {who} lacks {codename}"
