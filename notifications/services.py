"""Write notifications into the outbox (inside the caller's transaction) and
deliver them. E-mails carry a reference and a link, never personal data."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from agencies.models import Agency, Membership, User
from common.tasks import enqueue

from .models import OutboxMessage

logger = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=1)
CASE_KINDS = {
    OutboxMessage.Kind.TRANSFER_REQUESTED,
    OutboxMessage.Kind.TRANSFER_ACCEPTED,
    OutboxMessage.Kind.TRANSFER_REJECTED,
    OutboxMessage.Kind.STEPS_OVERDUE,
}
IDENTIFICATION_KINDS = {
    OutboxMessage.Kind.IDENTIFICATION_DUE,
    OutboxMessage.Kind.IDENTIFICATION_OVERDUE,
    OutboxMessage.Kind.IDENTIFICATION_DECIDED,
}


def outbox_enqueue(
    *,
    kind: str,
    reference: str,
    agency: Agency | None = None,
    user: User | None = None,
    coordination_desk: bool = False,
) -> OutboxMessage:
    """Write the message in the current transaction; try delivery after commit.
    If the broker is down, the periodic relay delivers it later."""
    message = OutboxMessage.objects.create(
        kind=kind,
        reference=reference,
        recipient_agency=agency,
        recipient_user=user,
        recipient_coordination_desk=coordination_desk,
    )
    from .tasks import outbox_deliver

    transaction.on_commit(partial(enqueue, outbox_deliver, message.pk))
    return message


def _recipients(message: OutboxMessage) -> list[str]:
    emails: set[str] = set()
    if message.recipient_agency_id:
        agency = message.recipient_agency
        if agency.contact_email:
            emails.add(agency.contact_email)
        emails.update(
            User.objects.filter(membership__agency=agency, is_active=True)
            .exclude(email="")
            .values_list("email", flat=True)
        )
    if message.recipient_user_id and message.recipient_user.is_active:
        emails.add(message.recipient_user.email)
    if message.recipient_coordination_desk:
        emails.update(
            User.objects.filter(membership__role=Membership.Role.COORDINATOR, is_active=True)
            .exclude(email="")
            .values_list("email", flat=True)
        )
    emails.discard("")
    return sorted(emails)


def _subject_and_body(message: OutboxMessage) -> tuple[str, str]:
    path = (
        "cases"
        if message.kind in CASE_KINDS
        else "identifications"
        if message.kind in IDENTIFICATION_KINDS
        else "referrals"
    )
    link = f"{settings.MNR_PUBLIC_URL}/api/v1/{path}/{message.reference}/"
    subjects = {
        OutboxMessage.Kind.ROUTING_NEW: _("MNR – referral %(ref)s awaits your answer"),
        OutboxMessage.Kind.REFERRAL_ESCALATED: _(
            "MNR – referral %(ref)s needs the coordination desk"
        ),
        OutboxMessage.Kind.CRIP_MINOR: _("MNR – a minor was referred: %(ref)s"),
        OutboxMessage.Kind.CRIP_MISSING: _(
            "MNR – no child-protection unit registered for referral %(ref)s"
        ),
        OutboxMessage.Kind.REFERRAL_ACCEPTED: _("MNR – referral %(ref)s was accepted"),
        OutboxMessage.Kind.TRANSFER_REQUESTED: _(
            "MNR – case %(ref)s: a transfer awaits your answer"
        ),
        OutboxMessage.Kind.TRANSFER_ACCEPTED: _("MNR – case %(ref)s: your transfer was accepted"),
        OutboxMessage.Kind.TRANSFER_REJECTED: _("MNR – case %(ref)s: your transfer was rejected"),
        OutboxMessage.Kind.STEPS_OVERDUE: _("MNR – case %(ref)s: protection steps are overdue"),
        OutboxMessage.Kind.IDENTIFICATION_DUE: _(
            "MNR – file %(ref)s: the identification decision is due soon"
        ),
        OutboxMessage.Kind.IDENTIFICATION_OVERDUE: _(
            "MNR – file %(ref)s: the identification decision is overdue"
        ),
        OutboxMessage.Kind.IDENTIFICATION_DECIDED: _("MNR – file %(ref)s: identification decided"),
        OutboxMessage.Kind.IDENTIFICATION_NO_UNIT: _(
            "MNR – referral %(ref)s: no identification unit can decide it"
        ),
    }
    subject = subjects[message.kind] % {"ref": message.reference}
    body = _(
        "%(subject)s\n\nSign in to MNR to see it: %(link)s\n\n"
        "This message contains no personal data on purpose."
    ) % {"subject": subject, "link": link}
    return subject, body


def outbox_deliver_one(*, message_id: int, now: datetime | None = None) -> bool:
    """Deliver one message if it is due and not being delivered elsewhere.
    Returns True when it was sent now. Idempotent: a sent message is skipped."""
    now = now or timezone.now()
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("recipient_agency", "recipient_user")
            .filter(pk=message_id, sent_at__isnull=True)
            .first()
        )
        if message is None:
            return False
        recipients = _recipients(message)
        try:
            with translation.override(settings.LANGUAGE_CODE):
                subject, body = _subject_and_body(message)
            connection = get_connection(fail_silently=False)
            connection.send_messages(
                [
                    EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [address])
                    for address in recipients
                ]
            )
        except Exception as exc:  # any mail failure: retry later with backoff
            message.attempts += 1
            backoff = min(timedelta(seconds=30 * 2**message.attempts), MAX_BACKOFF)
            message.next_attempt_at = now + backoff
            message.last_error = type(exc).__name__[:200]
            message.save(update_fields=["attempts", "next_attempt_at", "last_error"])
            logger.warning("Outbox message %s not delivered: %s", message.pk, type(exc).__name__)
            return False
        message.attempts += 1
        message.sent_at = now
        message.recipients_count = len(recipients)
        message.save(update_fields=["attempts", "sent_at", "recipients_count"])
        return True


def outbox_relay(*, now: datetime | None = None, limit: int = 200) -> int:
    """Deliver every due message; returns how many were sent."""
    now = now or timezone.now()
    due = list(
        OutboxMessage.objects.filter(sent_at__isnull=True, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(outbox_deliver_one(message_id=pk, now=now) for pk in due)
