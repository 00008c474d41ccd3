"""Routing: which association a referral goes to, and what moves it on.

``route_next`` asks the pure routing engine (referral.routing_engine) for the
best association not tried yet, from plain rows read here (the referral's
facts, the associations' valid accreditations, their open cases), and routes
or escalates to the coordination desk; ``create_routing`` is the one place a
routing is made, by the engine or by the desk. The sweeps find overdue routings
and submissions whose routing task was lost.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from agencies.models import Accreditation, Agency, Departement, User
from agencies.system import system_user
from common.transitions import ensure_transition, save_by, transition
from notifications.models import OutboxMessage
from notifications.services import outbox_enqueue

from .. import grants, routing_engine, signals
from ..models import Referral, ReferralStatus, Routing, RoutingOutcome, Sex


def deadline(referral: Referral, now: datetime) -> datetime:
    hours = (
        settings.MNR_ROUTING_DEADLINE_DANGER_HOURS
        if referral.immediate_danger
        else settings.MNR_ROUTING_DEADLINE_HOURS
    )
    return now + timedelta(hours=hours)


def referral_facts(referral: Referral, *, today: date) -> routing_engine.ReferralFacts:
    person = referral.person
    if person.presumed_minor:
        public = routing_engine.MINORS
    elif person.sex == Sex.FEMALE:
        public = routing_engine.ADULT_WOMEN
    elif person.sex == Sex.MALE:
        public = routing_engine.ADULT_MEN
    else:
        public = routing_engine.ADULTS
    departement_code = referral.routing_departement_id
    region = (
        Departement.objects.filter(code=departement_code)
        .values_list("region_id", flat=True)
        .first()
        if departement_code
        else None
    )
    return routing_engine.ReferralFacts(
        forms=frozenset(referral.exploitation_forms),
        public=public,
        departement=departement_code,
        region=region,
        exploitation_departement=referral.exploitation_departement_id,
        needs_relocation="secure_relocation" in referral.needs,
        today=today,
    )


def association_facts(*, today: date) -> list[routing_engine.AssociationFacts]:
    """Every association with its accreditations valid today, read as plain rows
    (3 queries, no model instances: this runs on every routing decision)."""
    accreditations: dict[int, list[dict]] = {}
    valid = Accreditation.objects.filter(
        association__kind=Agency.Kind.ASSOCIATION, valid_from__lte=today, valid_until__gte=today
    )
    rows = valid.values(
        "pk",
        "association_id",
        "valid_from",
        "valid_until",
        "exploitation_forms",
        "publics",
        "national",
        "capacity",
        "secure_relocation",
    )
    by_pk = {}
    for row in rows:
        row["departements"] = set()
        by_pk[row["pk"]] = row
        accreditations.setdefault(row["association_id"], []).append(row)
    territory = Accreditation.departements.through.objects.filter(
        accreditation__in=valid.filter(national=False).values("pk")
    ).values_list("accreditation_id", "departement_id")
    for accreditation_id, code in territory:
        by_pk[accreditation_id]["departements"].add(code)
    associations = (
        Agency.objects.filter(kind=Agency.Kind.ASSOCIATION)
        .order_by("pk")
        .values_list("pk", "name", "active", "departement_id", "departement__region_id")
    )
    return [
        routing_engine.AssociationFacts(
            id=pk,
            name=name,
            active=active,
            departement=departement,
            region=region,
            accreditations=tuple(
                routing_engine.AccreditationFacts(
                    valid_from=acc["valid_from"],
                    valid_until=acc["valid_until"],
                    forms=frozenset(acc["exploitation_forms"]),
                    publics=frozenset(acc["publics"]),
                    national=acc["national"],
                    departements=frozenset(acc["departements"]),
                    capacity=acc["capacity"],
                    secure_relocation=acc["secure_relocation"],
                )
                for acc in accreditations.get(pk, ())
            ),
        )
        for pk, name, active, departement, region in associations
    ]


def open_case_counts() -> dict[int, int]:
    """Open cases per association, the load the routing engine balances. Cases
    sit above referrals: their model is read by name, never imported."""
    Case = apps.get_model("cases", "Case")
    return dict(
        Case.objects.filter(status=Case.Status.OPEN)
        .values("association")
        .annotate(n=Count("pk"))
        .values_list("association", "n")
    )


def create_routing(
    *,
    referral: Referral,
    association: Agency,
    now: datetime,
    actor: User,
    explanation: dict,
    assigned_by: User | None = None,
) -> Routing:
    routing = Routing(
        referral=referral,
        association=association,
        routed_at=now,
        respond_by=deadline(referral, now),
        explanation=explanation,
        assigned_by=assigned_by,
    )
    save_by(routing, actor=actor)
    grants.grant_routing(routing=routing)
    transition(referral, to=ReferralStatus.ROUTED, actor=actor)
    signals.referral_changed.send(sender=Referral, referral_ids=[referral.pk])
    signals.referral_routed.send(sender=Referral, referral=referral, now=now)
    outbox_enqueue(
        kind=OutboxMessage.Kind.ROUTING_NEW, reference=referral.reference, agency=association
    )
    return routing


def route_next(*, referral: Referral, actor: User, now: datetime) -> Routing | None:
    """Route to the best candidate not tried yet, or escalate when none is left.
    The referral row is locked by the caller."""
    today = timezone.localdate(now)
    tried = set(referral.routings.values_list("association_id", flat=True))
    decision = routing_engine.rank(
        referral_facts(referral, today=today),
        association_facts(today=today),
        open_cases=open_case_counts(),
        tried=tried,
    )
    if decision.chosen is None:
        transition(referral, to=ReferralStatus.ESCALATED, actor=actor, escalated_at=now)
        grants.grant_desk(referral=referral)
        signals.referral_changed.send(sender=Referral, referral_ids=[referral.pk])
        outbox_enqueue(
            kind=OutboxMessage.Kind.REFERRAL_ESCALATED,
            reference=referral.reference,
            coordination_desk=True,
        )
        return None
    ensure_transition(referral, to=ReferralStatus.ROUTED)
    association = Agency.objects.select_related("group").get(pk=decision.chosen.association_id)
    return create_routing(
        referral=referral,
        association=association,
        now=now,
        actor=actor,
        explanation=decision.explanation(),
    )


@transaction.atomic
def referral_route(*, referral_id: int, now: datetime | None = None) -> Routing | None:
    """Route a submitted referral (task, sweep). Idempotent: anything but a
    referral still `submitted` is left as it is."""
    referral = (
        Referral.objects.select_for_update(of=("self",))
        .select_related("person")
        .filter(pk=referral_id)
        .first()
    )
    if referral is None or referral.status != ReferralStatus.SUBMITTED:
        return None
    return route_next(referral=referral, actor=system_user(), now=now or timezone.now())


def overdue_routing_ids(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    now = now or timezone.now()
    return list(
        Routing.objects.filter(outcome=RoutingOutcome.PENDING, respond_by__lte=now)
        .order_by("respond_by")
        .values_list("pk", flat=True)[:limit]
    )


def stale_submitted_ids(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    now = now or timezone.now()
    return list(
        Referral.objects.filter(
            status=ReferralStatus.SUBMITTED,
            submitted_at__lte=now - settings.MNR_SWEEP_SUBMITTED_AFTER,
        )
        .order_by("submitted_at")
        .values_list("pk", flat=True)[:limit]
    )
