"""Cases: the association's follow-up of an accepted referral.

Over ~400 lines: the case, its steps, notes, transfers and shares with their
history, constraints and django-guardian permission tables, which Django wants
in one models module per app.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase
from simple_history.models import HistoricalRecords

from common.fields import EncryptedTextField


class CaseStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class ClosureReason(models.TextChoices):
    SUPPORT_COMPLETED = "support_completed", _("Support completed")
    PERSON_DECLINED = "person_declined", _("The person declined support")
    LOST_CONTACT = "lost_contact", _("Contact lost")
    RETURNED_HOME = "returned_home", _("Returned to their country")
    MOVED_ABROAD = "moved_abroad", _("Moved abroad")
    DUPLICATE = "duplicate", _("Duplicate")
    DECEASED = "deceased", _("Deceased")


class Case(models.Model):
    Status = CaseStatus
    ClosureReason = ClosureReason

    # Allowed transitions, enforced by common.transitions.transition.
    ALLOWED_TRANSITIONS: dict[str, set[str]] = {
        CaseStatus.OPEN: {CaseStatus.CLOSED},
        CaseStatus.CLOSED: {CaseStatus.OPEN},
    }

    referral = models.OneToOneField(
        "referral.Referral", on_delete=models.PROTECT, related_name="case"
    )
    reference = models.CharField(_("reference"), max_length=16, unique=True)
    association = models.ForeignKey(
        "agencies.Agency",
        on_delete=models.PROTECT,
        related_name="cases",
        verbose_name=_("association"),
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_cases",
        verbose_name=_("assigned caseworker"),
    )
    status = models.CharField(
        _("status"), max_length=8, choices=CaseStatus.choices, default=CaseStatus.OPEN
    )
    opened_at = models.DateTimeField(_("opened at"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closure_reason = models.CharField(
        _("closure reason"), max_length=20, choices=ClosureReason.choices, blank=True, default=""
    )
    reopened_at = models.DateTimeField(_("reopened at"), null=True, blank=True)
    pseudonymised_at = models.DateTimeField(_("pseudonymised at"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-opened_at", "-pk"]
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        permissions = [
            ("decide_transfer", "Can accept or reject a pending transfer of the case"),
            ("view_case_profile", "Can read the person's profile of a shared case"),
            ("view_case_plan", "Can read the protection plan of a shared case"),
            ("view_case_notes", "Can read the notes of a shared case"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=CaseStatus.values), name="case_status_valid"
            ),
            models.CheckConstraint(
                condition=(
                    Q(status="open", closed_at__isnull=True, closure_reason="")
                    | (
                        Q(status="closed", closed_at__isnull=False)
                        & Q(closure_reason__in=ClosureReason.values)
                    )
                ),
                name="case_closure_consistent",
            ),
        ]
        indexes = [models.Index(fields=["association", "status"])]

    def __str__(self) -> str:
        return self.reference


class StepKind(models.TextChoices):
    SAFETY_ASSESSMENT = "safety_assessment", _("Safety assessment")
    INITIAL_INTERVIEW = "initial_interview", _("Initial interview")
    EMERGENCY_SHELTER = "emergency_shelter", _("Emergency shelter")
    SECURE_RELOCATION = "secure_relocation", _("Secure relocation")
    MEDICAL_CARE = "medical_care", _("Medical care")
    PSYCHOLOGICAL_SUPPORT = "psychological_support", _("Psychological support")
    INTERPRETER = "interpreter", _("Interpreter")
    LEGAL_INFORMATION = (
        "legal_information",
        _("Legal information (rights, complaint, compensation)"),
    )
    LAWYER = "lawyer", _("Lawyer")
    COMPLAINT_FILED = "complaint_filed", _("Complaint filed")
    REFLECTION_PERIOD = (
        "reflection_period",
        _("Recovery and reflection period (30 days, CESEDA R.425-1)"),
    )
    RESIDENCE_PERMIT = "residence_permit", _("Residence permit (CESEDA L.425-1)")
    EXIT_PATHWAY = "exit_pathway", _("Exit-from-prostitution pathway (law of 13 April 2016)")
    CHILD_PROTECTION = "child_protection", _("Child protection measure (ASE)")
    FINANCIAL_AID = "financial_aid", _("Financial aid")
    TRAINING_EMPLOYMENT = "training_employment", _("Training or employment")
    VOLUNTARY_RETURN = "voluntary_return", _("Voluntary return")


class StepStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")
    NOT_APPLICABLE = "not_applicable", _("Not applicable")
    DECLINED_BY_PERSON = "declined_by_person", _("Declined by the person")
    BLOCKED = "blocked", _("Blocked")


OPEN_STEP_STATUSES = (StepStatus.PLANNED, StepStatus.IN_PROGRESS, StepStatus.BLOCKED)


class ProtectionStep(models.Model):
    Kind = StepKind
    Status = StepStatus

    # Every status can be corrected; "done" needs done_at (set by the service).
    ALLOWED_TRANSITIONS: dict[str, set[str]] = {
        StepStatus.PLANNED: {
            StepStatus.IN_PROGRESS,
            StepStatus.DONE,
            StepStatus.NOT_APPLICABLE,
            StepStatus.DECLINED_BY_PERSON,
            StepStatus.BLOCKED,
        },
        StepStatus.IN_PROGRESS: {
            StepStatus.PLANNED,
            StepStatus.DONE,
            StepStatus.NOT_APPLICABLE,
            StepStatus.DECLINED_BY_PERSON,
            StepStatus.BLOCKED,
        },
        StepStatus.BLOCKED: {
            StepStatus.PLANNED,
            StepStatus.IN_PROGRESS,
            StepStatus.DONE,
            StepStatus.NOT_APPLICABLE,
            StepStatus.DECLINED_BY_PERSON,
        },
        StepStatus.DONE: {StepStatus.IN_PROGRESS},
        StepStatus.NOT_APPLICABLE: {StepStatus.PLANNED},
        StepStatus.DECLINED_BY_PERSON: {StepStatus.PLANNED},
    }

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="steps")
    kind = models.CharField(_("kind"), max_length=32, choices=StepKind.choices)
    status = models.CharField(
        _("status"), max_length=20, choices=StepStatus.choices, default=StepStatus.PLANNED
    )
    due_date = models.DateField(_("due date"), null=True, blank=True)
    ends_on = models.DateField(
        _("ends on"), null=True, blank=True, help_text=_("End of a period, e.g. reflection.")
    )
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("owner"),
    )
    note = EncryptedTextField(_("note"), blank=True, default="")
    from_template = models.BooleanField(default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    version = models.PositiveIntegerField(default=1)

    history = HistoricalRecords()

    class Meta:
        ordering = ["due_date", "pk"]
        verbose_name = _("protection step")
        verbose_name_plural = _("protection steps")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=StepStatus.values), name="step_status_valid"
            ),
            models.CheckConstraint(condition=Q(kind__in=StepKind.values), name="step_kind_valid"),
            models.CheckConstraint(
                condition=~Q(status="done") | Q(done_at__isnull=False),
                name="step_done_has_done_at",
            ),
        ]
        indexes = [
            models.Index(
                fields=["due_date"],
                condition=Q(status__in=["planned", "in_progress", "blocked"]),
                name="step_open_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.kind}"

    def is_overdue(self, today: date) -> bool:
        """Still open and past its due date (the rule the list filters apply in SQL)."""
        return (
            self.status in OPEN_STEP_STATUSES
            and self.due_date is not None
            and (self.due_date < today)
        )


class CaseNote(models.Model):
    """A note of the owning association. The text is encrypted; metadata is not."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notes")
    text = EncryptedTextField(_("text"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("author"),
    )
    created_at = models.DateTimeField(_("created at"))

    history = HistoricalRecords()

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("case note")
        verbose_name_plural = _("case notes")

    def __str__(self) -> str:
        return f"note {self.pk} on {self.case_id}"


class TransferStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")


class Transfer(models.Model):
    """Hand-off of a case to another association (e.g. a secure relocation)."""

    Status = TransferStatus

    ALLOWED_TRANSITIONS: dict[str, set[str]] = {
        TransferStatus.PENDING: {TransferStatus.ACCEPTED, TransferStatus.REJECTED},
        TransferStatus.ACCEPTED: set(),
        TransferStatus.REJECTED: set(),
    }

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="transfers")
    from_association = models.ForeignKey(
        "agencies.Agency", on_delete=models.PROTECT, related_name="transfers_out"
    )
    to_association = models.ForeignKey(
        "agencies.Agency", on_delete=models.PROTECT, related_name="transfers_in"
    )
    reason = EncryptedTextField(_("reason"))
    status = models.CharField(
        _("status"), max_length=10, choices=TransferStatus.choices, default=TransferStatus.PENDING
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(_("requested at"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_reason = EncryptedTextField(_("reason for the decision"), blank=True, default="")

    history = HistoricalRecords()

    class Meta:
        ordering = ["-requested_at", "-pk"]
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=TransferStatus.values), name="transfer_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(from_association=models.F("to_association")),
                name="transfer_to_another_association",
            ),
            models.UniqueConstraint(
                fields=["case"], condition=Q(status="pending"), name="transfer_one_pending_per_case"
            ),
        ]
        indexes = [models.Index(fields=["to_association", "status"])]

    def __str__(self) -> str:
        return f"transfer {self.pk} of {self.case_id}"


