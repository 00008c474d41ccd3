"""Referrals (identification reports), presumed victims and routings.

Identity fields (names, date of birth, phone, narrative) are encrypted at rest
(common.fields.EncryptedTextField); the blind index finds possible duplicates.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase
from simple_history.models import HistoricalRecords

from common.choices import ExploitationForm
from common.fields import EncryptedTextField


class ReferralStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    ROUTED = "routed", _("Routed to an association")
    ACCEPTED = "accepted", _("Accepted")
    ESCALATED = "escalated", _("With the coordination desk")
    NOTIFIED = "notified", _("Anonymous notification")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Need(models.TextChoices):
    SHELTER = "shelter", _("Shelter")
    MEDICAL = "medical", _("Medical care")
    PSYCHOLOGICAL = "psychological", _("Psychological support")
    LEGAL = "legal", _("Legal information")
    INTERPRETER = "interpreter", _("Interpreter")
    SECURE_RELOCATION = "secure_relocation", _("Secure relocation")
    CHILD_PROTECTION = "child_protection", _("Child protection")
    RESIDENCE = "residence", _("Administrative and residence rights")
    FINANCIAL = "financial", _("Financial help")


class Sex(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    OTHER = "other", _("Other")
    UNKNOWN = "unknown", _("Unknown")


class ReferenceCounter(models.Model):
    """Last reference number given in a year; locked row per submission."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class Referral(models.Model):
    Status = ReferralStatus

    # Allowed transitions, enforced by common.transitions.transition.
    ALLOWED_TRANSITIONS: dict[str, set[str]] = {
        ReferralStatus.SUBMITTED: {
            ReferralStatus.ROUTED,
            ReferralStatus.ESCALATED,
            ReferralStatus.WITHDRAWN,
        },
        ReferralStatus.ROUTED: {
            ReferralStatus.ROUTED,
            ReferralStatus.ACCEPTED,
            ReferralStatus.ESCALATED,
            ReferralStatus.WITHDRAWN,
        },
        ReferralStatus.ESCALATED: {ReferralStatus.ROUTED, ReferralStatus.WITHDRAWN},
        ReferralStatus.ACCEPTED: set(),
        ReferralStatus.NOTIFIED: set(),
        ReferralStatus.WITHDRAWN: set(),
    }

    reference = models.CharField(_("reference"), max_length=16, unique=True)
    referring_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="referrals",
        verbose_name=_("referrer"),
    )
    referring_agency = models.ForeignKey(
        "agencies.Agency",
        on_delete=models.PROTECT,
        related_name="referrals_made",
        verbose_name=_("referring agency"),
    )
    submitted_at = models.DateTimeField(_("submitted at"), db_index=True)
    immediate_danger = models.BooleanField(_("immediate danger"), default=False)
    status = models.CharField(
        _("status"), max_length=16, choices=ReferralStatus.choices, db_index=True
    )
    exploitation_forms = models.JSONField(_("forms of exploitation"), default=list)
    exploitation_other_detail = EncryptedTextField(
        _("other form, in short"), max_length=200, blank=True, default=""
    )
    exploitation_departement = models.ForeignKey(
        "agencies.Departement",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("département of exploitation"),
    )
    exploitation_country = models.CharField(
        _("country of exploitation (abroad)"), max_length=2, blank=True, default=""
    )
    indicators = models.JSONField(_("indicators observed"), default=list, blank=True)
    indicator_list_version = models.CharField(max_length=40)
    narrative = EncryptedTextField(_("narrative"), blank=True, default="")
    needs = models.JSONField(_("needs"), default=list, blank=True)
    consent_to_referral = models.BooleanField(_("consent to referral"), default=False)
    idempotency_key = models.CharField(max_length=100, blank=True, default="")
    idempotency_fingerprint = models.CharField(max_length=64, blank=True, default="")
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    withdrawal_reason = EncryptedTextField(
        _("reason for withdrawal"), max_length=500, blank=True, default=""
    )
    crip_agency = models.ForeignKey(
        "agencies.Agency",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("child-protection unit notified"),
    )
    crip_notified_at = models.DateTimeField(_("CRIP notified at"), null=True, blank=True)
    # Set when retention erased the identity of a referral that never became a
    # case (records/retention.py); cases carry their own.
    pseudonymised_at = models.DateTimeField(_("pseudonymised at"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-submitted_at", "-pk"]
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        permissions = [
            ("respond_referral", "Can accept or decline the referral's routing"),
            ("withdraw_referral", "Can withdraw the referral (its author)"),
            ("assign_referral", "Can assign the escalated referral (the coordination desk)"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ReferralStatus.values), name="referral_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(exploitation_departement__isnull=True) | Q(exploitation_country=""),
                name="referral_exploited_in_one_place",
            ),
            models.UniqueConstraint(
                fields=["referring_user", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="referral_idempotency_key_unique_per_user",
            ),
            models.CheckConstraint(
                condition=~Q(status="notified") | Q(narrative=""),
                name="referral_anonymous_notification_has_no_narrative",
            ),
        ]
        indexes = [models.Index(fields=["status", "submitted_at"])]

    def __str__(self) -> str:
        return self.reference

    @property
    def routing_departement_id(self) -> str | None:
        """Where the person is to be protected: where they are now, else where they
        were exploited (routing, the desk's list, the associations' inbox)."""
        return self.person.current_departement_id or self.exploitation_departement_id


class ReferralForm(models.Model):
    """One row per form of exploitation of a referral: the relational copy of
    Referral.exploitation_forms that statistics group by (written by the
    submission service, never changed)."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="forms")
    form = models.CharField(max_length=32, choices=ExploitationForm.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["referral", "form"], name="referral_form_unique")
        ]
        indexes = [models.Index(fields=["form", "referral"])]

    def __str__(self) -> str:
        return f"{self.referral_id}: {self.form}"


class PresumedVictim(models.Model):
    """The person referred. Identity fields are encrypted; ``age_years`` (age at
    referral, from the date of birth or the estimate) serves statistics."""

    referral = models.OneToOneField(Referral, on_delete=models.CASCADE, related_name="person")
    given_name = EncryptedTextField(_("given name or alias"), blank=True, default="")
    family_name = EncryptedTextField(_("family name"), blank=True, default="")
    date_of_birth = EncryptedTextField(_("date of birth"), blank=True, default="")
    estimated_age = models.PositiveSmallIntegerField(_("estimated age"), null=True, blank=True)
    declared_minor = models.BooleanField(_("says they are a minor"), default=False)
    presumed_minor = models.BooleanField(_("presumed minor"), default=False)
    age_years = models.PositiveSmallIntegerField(_("age at referral"), null=True, blank=True)
    sex = models.CharField(_("sex"), max_length=8, choices=Sex.choices, default=Sex.UNKNOWN)
    nationality = models.CharField(_("nationality"), max_length=2, blank=True, default="")
    languages = models.JSONField(_("languages"), default=list, blank=True)
    phone = EncryptedTextField(_("phone"), blank=True, default="")
    current_departement = models.ForeignKey(
        "agencies.Departement",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("current département"),
    )
    blind_index = models.CharField(max_length=64, blank=True, default="", db_index=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("presumed victim")
        verbose_name_plural = _("presumed victims")
        constraints = [
            models.CheckConstraint(condition=Q(sex__in=Sex.values), name="person_sex_valid"),
            models.CheckConstraint(
                condition=Q(estimated_age__isnull=True) | Q(estimated_age__lte=120),
                name="person_estimated_age_plausible",
            ),
        ]

    def __str__(self) -> str:
        return f"person of {self.referral_id}"


class RoutingOutcome(models.TextChoices):
    PENDING = "pending", _("Pending")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    EXPIRED = "expired", _("Expired")
    CANCELLED = "cancelled", _("Cancelled")


class Routing(models.Model):
    """One attempt to place a referral with one association."""

    Outcome = RoutingOutcome

    ALLOWED_TRANSITIONS: dict[str, set[str]] = {
        RoutingOutcome.PENDING: {
            RoutingOutcome.ACCEPTED,
            RoutingOutcome.DECLINED,
            RoutingOutcome.EXPIRED,
            RoutingOutcome.CANCELLED,
        },
        RoutingOutcome.ACCEPTED: set(),
        RoutingOutcome.DECLINED: set(),
        RoutingOutcome.EXPIRED: set(),
        RoutingOutcome.CANCELLED: set(),
    }

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="routings")
    association = models.ForeignKey(
        "agencies.Agency",
        on_delete=models.PROTECT,
        related_name="routings",
        verbose_name=_("association"),
    )
    routed_at = models.DateTimeField(_("routed at"))
    respond_by = models.DateTimeField(_("respond by"))
    outcome = models.CharField(
        _("outcome"), max_length=12, choices=RoutingOutcome.choices, default="pending"
    )
    reason = EncryptedTextField(_("reason"), blank=True, default="")
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    responded_at = models.DateTimeField(_("responded at"), null=True, blank=True)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("assigned by (coordination desk)"),
    )
    explanation = models.JSONField(_("routing explanation"), default=dict)

    history = HistoricalRecords()

    class Meta:
        ordering = ["routed_at", "pk"]
        verbose_name = _("routing")
        verbose_name_plural = _("routings")
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome__in=RoutingOutcome.values), name="routing_outcome_valid"
            ),
            models.UniqueConstraint(
                fields=["referral"],
                condition=Q(outcome="pending"),
                name="routing_one_pending_per_referral",
            ),
            models.UniqueConstraint(
                fields=["referral"],
                condition=Q(outcome="accepted"),
                name="routing_one_accepted_per_referral",
            ),
            models.CheckConstraint(
                condition=Q(respond_by__gte=models.F("routed_at")),
                name="routing_deadline_after_routing",
            ),
        ]
        indexes = [
            models.Index(fields=["association", "outcome", "respond_by"]),
            models.Index(
                fields=["respond_by"], condition=Q(outcome="pending"), name="routing_pending_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.referral_id} → {self.association_id} ({self.outcome})"


# django-guardian direct foreign-key permission tables (docs/access.md).
class ReferralUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Referral, on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        indexes = [models.Index(fields=["content_object", "user", "permission"])]


class ReferralGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Referral, on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        indexes = [models.Index(fields=["content_object", "group", "permission"])]
