"""Identification: the two-stage decision on whether a person is a victim of
trafficking (docs/identification.md).

One ``Identification`` per routed referral (never for an anonymous
notification), decided by an identification unit: stage 1, preliminary
identification ("motifs raisonnables"), within a few working days; stage 2,
formal identification, not before the end of the recovery and reflection
period, on the evidence file the association assembles. Every decision is a
``Decision`` row (who, when, outcome, reasons) and the file's history; a
negative decision may be reconsidered once per stage, by a different member.
A complaint is never a condition: nothing here reads one.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase
from simple_history.models import HistoricalRecords

from common.fields import EncryptedTextField


class Stage(models.TextChoices):
    PRELIMINARY = "preliminary", _("Preliminary identification")
    FORMAL = "formal", _("Formal identification")


class Status(models.TextChoices):
    PRELIMINARY_PENDING = "preliminary_pending", _("Preliminary decision pending")
    PRESUMED = "presumed", _("Presumed victim (recovery period)")
    NOT_PRESUMED = "not_presumed", _("Not a presumed victim")
    PRELIMINARY_RECONSIDERATION = (
        "preliminary_reconsideration",
        _("Preliminary decision under reconsideration"),
    )
    FORMAL_PENDING = "formal_pending", _("Formal decision pending")
    IDENTIFIED = "identified", _("Identified victim")
    NOT_IDENTIFIED = "not_identified", _("Not identified")
    FORMAL_RECONSIDERATION = "formal_reconsideration", _("Formal decision under reconsideration")
    WITHDRAWN = "withdrawn", _("Withdrawn")


# Waiting for the unit's decision, and the stage each pending status decides.
PENDING = {
    Status.PRELIMINARY_PENDING: Stage.PRELIMINARY,
    Status.PRELIMINARY_RECONSIDERATION: Stage.PRELIMINARY,
    Status.FORMAL_PENDING: Stage.FORMAL,
    Status.FORMAL_RECONSIDERATION: Stage.FORMAL,
}
NEGATIVE = {Status.NOT_PRESUMED, Status.NOT_IDENTIFIED}
FINAL = {Status.IDENTIFIED, Status.WITHDRAWN}


class Outcome(models.TextChoices):
    POSITIVE = "positive", _("Positive")
    NEGATIVE = "negative", _("Negative")
    IDENTIFIED = "identified", _("Identified victim")
    NOT_IDENTIFIED = "not_identified", _("Not identified")
    WITHDRAWN = "withdrawn", _("Withdrawn")


# The outcomes each stage may decide.
STAGE_OUTCOMES = {
    Stage.PRELIMINARY: (Outcome.POSITIVE, Outcome.NEGATIVE),
    Stage.FORMAL: (Outcome.IDENTIFIED, Outcome.NOT_IDENTIFIED, Outcome.WITHDRAWN),
}


class NegativeReason(models.TextChoices):
    NO_ACT = "no_act", _("No act of trafficking (recruitment, transport, harbouring…)")
    NO_MEANS = "no_means", _("No means of coercion, deception or abuse (adults)")
    NO_EXPLOITATION = "no_exploitation", _("No purpose of exploitation")
    INSUFFICIENT_INDICATORS = "insufficient_indicators", _("Indicators not sufficient")
    INCONSISTENT_ACCOUNT = "inconsistent_account", _("Material facts contradicted by the file")
    OTHER = "other", _("Other (explained)")


class WithdrawalReason(models.TextChoices):
    PERSON_LEFT = "person_left", _("The person left the support")
    DECEASED = "deceased", _("The person died")
    REFUSED = "refused", _("The person refused the identification")


class EvidenceSection(models.TextChoices):
    INDICATOR_CONFIRMED = "indicator_confirmed", _("Indicator confirmed")
    INTERVIEW = "interview", _("Interview held")
    DOCUMENT_SEEN = "document_seen", _("Document seen")
    FIRST_ASSESSMENT = "first_assessment", _("The association's first assessment")


class Identification(models.Model):
    Status = Status
    Stage = Stage

    # Allowed transitions, enforced by common.transitions.transition.
    ALLOWED_TRANSITIONS: dict[str, set[str]] = {
        Status.PRELIMINARY_PENDING: {Status.PRESUMED, Status.NOT_PRESUMED, Status.WITHDRAWN},
        Status.NOT_PRESUMED: {Status.PRELIMINARY_RECONSIDERATION},
        Status.PRELIMINARY_RECONSIDERATION: {
            Status.PRESUMED,
            Status.NOT_PRESUMED,
            Status.WITHDRAWN,
        },
        Status.PRESUMED: {Status.FORMAL_PENDING, Status.WITHDRAWN},
        Status.FORMAL_PENDING: {Status.IDENTIFIED, Status.NOT_IDENTIFIED, Status.WITHDRAWN},
        Status.NOT_IDENTIFIED: {Status.FORMAL_RECONSIDERATION},
        Status.FORMAL_RECONSIDERATION: {
            Status.IDENTIFIED,
            Status.NOT_IDENTIFIED,
            Status.WITHDRAWN,
        },
        Status.IDENTIFIED: set(),
        Status.WITHDRAWN: set(),
    }

    referral = models.OneToOneField(
        "referral.Referral", on_delete=models.PROTECT, related_name="identification"
    )
    unit = models.ForeignKey(
        "agencies.Agency",
        on_delete=models.PROTECT,
        related_name="identifications",
        verbose_name=_("identification unit"),
    )
    status = models.CharField(
        _("status"), max_length=32, choices=Status.choices, default=Status.PRELIMINARY_PENDING
    )
    # Copied from the referral when opened: the queue's order and who may decide.
    minor = models.BooleanField(_("presumed minor"))
    immediate_danger = models.BooleanField(_("immediate danger"))
    opened_at = models.DateTimeField(_("opened at"))
    # The deadline of the decision being waited for (None when none is).
    decide_by = models.DateTimeField(_("decide by"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("reminder sent at"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    preliminary_decided_at = models.DateTimeField(null=True, blank=True)
    recovery_starts_on = models.DateField(_("recovery period from"), null=True, blank=True)
    recovery_ends_on = models.DateField(_("recovery period until"), null=True, blank=True)
    evidence_submitted_at = models.DateTimeField(null=True, blank=True)
    formal_decided_at = models.DateTimeField(null=True, blank=True)
    # A negative decision may be reconsidered until this date.
    reconsider_until = models.DateField(null=True, blank=True)
    # The member who took the negative decision being reconsidered: another decides.
    reconsideration_excluded = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    version = models.PositiveIntegerField(default=1)

    history = HistoricalRecords()

    class Meta:
        ordering = ["decide_by", "pk"]
        default_permissions = ()
        permissions = [
            ("view_identification", "Can read the file to decide"),
            ("decide_identification", "Can decide"),
        ]
        indexes = [models.Index(fields=["unit", "status", "decide_by"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=Status.values), name="identification_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(recovery_ends_on__isnull=True)
                | Q(recovery_ends_on__gte=models.F("recovery_starts_on")),
                name="identification_recovery_period_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.referral_id} ({self.status})"

    @property
    def stage(self) -> str:
        """The stage the file is at: being decided, or last decided."""
        if self.status in PENDING:
            return PENDING[self.status]
        if self.status in (Status.PRESUMED, Status.NOT_PRESUMED):
            return Stage.PRELIMINARY
        if self.status == Status.WITHDRAWN and self.preliminary_decided_at is None:
            return Stage.PRELIMINARY
        return Stage.FORMAL

    @property
    def pending(self) -> bool:
        return self.status in PENDING


class Decision(models.Model):
    """One decision of the unit (or a withdrawal), kept whole."""

    identification = models.ForeignKey(
        Identification, on_delete=models.CASCADE, related_name="decisions"
    )
    stage = models.CharField(_("stage"), max_length=16, choices=Stage.choices)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    reasons = models.JSONField(_("reasons"), default=list)
    explanation = EncryptedTextField(_("explanation"), blank=True, default="")
    reconsideration = models.BooleanField(_("on reconsideration"), default=False)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"))

    history = HistoricalRecords()

    class Meta:
        ordering = ["decided_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(stage__in=Stage.values), name="decision_stage_valid"
            ),
            models.CheckConstraint(
                condition=Q(outcome__in=Outcome.values), name="decision_outcome_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.identification_id}: {self.stage} {self.outcome}"


class Evidence(models.Model):
    """One entry of the evidence file the association assembles: an indicator
    confirmed, an interview held, a document seen (its kind and who holds it:
    the document itself stays outside MNR), or the first assessment."""

    identification = models.ForeignKey(
        Identification, on_delete=models.CASCADE, related_name="evidence"
    )
    section = models.CharField(_("section"), max_length=24, choices=EvidenceSection.choices)
    indicator = models.CharField(_("indicator"), max_length=80, blank=True, default="")
    on_date = models.DateField(_("date"), null=True, blank=True)
    text = EncryptedTextField(_("description"))
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    added_at = models.DateTimeField(_("added at"))

    history = HistoricalRecords()

    class Meta:
        ordering = ["section", "added_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(section__in=EvidenceSection.values), name="evidence_section_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.identification_id}: {self.section}"


class Reconsideration(models.Model):
    """A request to reconsider a negative decision, with its new elements."""

    identification = models.ForeignKey(
        Identification, on_delete=models.CASCADE, related_name="reconsiderations"
    )
    stage = models.CharField(_("stage"), max_length=16, choices=Stage.choices)
    new_elements = EncryptedTextField(_("new elements"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(_("requested at"))

    history = HistoricalRecords()

    class Meta:
        ordering = ["requested_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["identification", "stage"], name="one_reconsideration_per_stage"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.identification_id}: {self.stage}"


# django-guardian direct foreign-key permission table (docs/access.md): every
# grant on a file goes to a group (the unit, or its children group).
class IdentificationGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Identification, on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        indexes = [models.Index(fields=["content_object", "group", "permission"])]
