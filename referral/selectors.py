"""Reads with rules on referrals and routings (DESIGN §5).

Visibility comes from the django-guardian grant tables, filtered with one
``Exists`` each, plus one role rule: the coordination desk sees referrals that
were escalated to it. A referral or routing the user may not see is "not found",
whether it exists or not.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from agencies.models import Membership, User
from audit.models import AccessAction
from audit.services import access_log_write
from cases.models import Case
from common.errors import NotFound

from . import indicators
from .models import (
    PresumedVictim,
    Referral,
    ReferralGroupObjectPermission,
    ReferralStatus,
    ReferralUserObjectPermission,
    Routing,
    RoutingOutcome,
)

RESPONDER_ROLES = (Membership.Role.CASEWORKER, Membership.Role.MANAGER)

VIEWER_AUTHOR = "author"
VIEWER_ASSOCIATION = "association"
VIEWER_COORDINATION = "coordination"


def _role(user: User) -> str | None:
    membership = getattr(user, "membership", None) if user.is_authenticated else None
    return membership.role if membership else None


def _visible_q(user: User) -> Q:
    user_grant = ReferralUserObjectPermission.objects.filter(
        content_object=OuterRef("pk"), user=user, permission__codename="view_referral"
    )
    group_grant = ReferralGroupObjectPermission.objects.filter(
        content_object=OuterRef("pk"), group__user=user, permission__codename="view_referral"
    )
    q = Q(Exists(user_grant)) | Q(Exists(group_grant))
    if _role(user) == Membership.Role.COORDINATOR:
        q |= Q(escalated_at__isnull=False)
    return q


def possible_duplicate_annotation() -> Exists:
    """True when another referral names the same person (same blind index)."""
    return Exists(
        PresumedVictim.objects.filter(blind_index=OuterRef("person__blind_index"))
        .exclude(blind_index="")
        .exclude(referral_id=OuterRef("pk"))
    )


def referral_list_visible_to(*, user: User) -> QuerySet[Referral]:
    if not user.is_authenticated or _role(user) is None:
        return Referral.objects.none()
    return (
        Referral.objects.filter(_visible_q(user))
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


def referral_get_for_user(*, user: User, reference: str, log: bool = True) -> Referral:
    """The referral if the user may see it, else NotFound (missing or not theirs).
    With ``log``, the read is written to the access log; a refusal of a referral
    that exists always is."""
    referral = referral_list_visible_to(user=user).filter(reference=reference).first()
    if referral is None:
        if Referral.objects.filter(reference=reference).exists():
            access_log_write(
                action=AccessAction.REFUSAL, actor=user, target_type="referral", target_id=reference
            )
        raise NotFound()
    if log:
        access_log_write(
            action=AccessAction.REFERRAL_VIEW,
            actor=user,
            target_type="referral",
            target_id=reference,
        )
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
    """Routings of the user's association (caseworkers and managers)."""
    membership = getattr(user, "membership", None) if user.is_authenticated else None
    if membership is None or membership.role not in RESPONDER_ROLES:
        return Routing.objects.none()
    return (
        Routing.objects.filter(association_id=membership.agency_id)
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
    """What a referrer sees of the case: open or closed, never its content."""
    try:
        return referral.case.status
    except Case.DoesNotExist:
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
        routings = [r for r in routings if r.association_id == user.membership.agency_id]
    return routings
