from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class OutboxMessage(models.Model):
    """A notification that must not be lost: written in the same transaction as the
    change it announces, delivered (and retried) by a task. It holds a reference
    and a recipient, never personal data of the person referred."""

    class Kind(models.TextChoices):
        ROUTING_NEW = "routing_new", _("A referral awaits the association's answer")
        REFERRAL_ESCALATED = "referral_escalated", _("A referral awaits the coordination desk")
        CRIP_MINOR = "crip_minor", _("A minor was referred (child-protection unit)")
        CRIP_MISSING = "crip_missing", _("No child-protection unit registered for a minor")
        REFERRAL_ACCEPTED = "referral_accepted", _("The referral was accepted")
        TRANSFER_REQUESTED = "transfer_requested", _("A case transfer awaits your answer")
        TRANSFER_ACCEPTED = "transfer_accepted", _("A case transfer was accepted")
        TRANSFER_REJECTED = "transfer_rejected", _("A case transfer was rejected")
        STEPS_OVERDUE = "steps_overdue", _("Protection steps are overdue")
        IDENTIFICATION_DUE = "identification_due", _("An identification decision is due soon")
        IDENTIFICATION_OVERDUE = (
            "identification_overdue",
            _("An identification decision is overdue"),
        )
        IDENTIFICATION_DECIDED = "identification_decided", _("An identification was decided")
        IDENTIFICATION_NO_UNIT = (
            "identification_no_unit",
            _("No identification unit can decide a referral"),
        )

    kind = models.CharField(max_length=32, choices=Kind.choices)
    reference = models.CharField(max_length=32)
    recipient_agency = models.ForeignKey(
        "agencies.Agency", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recipient_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Whole coordination desk (every user with the coordinator role).
    recipient_coordination_desk = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    recipients_count = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(sent_at__isnull=True),
                name="outbox_due_idx",
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(recipient_agency__isnull=False)
                    | models.Q(recipient_user__isnull=False)
                    | models.Q(recipient_coordination_desk=True)
                ),
                name="outbox_has_a_recipient",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.reference}"
