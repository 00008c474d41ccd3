"""Declared dimensions of the statistics (docs/statistics.md).

``fact_sources`` computes each referral's statistical fields from the live
records (referral, person, case, steps), ``stats.identification_facts`` those of
its identification file; ``stats.services`` keeps them in ReferralFact and
publishes them to PublishedFact. Each dimension is a SQL expression over
PublishedFact, grouped by in the database."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Exists,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    Value,
    When,
)
from django.db.models.functions import Coalesce, ExtractMonth, ExtractQuarter, ExtractYear
from django.utils.translation import gettext_lazy as _

from cases.models import ProtectionStep

from .models import NEGATIVE_REASONS, DecisionDays, FormalOutcome, PendingAge, PreliminaryOutcome

DATA = Path(__file__).resolve().parent / "data"


class LocalPart(Func):
    """YEAR, QUARTER or MONTH of a timestamp in the project's time zone.

    On PostgreSQL the zone is written into the SQL (it comes from settings, is
    validated by zoneinfo, and is never user input): with server-side binding a
    parameter would make GROUP BY differ from SELECT. Elsewhere Django's Extract."""

    output_field = IntegerField()
    EXTRACTS = {"year": ExtractYear, "quarter": ExtractQuarter, "month": ExtractMonth}

    def __init__(self, expression: Any, part: str) -> None:
        super().__init__(expression)
        self.part = part

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        fallback = self.EXTRACTS[self.part](self.source_expressions[0])
        return compiler.compile(fallback.resolve_expression(compiler.query))

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        zone = str(ZoneInfo(settings.TIME_ZONE))
        sql, params = compiler.compile(self.source_expressions[0])
        return f"EXTRACT({self.part.upper()} FROM ({sql}) AT TIME ZONE '{zone}')::integer", params


AGE_GROUPS = [("minor", 0, 18), ("18-24", 18, 25), ("25-34", 25, 35), ("35-44", 35, 45)]


@lru_cache(maxsize=1)
def world_regions() -> dict[str, Any]:
    with open(DATA / "world_regions.json", encoding="utf-8") as f:
        return json.load(f)


@dataclass(frozen=True)
class Dimension:
    name: str
    annotations: Callable[[str], dict[str, Any]]  # date field -> {alias: expression}
    format: Callable[[dict], Any] = field(default=lambda row: None)
    multi_valued: bool = False  # a referral may count in several categories
    filterable: bool = True
    # What people read (the identification dimensions carry theirs here; the
    # older ones' are in web/charts.py): the dimension's name, each value's.
    label: Any = None
    value_labels: dict[str, Any] = field(default_factory=dict)


def _simple(name: str, expression: Callable[[], Any], multi: bool = False) -> Dimension:
    return Dimension(
        name=name,
        annotations=lambda date_field: {f"d_{name}": expression()},
        format=lambda row: row[f"d_{name}"],
        multi_valued=multi,
    )


def _age_group() -> Any:
    whens = [When(person__age_years__isnull=True, then=Value("unknown"))]
    whens += [
        When(person__age_years__gte=low, person__age_years__lt=high, then=Value(label))
        for label, low, high in AGE_GROUPS
    ]
    return Case(*whens, default=Value("45+"), output_field=CharField())


def _world_region() -> Any:
    by_region: dict[str, list[str]] = {}
    for code, region in world_regions()["countries"].items():
        by_region.setdefault(region, []).append(code)
    whens = [
        When(person__nationality__in=codes, then=Value(region))
        for region, codes in sorted(by_region.items())
        if region != "other"
    ]
    return Case(*whens, default=Value("other"), output_field=CharField())


# Step kinds copied into ReferralFact: a change of their status refreshes it.
FACT_STEP_KINDS = frozenset({"complaint_filed", "residence_permit"})


def _step_done(step_model: Any, kind: str) -> Exists:
    return Exists(
        step_model.objects.filter(case__referral=OuterRef("pk"), kind=kind, status="done")
    )


def _residence_permit(step_model: Any) -> Any:
    return Case(
        When(_step_done(step_model, "residence_permit"), then=Value("obtained")),
        When(
            Exists(
                step_model.objects.filter(
                    case__referral=OuterRef("pk"), kind="residence_permit", status="in_progress"
                )
            ),
            then=Value("requested"),
        ),
        default=Value("none"),
        output_field=CharField(),
    )


