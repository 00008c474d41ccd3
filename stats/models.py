from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class PrivacySpend(models.Model):
    """Epsilon spent by one user on one data period through differentially
    private releases. Each spend is also written to the access log."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("user")
    )
    period = models.CharField(_("period"), max_length=16)
    epsilon = models.FloatField(_("epsilon"))
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("privacy budget spend")
        verbose_name_plural = _("privacy budget spends")
        indexes = [models.Index(fields=["user", "period"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(epsilon__gt=0), name="privacy_spend_positive")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.period} ε={self.epsilon}"


class ReferralFact(models.Model):
    """The statistical fields of one referral and one of its forms of
    exploitation, precomputed so a crossing reads one narrow indexed table
    (DESIGN §7; the survey report on 1,000,000 referrals must answer in ≤ 2 s).

    Written only by ``stats.services.facts_refresh``, which every service that
    changes a referral, its person, case or steps calls in its own transaction;
    ``rebuild_stats_facts`` (nightly, and ``--check``) recomputes and reports any
    drift. Holds no identity field: nothing here names a person."""

    referral = models.ForeignKey(
        "referral.Referral", on_delete=models.CASCADE, related_name="+", verbose_name=_("referral")
    )
    # One row per form; ``is_primary`` marks one row per referral, used when the
    # form is neither grouped nor filtered by, so a referral counts once.
    form = models.CharField(_("form of exploitation"), max_length=32, blank=True)
    is_primary = models.BooleanField(default=True)
    submitted_at = models.DateTimeField(_("submitted at"))
    accepted_at = models.DateTimeField(_("accepted at"), null=True)
    case_opened_at = models.DateTimeField(_("case opened at"), null=True)
    case_association = models.ForeignKey(
        "agencies.Agency", on_delete=models.PROTECT, null=True, related_name="+"
    )
    sex = models.CharField(_("sex"), max_length=8)
    age_group = models.CharField(_("age group"), max_length=8)
    minor = models.BooleanField(_("presumed minor"))
    nationality = models.CharField(_("nationality"), max_length=8)
    world_region = models.CharField(_("world region"), max_length=32)
    departement = models.CharField(_("département"), max_length=8)
    region = models.CharField(_("region"), max_length=8)
    referring_sector = models.CharField(_("referring sector"), max_length=32)
    outcome = models.CharField(_("outcome"), max_length=16)
    exploited_abroad_only = models.BooleanField(_("exploited abroad only"))
    complaint_filed = models.BooleanField(_("complaint filed"))
    residence_permit = models.CharField(_("residence permit"), max_length=10)

    class Meta:
        verbose_name = _("statistics row")
        verbose_name_plural = _("statistics rows")
        indexes = [
            models.Index(fields=["submitted_at"], name="fact_submitted"),
            models.Index(
                fields=["case_opened_at"],
                name="fact_case_opened",
                condition=models.Q(case_opened_at__isnull=False),
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["referral", "form"], name="fact_one_row_per_form"),
            models.UniqueConstraint(
                fields=["referral"],
                condition=models.Q(is_primary=True),
                name="fact_one_primary_row",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.referral_id} {self.form}"
