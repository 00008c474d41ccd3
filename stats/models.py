from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from identification.models import NegativeReason

NONE = "none"
PENDING = "pending"


# What a fact row keeps of the referral's identification file
# (docs/statistics.md, "Identification decisions"): the final decision of each
# stage, in the file's state as of the last refresh. "none": no decision of that
# stage (no file, or not at that stage); "pending": the decision is awaited.
class PreliminaryOutcome(models.TextChoices):
    NONE = NONE, _("No preliminary decision")
    PENDING = PENDING, _("Preliminary decision awaited")
    POSITIVE = "positive", _("Positive: presumed victim")
    NEGATIVE = "negative", _("Negative: not a presumed victim")


class FormalOutcome(models.TextChoices):
    NONE = NONE, _("No formal decision")
    PENDING = PENDING, _("Formal decision awaited")
    IDENTIFIED = "identified", _("Identified as a victim")
    NOT_IDENTIFIED = "not_identified", _("Not identified as a victim")
    WITHDRAWN = "withdrawn", _("File withdrawn")


# The first reason of the final negative decision, in NegativeReason's order.
NEGATIVE_REASONS = [(NONE, _("No negative decision")), *NegativeReason.choices]


class DecisionDays(models.TextChoices):
    """Working days (Monday to Friday) from the start of a stage to its final
    decision."""

    NONE = NONE, _("No decision")
    PENDING = PENDING, _("Decision awaited")
    DAYS_0_5 = "0-5", _("0 to 5 working days")
    DAYS_6_10 = "6-10", _("6 to 10 working days")
    DAYS_11_30 = "11-30", _("11 to 30 working days")
    DAYS_31 = "31+", _("31 working days or more")


class PendingAge(models.TextChoices):
    """Working days a decision awaited from the unit has been waited for."""

    NONE = NONE, _("No decision awaited from the unit")
    DAYS_0_5 = "0-5", _("0 to 5 working days")
    DAYS_6_10 = "6-10", _("6 to 10 working days")
    DAYS_11_30 = "11-30", _("11 to 30 working days")
    DAYS_31 = "31+", _("31 working days or more")


# The buckets of DecisionDays and PendingAge: (label, first day, last day or None).
DAY_BUCKETS = (("0-5", 0, 5), ("6-10", 6, 10), ("11-30", 11, 30), ("31+", 31, None))


class FactColumns(models.Model):
    """The statistical fields of one referral and one of its forms of
    exploitation. No identity field: nothing here names a person."""

    referral = models.ForeignKey(
        "referral.Referral", on_delete=models.CASCADE, related_name="+", verbose_name=_("referral")
    )
    # One row per form; ``is_primary`` marks one row per referral, used when the
    # form is neither grouped nor filtered by, so a referral counts once.
    form = models.CharField(_("form of exploitation"), max_length=32, blank=True)
    is_primary = models.BooleanField(default=True)
    # The referral's permanent cell key (stats.cellkey.record_key).
    record_key = models.BigIntegerField(_("record key"), default=0)
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
    # The identification file (stats.identification_facts).
    preliminary_outcome = models.CharField(
        _("preliminary identification"),
        max_length=16,
        choices=PreliminaryOutcome.choices,
        default=NONE,
    )
    formal_outcome = models.CharField(
        _("formal identification"), max_length=16, choices=FormalOutcome.choices, default=NONE
    )
    negative_reason = models.CharField(
        _("reason of the negative decision"),
        max_length=32,
        choices=NEGATIVE_REASONS,
        default=NONE,
    )
    preliminary_days = models.CharField(
        _("time to the preliminary decision"),
        max_length=8,
        choices=DecisionDays.choices,
        default=NONE,
    )
    formal_days = models.CharField(
        _("time to the formal decision"), max_length=8, choices=DecisionDays.choices, default=NONE
    )
    pending_age = models.CharField(
        _("decision awaited for"), max_length=8, choices=PendingAge.choices, default=NONE
    )

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.referral_id} {self.form}"


class ReferralFact(FactColumns):
    """The live statistical rows, precomputed so a crossing reads one narrow
    indexed table (docs/statistics.md).

    Written only by ``stats.services.facts_refresh``, which stats.receivers calls
    on the events of every service that changes a referral, its person, case,
    steps or identification file, in that service's transaction;
    ``rebuild_stats_facts`` (nightly, and ``--check``) recomputes and reports any
    drift. Releases never read this table: they read the last publication."""

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


class Publication(models.Model):
    """One publication of the statistics: a frozen copy of the live rows, from
    which every release is computed until the next one (docs/statistics.md).
    Publishing on a fixed schedule means no one can compare two releases that
    differ by one referral."""

    published_at = models.DateTimeField(_("published at"), auto_now_add=True)
    referrals = models.PositiveIntegerField(_("referrals"))
    rows = models.PositiveIntegerField(_("rows"))

    class Meta:
        verbose_name = _("statistics publication")
        verbose_name_plural = _("statistics publications")
        ordering = ["-published_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.published_at:%Y-%m-%d %H:%M} ({self.referrals})"


class PublishedFact(FactColumns):
    """The rows of the current publication (ReferralFact as it was then)."""

    # The association awaiting an answer on the referral then (managers' scope).
    pending_association = models.ForeignKey(
        "agencies.Agency", on_delete=models.PROTECT, null=True, related_name="+"
    )

    class Meta:
        verbose_name = _("published statistics row")
        verbose_name_plural = _("published statistics rows")
        indexes = [
            models.Index(fields=["submitted_at"], name="published_submitted"),
            models.Index(
                fields=["case_opened_at"],
                name="published_case_opened",
                condition=models.Q(case_opened_at__isnull=False),
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["referral", "form"], name="published_one_row_per_form"),
        ]


class PublishedStep(models.Model):
    """A kind of protection step delivered (done) for a referral's case, as of
    the current publication; one row per referral and kind."""

    referral = models.ForeignKey(
        "referral.Referral", on_delete=models.CASCADE, related_name="published_steps"
    )
    kind = models.CharField(_("kind"), max_length=32)

    class Meta:
        verbose_name = _("published delivered step")
        verbose_name_plural = _("published delivered steps")
        constraints = [
            models.UniqueConstraint(fields=["referral", "kind"], name="published_step_once")
        ]

    def __str__(self) -> str:
        return f"{self.referral_id} {self.kind}"
