"""Declared dimensions of the statistics (DESIGN §7): each is a SQL expression
over referrals (and their person, case, steps), grouped by in the database."""

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
    FilteredRelation,
    Func,
    IntegerField,
    OuterRef,
    Q,
    Value,
    When,
)
from django.db.models.functions import Coalesce, ExtractMonth, ExtractQuarter, ExtractYear

from cases.models import ProtectionStep

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


def _step_done(kind: str) -> Exists:
    return Exists(
        ProtectionStep.objects.filter(case__referral=OuterRef("pk"), kind=kind, status="done")
    )


def _residence_permit() -> Any:
    return Case(
        When(
            Exists(
                ProtectionStep.objects.filter(
                    case__referral=OuterRef("pk"), kind="residence_permit", status="done"
                )
            ),
            then=Value("obtained"),
        ),
        When(
            Exists(
                ProtectionStep.objects.filter(
                    case__referral=OuterRef("pk"), kind="residence_permit", status="in_progress"
                )
            ),
            then=Value("requested"),
        ),
        default=Value("none"),
        output_field=CharField(),
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
    "exploitation_form": _simple("exploitation_form", lambda: F("forms__form"), multi=True),
    "sex": _simple("sex", lambda: F("person__sex")),
    "age_group": _simple("age_group", _age_group),
    "minor": _simple("minor", lambda: F("person__presumed_minor")),
    "nationality": _simple(
        "nationality",
        lambda: Case(
            When(person__nationality="", then=Value("unknown")),
            default=F("person__nationality"),
            output_field=CharField(),
        ),
    ),
    "world_region": _simple("world_region", _world_region),
    "departement": _simple(
        "departement",
        lambda: Coalesce(
            "person__current_departement", "exploitation_departement", Value("unknown")
        ),
    ),
    "region": _simple(
        "region",
        lambda: Coalesce(
            "person__current_departement__region",
            "exploitation_departement__region",
            Value("unknown"),
        ),
    ),
    "referring_sector": _simple(
        "referring_sector",
        lambda: Case(
            When(referring_agency__sector="", then=F("referring_agency__kind")),
            default=F("referring_agency__sector"),
            output_field=CharField(),
        ),
    ),
    "outcome": _simple("outcome", lambda: F("status")),
    "exploited_abroad_only": _simple(
        "exploited_abroad_only",
        lambda: Case(
            When(~Q(exploitation_country=""), then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        ),
    ),
    "complaint_filed": _simple("complaint_filed", lambda: _step_done("complaint_filed")),
    "residence_permit": _simple("residence_permit", _residence_permit),
    "step_delivered": Dimension(
        "step_delivered",
        lambda d: {"d_step_delivered": F("done_steps__kind")},
        lambda row: row["d_step_delivered"] or "none",
        multi_valued=True,
    ),
}


def relations_for(names: list[str]) -> dict[str, FilteredRelation]:
    if "step_delivered" in names:
        return {
            "done_steps": FilteredRelation("case__steps", condition=Q(case__steps__status="done"))
        }
    return {}
