"""What moves files without a person deciding: the author's withdrawal of the
referral, and the hourly deadlines (reminders, escalation, the end of a
reconsideration period, files a missing unit left unopened)."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from agencies.models import Agency, User
from agencies.system import system_user
from common.transitions import save_by, transition
from common.workdays import working_days_between
from notifications.models import OutboxMessage
from notifications.services import outbox_enqueue
from referral.models import Referral, ReferralStatus

from .. import grants
from ..models import (
    FINAL,
    NEGATIVE,
    PENDING,
    Identification,
    Status,
)
from .opening import changed, identification_open, lock


@transaction.atomic
def identification_withdraw_for_referral(*, referral: Referral, actor: User, now: datetime) -> None:
    """The author withdrew the referral: a file still waiting is withdrawn."""
    identification = (
        Identification.objects.select_for_update(of=("self",))
        .filter(referral=referral)
        .exclude(status__in=list(FINAL))
        .first()
    )
    if identification is None or Status.WITHDRAWN not in identification.ALLOWED_TRANSITIONS.get(
        identification.status, set()
    ):
        return
    transition(identification, to=Status.WITHDRAWN, actor=actor, decide_by=None)
    grants.end_unit(identification=identification)
    changed(identification)


def deadlines(*, now: datetime | None = None) -> dict[str, int]:
    """Hourly: remind the unit before a deadline, tell the coordination desk when
    one is missed, end the unit's grants when a reconsideration period passes,
    and open the files a missing unit left unopened. Idempotent."""
    now = now or timezone.now()
    done = {"reminded": 0, "escalated": 0, "closed": 0, "opened": 0}
    pending = Identification.objects.filter(status__in=list(PENDING))
    for identification in pending.filter(reminded_at__isnull=True, decide_by__isnull=False):
        left = working_days_between(
            timezone.localdate(now), timezone.localdate(identification.decide_by)
        )
        if now >= identification.decide_by or left > settings.MNR_IDENTIFICATION_REMINDER_DAYS:
            continue
        with transaction.atomic():
            locked = lock(identification.pk)
            if locked.reminded_at is not None or locked.status not in PENDING:
                continue
            outbox_enqueue(
                kind=OutboxMessage.Kind.IDENTIFICATION_DUE,
                reference=locked.referral.reference,
                agency=locked.unit,
            )
            locked.reminded_at = now
            save_by(locked, actor=system_user(), update_fields=["reminded_at"])
            done["reminded"] += 1
    for pk in pending.filter(escalated_at__isnull=True, decide_by__lt=now).values_list(
        "pk", flat=True
    ):
        with transaction.atomic():
            locked = lock(pk)
            if locked.escalated_at is not None or locked.status not in PENDING:
                continue
            outbox_enqueue(
                kind=OutboxMessage.Kind.IDENTIFICATION_OVERDUE,
                reference=locked.referral.reference,
                coordination_desk=True,
            )
            locked.escalated_at = now
            save_by(locked, actor=system_user(), update_fields=["escalated_at"])
            done["escalated"] += 1
    today = timezone.localdate(now)
    for pk in Identification.objects.filter(
        status__in=list(NEGATIVE), reconsider_until__lt=today
    ).values_list("pk", flat=True):
        with transaction.atomic():
            locked = lock(pk)
            if locked.reconsider_until is None or locked.reconsider_until >= today:
                continue
            locked.reconsider_until = None
            save_by(locked, actor=system_user(), update_fields=["reconsider_until"])
            grants.end_unit(identification=locked)
            changed(locked)
            done["closed"] += 1
    unopened = (
        Referral.objects.filter(routings__isnull=False, identification__isnull=True)
        .exclude(status__in=(ReferralStatus.NOTIFIED, ReferralStatus.WITHDRAWN))
        .select_related("person")
        .distinct()
    )
    if Agency.objects.filter(kind=Agency.Kind.IDENTIFICATION_UNIT, active=True).exists():
        for referral in unopened[:500]:
            if identification_open(referral=referral, now=now) is not None:
                done["opened"] += 1
    return done