# The statistical fields of a referral, computed from the live records (over
# Referral, one row per form): what stats.services.facts_refresh writes into
# ReferralFact. The dimensions below read those columns.
def fact_sources(step_model: Any = ProtectionStep) -> dict[str, Any]:
    return {
        "f_form": Coalesce(F("forms__form"), Value("")),
        "f_accepted_at": F("accepted_at"),
        "f_case_opened_at": F("case__opened_at"),
        "f_case_association": F("case__association_id"),
        "f_sex": Coalesce(F("person__sex"), Value("unknown")),
        "f_age_group": _age_group(),
        "f_minor": Coalesce(F("person__presumed_minor"), Value(False)),
        "f_nationality": Case(
            When(person__nationality="", then=Value("unknown")),
            When(person__nationality__isnull=True, then=Value("unknown")),
            default=F("person__nationality"),
            output_field=CharField(),
        ),
        "f_world_region": _world_region(),
        "f_departement": Coalesce(
            "person__current_departement", "exploitation_departement", Value("unknown")
        ),
        "f_region": Coalesce(
            "person__current_departement__region",
            "exploitation_departement__region",
            Value("unknown"),
        ),
        "f_referring_sector": Case(
            When(referring_agency__sector="", then=F("referring_agency__kind")),
            default=F("referring_agency__sector"),
            output_field=CharField(),
        ),
        "f_outcome": F("status"),
        "f_exploited_abroad_only": Case(
            When(~Q(exploitation_country=""), then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        ),
        "f_complaint_filed": _step_done(step_model, "complaint_filed"),
        "f_residence_permit": _residence_permit(step_model),
    }


def _column(
    name: str,
    column: str | None = None,
    multi: bool = False,
    label: Any = None,
    choices: list[tuple[str, Any]] | None = None,
) -> Dimension:
    return Dimension(
        name=name,
        annotations=lambda date_field: {f"d_{name}": F(column or name)},
        format=lambda row: row[f"d_{name}"],
        multi_valued=multi,
        label=label,
        value_labels=dict(choices or []),
    )


DIMENSIONS: dict[str, Dimension] = {
    "year": Dimension(
        "year",
        lambda d: {"d_year": LocalPart(d, "year")},
        lambda row: row["d_year"],
        filterable=False,
    ),
    "quarter": Dimension(
        "quarter",
        lambda d: {"d_qy": LocalPart(d, "year"), "d_q": LocalPart(d, "quarter")},
        lambda row: f"{row['d_qy']}-Q{row['d_q']}",
        filterable=False,
    ),
    "month": Dimension(
        "month",
        lambda d: {"d_my": LocalPart(d, "year"), "d_m": LocalPart(d, "month")},
        lambda row: f"{row['d_my']}-{row['d_m']:02d}",
        filterable=False,
    ),
    "exploitation_form": Dimension(
        "exploitation_form",
        lambda d: {"d_exploitation_form": F("form")},
        lambda row: row["d_exploitation_form"] or None,
        multi_valued=True,
    ),
    "sex": _column("sex"),
    "age_group": _column("age_group"),
    "minor": _column("minor"),
    "nationality": _column("nationality"),
    "world_region": _column("world_region"),
    "departement": _column("departement"),
    "region": _column("region"),
    "referring_sector": _column("referring_sector"),
    "outcome": _column("outcome"),
    "exploited_abroad_only": _column("exploited_abroad_only"),
    "complaint_filed": _column("complaint_filed"),
    "residence_permit": _column("residence_permit"),
    # The identification file: the final decision of each stage (its first
    # negative reason), working days to it, and how long one has been awaited.
    "preliminary_outcome": _column(
        "preliminary_outcome",
        label=_("Preliminary identification decision"),
        choices=PreliminaryOutcome.choices,
    ),
    "formal_outcome": _column(
        "formal_outcome", label=_("Formal identification decision"), choices=FormalOutcome.choices
    ),
    "negative_reason": _column(
        "negative_reason", label=_("Reason of the negative decision"), choices=NEGATIVE_REASONS
    ),
    "preliminary_days": _column(
        "preliminary_days",
        label=_("Time to the preliminary decision"),
        choices=DecisionDays.choices,
    ),
    "formal_days": _column(
        "formal_days", label=_("Time to the formal decision"), choices=DecisionDays.choices
    ),
    "pending_age": _column(
        "pending_age", label=_("Decision awaited for"), choices=PendingAge.choices
    ),
    # The kinds delivered, one published row per referral and kind.
    "step_delivered": Dimension(
        "step_delivered",
        lambda d: {"d_step_delivered": F("referral__published_steps__kind")},
        lambda row: row["d_step_delivered"] or "none",
        multi_valued=True,
    ),
}
