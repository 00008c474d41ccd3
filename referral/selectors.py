"""Reads with rules on referrals and routings (docs/access.md).

Visibility comes from the per-object grants only (referral.grants.held_q: one
``Exists`` per grant table, whoever the grant went to: the author, a routed or
owning association, the coordination desk). A referral or routing the user may
not see is "not found", whether it exists or not, with the same work and the
same access-log entry either way (no existence oracle).
"""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Exists, OuterRef, Prefetch, QuerySet

from agencies.models import Membership, User
from agencies.selectors import membership_of
from audit.models import AccessAction
from audit.services import access_log_write
from common.errors import NotFound

from . import grants, indicators
from .models import (
    PresumedVictim,
    Referral,
    ReferralStatus,
    Routing,
    RoutingOutcome,
)

VIEWER_AUTHOR = "author"
VIEWER_ASSOCIATION = "association"
VIEWER_COORDINATION = "coordination"


def _role(user: User) -> str | None:
    membership = membership_of(user)
    return membership.role if membership else None


def possible_duplicate_annotation() -> Exists:
    """True when another referral names the same person (same blind index)."""
    return Exists(
        PresumedVictim.objects.filter(blind_index=OuterRef("person__blind_index"))
        .exclude(blind_index="")
        .exclude(referral_id=OuterRef("pk"))
    )


def referral_list_visible_to(*, user: User, one: bool = False) -> QuerySet[Referral]:
    """The referrals the user holds view on (``one`` when the caller then picks
    one referral: the grant check is then two index probes)."""
    if not user.is_authenticated or _role(user) is None:
        return Referral.objects.none()
    return (
        Referral.objects.filter(grants.held_q(user, grants.VIEW, one=one))
        .select_related(
            "person",
            "person__current_departement",
            "referring_agency",
            "exploitation_departement",
            "case",
        )
        .prefetch_related(
            Prefetch(
                "routings",
                queryset=Routing.objects.select_related("association").order_by("routed_at", "pk"),
            )
        )
        .annotate(possible_duplicate=possible_duplicate_annotation())
        .order_by("-submitted_at", "-pk")
    )


def referral_get_for_user(
    *, user: User, reference: str, log: str | None = AccessAction.REFERRAL_VIEW
) -> Referral:
    """The referral if the user may see it, else NotFound (missing or not theirs).
    ``log`` names the access-log action of this read (None: not logged, for a
    read-back after a write or a page that shows no identity). A refusal is always
    logged, and alike for a reference that does not exist and one that is not
    theirs: one query and one entry either way, so neither the answer, its time
    nor the log tells them apart."""
    referral = referral_list_visible_to(user=user, one=True).filter(reference=reference).first()
    if referral is None:
        access_log_write(
            action=AccessAction.REFUSAL, actor=user, target_type="referral", target_id=reference
        )
        raise NotFound()
    if log:
        access_log_write(action=log, actor=user, target_type="referral", target_id=reference)
    return referral


def viewer_relation(*, user: User, referral: Referral) -> str:
    """How the user sees a referral they may see: as its author, as a routed or
    owning association, or as the coordination desk. Decides which fields show."""
    if referral.referring_user_id == user.pk:
        return VIEWER_AUTHOR
    if _role(user) == Membership.Role.COORDINATOR:
        return VIEWER_COORDINATION
    return VIEWER_ASSOCIATION


def routing_list_for(*, user: User) -> QuerySet[Routing]:
    """The routings of the user's association: a record between the platform
    and the association (facts, no identity), seen through the association's
    group. The referral behind it (identity, narrative) is read only through
    its grants (referral_get_for_user): a declined routing stays listed, its
    referral does not."""
    if not user.is_authenticated:
        return Routing.objects.none()
    in_group = User.groups.through.objects.filter(
        user=user, group_id=OuterRef("association__group_id")
    )
    return (
        Routing.objects.filter(Exists(in_group))
        .select_related(
            "association",
            "referral",
            "referral__person",
            "referral__exploitation_departement",
        )
        .annotate(
            possible_duplicate=Exists(
                PresumedVictim.objects.filter(blind_index=OuterRef("referral__person__blind_index"))
                .exclude(blind_index="")
                .exclude(referral_id=OuterRef("referral_id"))
            )
        )
        .order_by("respond_by", "pk")
    )


def routing_get_for_user(*, user: User, routing_id: int) -> Routing:
    routing = routing_list_for(user=user).filter(pk=routing_id).first()
    if routing is None:
        raise NotFound()
    return routing


def referral_case_status(referral: Referral) -> str | None:
    """What a referrer sees of the case: open or closed, never its content.
    (``referral.case`` is the relation cases adds: cases sit above referrals.)"""
    try:
        return referral.case.status
    except ObjectDoesNotExist:
        return None


def referral_receiving_association(referral: Referral) -> dict | None:
    """The association the referral is with (pending or accepted routing), from
    the prefetched routings."""
    for routing in referral.routings.all():
        if routing.outcome in (RoutingOutcome.PENDING, RoutingOutcome.ACCEPTED):
            return {"id": routing.association_id, "name": routing.association.name}
    return None


def referral_can_withdraw(*, user: User, referral: Referral) -> bool:
    """Whether ``user`` may withdraw it now: its author, while the status allows
    (referral_withdraw enforces the same)."""
    return referral.referring_user_id == user.pk and ReferralStatus.WITHDRAWN in (
        Referral.ALLOWED_TRANSITIONS.get(referral.status, set())
    )


def referral_indicator_summary(referral: Referral) -> list[indicators.DimensionSummary]:
    """The indicators ticked, counted by dimension for the person's public (for
    associations and the desk; never shown to the author)."""
    return indicators.summarise(
        referral.indicators,
        version=referral.indicator_list_version,
        minor=referral.person.presumed_minor,
    )


def referral_routings_visible_to(*, user: User, referral: Referral) -> list[Routing]:
    """The routings of a referral a viewer may see: all for the coordination
    desk, its own for an association, none for the author."""
    relation = viewer_relation(user=user, referral=referral)
    if relation == VIEWER_AUTHOR:
        return []
    routings = list(referral.routings.all())
    if relation == VIEWER_ASSOCIATION:
        agency_id = membership_of(user).agency_id
        routings = [r for r in routings if r.association_id == agency_id]
    return routings
