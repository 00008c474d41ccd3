"""Notifications through the transactional outbox: written with the change,
delivered after commit, retried with backoff when mail fails, never lost."""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from notifications.models import OutboxMessage
from notifications.services import outbox_relay
from notifications.tasks import outbox_relay as outbox_relay_task
from referral.models import Referral
from tests.referral.conftest import ADULT_BODY

pytestmark = pytest.mark.django_db


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_routing_notification_written_with_the_routing_and_sent(api, world):
    api.submitted(world.referrer, ADULT_BODY)
    message = OutboxMessage.objects.get(kind="routing_new")
    assert message.recipient_agency == world.paris
    assert message.sent_at is not None and message.recipients_count == 1  # manager has no e-mail
    sent = [m for m in mail.outbox if "paris@example.org" in m.to]
    assert len(sent) == 1
    reference = Referral.objects.get().reference
    assert reference in sent[0].subject and f"/api/v1/referrals/{reference}/" in sent[0].body
    for secret in ("Blessing", "Okafor", "1999", "+33", "Rencontrée"):
        assert secret not in sent[0].body and secret not in sent[0].subject
    # One message per address: recipients never see each other.
    assert all(len(m.to) == 1 for m in mail.outbox)


def test_mail_failure_is_retried_with_backoff_then_delivered(api, world, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = closed_port()
    settings.EMAIL_TIMEOUT = 2
    api.submitted(world.referrer, ADULT_BODY)
    message = OutboxMessage.objects.get(kind="routing_new")
    assert message.sent_at is None
    assert message.attempts == 1 and message.last_error
    assert message.next_attempt_at > timezone.now()
    assert outbox_relay() == 0  # not due yet
    assert outbox_relay(now=message.next_attempt_at + timedelta(seconds=1)) == 0  # still failing
    message.refresh_from_db()
    assert message.attempts == 2

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    OutboxMessage.objects.update(next_attempt_at=timezone.now())
    assert outbox_relay_task() == 1
    message.refresh_from_db()
    assert message.sent_at is not None
    assert any("paris@example.org" in m.to for m in mail.outbox)
    assert outbox_relay_task() == 0  # delivered once


def test_outbox_row_rolls_back_with_a_failed_submission(api, world):
    bad = dict(ADULT_BODY, exploitation_departement="00")
    assert api.submit(world.referrer, bad).status_code == 400
    assert not OutboxMessage.objects.exists()
