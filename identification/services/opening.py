"""Opening a file: which unit decides a routed referral, its first deadline,
and the helpers every write of identification shares (the row lock, the
event the statistics follow)."""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.db import transaction

from agencies.models import Agency
from agencies.system import system_user
from common.transitions import save_by
from common.workdays import add_working_days
from notifications.models import OutboxMessage
from notifications.services import outbox_enqueue
from referral.models import Referral, ReferralStatus

from .. import grants, signals
from ..models import (
    Identification,
)

logger = logging.getLogger(__name__)


def changed(identification: Identification) -> None:
    signals.identification_changed.send(
        sender=Identification, referral_ids=[identification.referral_id]
    )


def lock(identification_id: int) -> Identification:
    return (
        Identification.objects.select_for_update(of=("self",))
        .select_related("referral", "unit")
        .get(pk=identification_id)
    )


def unit_for(referral: Referral) -> Agency | None:
    """The unit that decides this referral: the active unit of the region of its
    territory (MNR_IDENTIFICATION_REGIONAL), else the active national unit
    (one without a département)."""
    units = Agency.objects.filter(kind=Agency.Kind.IDENTIFICATION_UNIT, active=True).order_by("pk")
    code = referral.routing_departement_id
    if settings.MNR_IDENTIFICATION_REGIONAL and code:
        regional = (
            units.filter(departement__region__departements__code=code)
            .select_related("group")
            .first()
        )
        if regional is not None:
            return regional
    return units.filter(departement__isnull=True).select_related("group").first()


def preliminary_deadline(*, minor: bool, danger: bool, now: datetime) -> datetime:
    days = settings.MNR_IDENTIFICATION_DAYS
    if minor:
        days = min(days, settings.MNR_IDENTIFICATION_DAYS_MINOR)
    if danger:
        days = min(days, settings.MNR_IDENTIFICATION_DAYS_DANGER)
    return add_working_days(now, days)


@transaction.atomic
def identification_open(*, referral: Referral, now: datetime) -> Identification | None:
    """Open the file of a routed referral, once (never for an anonymous
    notification). When no unit can decide it, the hourly sweep opens it once
    one exists (and the coordination desk is told if other units exist)."""
    if referral.status == ReferralStatus.NOTIFIED:
        return None
    existing = Identification.objects.filter(referral=referral).first()
    if existing is not None:
        return existing
    unit = unit_for(referral)
    if unit is None:
        # With no unit at all (identification not set up yet) the sweep opens
        # the files once one exists; with units but none for this territory
        # (no national unit), the coordination desk is told.
        logger.warning("No identification unit for referral %s", referral.reference)
        if Agency.objects.filter(kind=Agency.Kind.IDENTIFICATION_UNIT, active=True).exists():
            outbox_enqueue(
                kind=OutboxMessage.Kind.IDENTIFICATION_NO_UNIT,
                reference=referral.reference,
                coordination_desk=True,
            )
        return None
    minor = referral.person.presumed_minor
    identification = Identification(
        referral=referral,
        unit=unit,
        minor=minor,
        immediate_danger=referral.immediate_danger,
        opened_at=now,
        decide_by=preliminary_deadline(minor=minor, danger=referral.immediate_danger, now=now),
    )
    save_by(identification, actor=system_user())
    grants.grant_unit(identification=identification)
    changed(identification)
    return identification
