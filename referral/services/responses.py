"""The answers that move a referral on: the routed association accepts or
declines, a deadline expires, the author withdraws, the coordination desk
assigns an escalated referral.

Each locks the rows it changes, is allowed by a per-object grant
(referral.grants) and moves through the declared transitions
(common.transitions.transition). Acceptance opens the case through
``signals.routing_accepted``, in the same transaction: cases sit above
referrals and are never imported here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.models import User
from agencies.selectors import active_associations
from agencies.system import system_user
from common.errors import InvalidTransition, NotAllowed, NotFound, ValidationFailed
from common.transitions import ensure_transition, transition
from notifications.models import OutboxMessage
from notifications.services import outbox_enqueue

from .. import grants, signals
from ..models import Referral, ReferralStatus, Routing, RoutingOutcome
from .routing import create_routing, route_next


def _lock_routing(routing_id: int) -> tuple[Routing, Referral]:
    routing = (
        Routing.objects.select_for_update(of=("self",))
        .select_related("association__group")
        .filter(pk=routing_id)
        .first()
    )
    if routing is None:
        raise NotFound(_("Not found."))
    referral = (
        Referral.objects.select_for_update(of=("self",))
        .select_related("person")
        .get(pk=routing.referral_id)
    )
    routing.referral = referral
    return routing, referral


def _ensure_responder(actor: User, routing: Routing) -> None:
    """The routed association answers through its own grant on the referral."""
    if not grants.holds_through(
        actor, grants.RESPOND, routing.referral_id, routing.association.group_id
    ):
        raise NotAllowed(_("Only the association this referral was routed to can answer."))


@transaction.atomic
def routing_accept(*, routing_id: int, actor: User, now: datetime | None = None) -> Any:
    """Accept a pending routing: the referral is accepted and its case opened
    (by cases, on ``signals.routing_accepted``, in this transaction); returns the
    case. Row locks plus the one-case-per-referral constraint make two
    simultaneous acceptances yield one case and one 409."""
    now = now or timezone.now()
    routing, referral = _lock_routing(routing_id)
    ensure_transition(routing, to=RoutingOutcome.ACCEPTED, field_name="outcome")
    _ensure_responder(actor, routing)
    ensure_transition(referral, to=ReferralStatus.ACCEPTED)
    transition(
        routing,
        to=RoutingOutcome.ACCEPTED,
        actor=actor,
        field_name="outcome",
        responded_by=actor,
        responded_at=now,
    )
    grants.end_routing(routing=routing, accepted=True)
    if referral.escalated_at is not None:
        grants.end_desk(referral=referral)
    transition(referral, to=ReferralStatus.ACCEPTED, actor=actor, accepted_at=now)
    signals.routing_accepted.send(
        sender=Routing, routing=routing, referral=referral, actor=actor, now=now
    )
    case = referral.case  # opened by the receiver, in this transaction
    signals.referral_changed.send(sender=Referral, referral_ids=[referral.pk])
    outbox_enqueue(
        kind=OutboxMessage.Kind.REFERRAL_ACCEPTED,
        reference=referral.reference,
        user=referral.referring_user,
    )
    return case


@transaction.atomic
def routing_decline(
    *, routing_id: int, actor: User, reason: str, now: datetime | None = None
) -> Routing:
    """Decline with a reason; the referral goes to the next candidate (or escalates)."""
    now = now or timezone.now()
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(
            _("A reason is needed."), fields={"reason": [_("Say why you decline.")]}
        )
    routing, referral = _lock_routing(routing_id)
    ensure_transition(routing, to=RoutingOutcome.DECLINED, field_name="outcome")
    _ensure_responder(actor, routing)
    transition(
        routing,
        to=RoutingOutcome.DECLINED,
        actor=actor,
        field_name="outcome",
        reason=reason,
        responded_by=actor,
        responded_at=now,
    )
    grants.end_routing(routing=routing, accepted=False)
    route_next(referral=referral, actor=actor, now=now)
    return routing


@transaction.atomic
def routing_expire(*, routing_id: int, now: datetime | None = None) -> bool:
    """Expire a pending routing past its deadline and route to the next candidate.
    Idempotent: False when it is no longer pending or not overdue."""
    now = now or timezone.now()
    routing, referral = _lock_routing(routing_id)
    if routing.outcome != RoutingOutcome.PENDING or routing.respond_by > now:
        return False
    actor = system_user()
    transition(
        routing, to=RoutingOutcome.EXPIRED, actor=actor, field_name="outcome", responded_at=now
    )
    grants.end_routing(routing=routing, accepted=False)
    route_next(referral=referral, actor=actor, now=now)
    return True


@transaction.atomic
def referral_withdraw(
    *, referral_id: int, actor: User, reason: str = "", now: datetime | None = None
) -> Referral:
    """The author withdraws their referral before acceptance; a pending routing is
    cancelled and the association loses access."""
    now = now or timezone.now()
    referral = Referral.objects.select_for_update().get(pk=referral_id)
    if not grants.holds(actor, grants.WITHDRAW, referral.pk):
        raise NotAllowed(_("Only the author can withdraw a referral."))
    ensure_transition(referral, to=ReferralStatus.WITHDRAWN)
    for routing in (
        Routing.objects.select_for_update(of=("self",))
        .select_related("association__group")
        .filter(referral=referral, outcome=RoutingOutcome.PENDING)
    ):
        transition(
            routing,
            to=RoutingOutcome.CANCELLED,
            actor=actor,
            field_name="outcome",
            responded_at=now,
        )
        routing.referral = referral
        grants.end_routing(routing=routing, accepted=False)
    transition(
        referral,
        to=ReferralStatus.WITHDRAWN,
        actor=actor,
        withdrawn_at=now,
        withdrawal_reason=(reason or "").strip()[:500],
    )
    if referral.escalated_at is not None:
        grants.end_desk(referral=referral)
    signals.referral_changed.send(sender=Referral, referral_ids=[referral.pk])
    signals.referral_withdrawn.send(sender=Referral, referral=referral, actor=actor, now=now)
    return referral


@transaction.atomic
def referral_assign(
    *, referral_id: int, actor: User, association_id: int, now: datetime | None = None
) -> Routing:
    """The coordination desk routes an escalated referral to an association of its
    choice (active; accredited or not, the desk decides)."""
    now = now or timezone.now()
    if not grants.holds(actor, grants.ASSIGN, referral_id):
        raise NotAllowed(_("Only the coordination desk assigns escalated referrals."))
    referral = (
        Referral.objects.select_for_update(of=("self",))
        .select_related("person")
        .get(pk=referral_id)
    )
    association = active_associations().select_related("group").filter(pk=association_id).first()
    if association is None:
        raise ValidationFailed(
            _("Invalid assignment."),
            fields={"association": [_("Choose an active accredited association.")]},
        )
    if referral.status != ReferralStatus.ESCALATED:
        raise InvalidTransition(_("Only an escalated referral can be assigned."))
    return create_routing(
        referral=referral,
        association=association,
        now=now,
        actor=actor,
        explanation={"engine": "coordination-desk", "assigned_by": actor.get_username()},
        assigned_by=actor,
    )