class SharePurpose(models.TextChoices):
    CHILD_PROTECTION = "child_protection", _("Child protection (CRIP)")
    LEGAL = "legal", _("Legal counsel")
    HEALTH = "health", _("Health care")
    INTERPRETING = "interpreting", _("Interpreting")
    OTHER = "other", _("Other purpose")


class SharePart(models.TextChoices):
    PROFILE = "profile", _("The person's profile")
    PLAN = "plan", _("The protection plan")
    NOTES = "notes", _("The notes")


class ShareEnd(models.TextChoices):
    REVOKED = "revoked", _("Revoked")
    EXPIRED = "expired", _("Expired")
    ACCESS_ENDED = "access_ended", _("The person's access ended")
    CASE_MOVED = "case_moved", _("The case moved to another association")


class CaseShare(models.Model):
    """One case shared read-only with a named person of another agency, for a
    stated purpose, on the parts that purpose needs, until a date. Its grants
    (user grants on the case, one per part) are given and ended by cases.grants."""

    Purpose = SharePurpose
    Part = SharePart
    End = ShareEnd

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="shares")
    grantee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="case_shares",
        verbose_name=_("shared with"),
    )
    grantee_agency = models.ForeignKey(
        "agencies.Agency", on_delete=models.PROTECT, related_name="+", verbose_name=_("agency")
    )
    purpose = models.CharField(_("purpose"), max_length=20, choices=SharePurpose.choices)
    purpose_detail = EncryptedTextField(_("purpose, in short"), max_length=200)
    parts = models.JSONField(_("parts shared"), default=list)
    until = models.DateField(_("until"))
    shared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    shared_at = models.DateTimeField(_("shared at"))
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    end_reason = models.CharField(
        _("how it ended"), max_length=16, choices=ShareEnd.choices, blank=True, default=""
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["-shared_at", "-pk"]
        verbose_name = _("case share")
        verbose_name_plural = _("case shares")
        constraints = [
            models.UniqueConstraint(
                fields=["case", "grantee"],
                condition=Q(ended_at__isnull=True),
                name="case_share_one_active_per_person",
            ),
            models.CheckConstraint(
                condition=Q(purpose__in=SharePurpose.values), name="case_share_purpose_valid"
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True, end_reason="")
                | Q(ended_at__isnull=False, end_reason__in=ShareEnd.values),
                name="case_share_end_has_reason",
            ),
        ]
        indexes = [
            models.Index(
                fields=["until"], condition=Q(ended_at__isnull=True), name="case_share_active_until"
            )
        ]

    def __str__(self) -> str:
        return f"share {self.pk} of {self.case_id}"

    @property
    def active(self) -> bool:
        return self.ended_at is None


class CaseUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Case, on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        indexes = [models.Index(fields=["content_object", "user", "permission"])]


class CaseGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Case, on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        indexes = [models.Index(fields=["content_object", "group", "permission"])]
