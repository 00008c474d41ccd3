"""Cases: the association's follow-up of an accepted referral."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase
from simple_history.models import HistoricalRecords


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
    version = models.PositiveIntegerField(default=1)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-opened_at", "-pk"]
        verbose_name = _("case")
        verbose_name_plural = _("cases")
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


class CaseUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Case, on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        indexes = [models.Index(fields=["content_object", "user", "permission"])]


class CaseGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Case, on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        indexes = [models.Index(fields=["content_object", "group", "permission"])]
