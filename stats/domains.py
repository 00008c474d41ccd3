"""The categories of each dimension, known without looking at the data.

A release lists the whole grid of its dimensions' domains, never only the
combinations that occur: which rows exist is itself a fact to protect
(docs/statistics.md). The grid's size is known from these domains alone, so it is checked before
any figure is computed."""

from __future__ import annotations

from collections.abc import Callable
from math import prod
from typing import Any

import pycountry
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency, Departement, Region
from cases.models import StepKind
from common.choices import ExploitationForm
from common.errors import ValidationFailed
from referral.models import ReferralStatus, Sex

from .dimensions import AGE_GROUPS, DIMENSIONS, world_regions
from .models import NEGATIVE_REASONS, DecisionDays, FormalOutcome, PendingAge, PreliminaryOutcome
from .periods import PERIOD

# The largest grid a release may list (cells, totals apart).
MAX_CELLS = 10_000


def _years(period: str | None) -> list[int]:
    if period:
        return [int(PERIOD.match(period)["year"])]
    return list(range(settings.MNR_STATS_FIRST_YEAR, timezone.localdate().year + 1))


def _period_domain(name: str, period: str | None) -> list[Any]:
    match = PERIOD.match(period) if period else None
    values: list[Any] = []
    for year in _years(period):
        if name == "year":
            values.append(year)
            continue
        if match and match["month"]:
            months = [int(match["month"])]
        elif match and match["quarter"]:
            q = int(match["quarter"])
            months = list(range(3 * q - 2, 3 * q + 1))
        else:
            months = list(range(1, 13))
        if name == "quarter":
            values += [f"{year}-Q{q}" for q in dict.fromkeys((m + 2) // 3 for m in months)]
        else:
            values += [f"{year}-{m:02d}" for m in months]
    return values


DOMAINS: dict[str, Callable[[], list[Any]]] = {
    "exploitation_form": lambda: list(ExploitationForm.values),
    "sex": lambda: list(Sex.values),
    "age_group": lambda: [label for label, _, _ in AGE_GROUPS] + ["45+", "unknown"],
    "minor": lambda: [False, True],
    "nationality": lambda: [*sorted(c.alpha_2 for c in pycountry.countries), "unknown"],
    "world_region": lambda: sorted(world_regions()["regions"]),
    "departement": lambda: [
        *Departement.objects.order_by("code").values_list("code", flat=True),
        "unknown",
    ],
    "region": lambda: [*Region.objects.order_by("code").values_list("code", flat=True), "unknown"],
    "referring_sector": lambda: list(dict.fromkeys([*Agency.Sector.values, *Agency.Kind.values])),
    "outcome": lambda: list(ReferralStatus.values),
    "exploited_abroad_only": lambda: [False, True],
    "complaint_filed": lambda: [False, True],
    "residence_permit": lambda: ["none", "requested", "obtained"],
    "step_delivered": lambda: [*StepKind.values, "none"],
    "preliminary_outcome": lambda: list(PreliminaryOutcome.values),
    "formal_outcome": lambda: list(FormalOutcome.values),
    "negative_reason": lambda: [code for code, _label in NEGATIVE_REASONS],
    "preliminary_days": lambda: list(DecisionDays.values),
    "formal_days": lambda: list(DecisionDays.values),
    "pending_age": lambda: list(PendingAge.values),
}
assert set(DOMAINS) | {"year", "quarter", "month"} == set(DIMENSIONS)


def public_domain(name: str, period: str | None = None) -> list[Any]:
    """The categories of a dimension (periods: those of ``period``, or every
    year since MNR_STATS_FIRST_YEAR)."""
    if name in ("year", "quarter", "month"):
        return _period_domain(name, period)
    return DOMAINS[name]()


def domain_size(name: str, period: str | None) -> int:
    if name in ("departement", "region"):
        model = Departement if name == "departement" else Region
        return model.objects.count() + 1
    return len(public_domain(name, period))


def check_grid(by: list[str], period: str | None) -> None:
    """Refuse a crossing whose grid is too large, before anything is computed."""
    size = prod(domain_size(name, period) for name in by)
    if size > MAX_CELLS:
        raise ValidationFailed(
            _("Invalid input."),
            fields={
                "by": [
                    _(
                        "This crossing has %(size)s cells; at most %(limit)s can be released. "
                        "Choose fewer or coarser dimensions (region instead of département, "
                        "world region instead of nationality) or a shorter period."
                    )
                    % {"size": f"{size:,}", "limit": f"{MAX_CELLS:,}"}
                ]
            },
        )


def check_filter(name: str, value: str) -> Any:
    """A filter's value as the dimension holds it, or a 400 naming the field."""
    if name in ("minor", "exploited_abroad_only", "complaint_filed"):
        if value not in ("true", "false"):
            raise ValidationFailed(_("Invalid input."), fields={name: [_("Either true or false.")]})
        return value == "true"
    if value not in public_domain(name):
        raise ValidationFailed(
            _("Invalid input."), fields={name: [_("Not a value of this dimension.")]}
        )
    return value
