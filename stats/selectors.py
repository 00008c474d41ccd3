"""Anonymised aggregates (DESIGN §7): grouped and counted in SQL, then protected
by stats.disclosure before anything leaves. No row-level record, no personal
field: only dimension values and counts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Aggregate, Count, Exists, F, FloatField, Func, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.models import Membership, User
from common.errors import NotAllowed, ValidationFailed
from referral.models import Routing, RoutingOutcome

from . import disclosure
from .dimensions import DIMENSIONS, relations_for
from .models import ReferralFact

MAX_DIMENSIONS = 4
MIN_YEAR, MAX_YEAR = 2000, 2100
MAX_CELLS = 20_000
MEASURES = {"referrals": "submitted_at", "cases": "case_opened_at"}
NATIONAL_ROLES = (Membership.Role.ANALYST, Membership.Role.COORDINATOR)
PERIOD = re.compile(r"^(?P<year>\d{4})(?:-(?:Q(?P<quarter>[1-4])|(?P<month>0[1-9]|1[0-2])))?$")


@dataclass(frozen=True)
class Scope:
    """What figures the user may see: national, or their association's."""

    association_id: int | None


def scope_for(user: User) -> Scope:
    membership = getattr(user, "membership", None) if user.is_authenticated else None
    if membership is None:
        raise NotAllowed(_("Statistics are for MIPROF, the coordination desk and managers."))
    if membership.role in NATIONAL_ROLES:
        return Scope(association_id=None)
    if (
        membership.role == Membership.Role.MANAGER
        and membership.agency.kind == membership.agency.Kind.ASSOCIATION
    ):
        return Scope(association_id=membership.agency_id)
    raise NotAllowed(_("Statistics are for MIPROF, the coordination desk and managers."))


def parse_period(value: str | None, date_field: str) -> Q:
    if not value:
        return Q()
    match = PERIOD.match(value)
    if not match:
        raise ValidationFailed(
            _("Invalid input."),
            fields={"period": [_("A year (2025), a quarter (2025-Q3) or a month (2025-07).")]},
        )
    year = int(match["year"])
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValidationFailed(
            _("Invalid input."),
            fields={"period": [_("A year between 2000 and 2100.")]},
        )
    if match["quarter"]:
        q = int(match["quarter"])
        start, end = date(year, 3 * q - 2, 1), _month_after(year, 3 * q)
    elif match["month"]:
        m = int(match["month"])
        start, end = date(year, m, 1), _month_after(year, m)
    else:
        start, end = date(year, 1, 1), date(year + 1, 1, 1)
    # Local-midnight bounds on the raw column: the index on it stays usable.
    return Q(**{f"{date_field}__gte": _midnight(start), f"{date_field}__lt": _midnight(end)})


def _midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _month_after(year: int, month: int) -> date:
    return date(year + (month == 12), month % 12 + 1, 1)


def base_queryset(*, measure: str, scope: Scope, names: list[str]) -> QuerySet[ReferralFact]:
    """Fact rows in scope: one row per referral, or one per form when the form
    is grouped or filtered by."""
    qs = ReferralFact.objects.all()
    if "exploitation_form" not in names:
        qs = qs.filter(is_primary=True)
    if measure == "cases":
        qs = qs.filter(case_opened_at__isnull=False)
        if scope.association_id is not None:
            qs = qs.filter(case_association_id=scope.association_id)
    elif scope.association_id is not None:
        # A manager's referrals are those with their association now: routed to
        # it and awaiting its answer, or whose case it holds. Not the ones it
        # declined or transferred: their outcome and steps belong to another
        # association's case.
        qs = qs.filter(
            Q(case_association_id=scope.association_id)
            | Exists(
                Routing.objects.filter(
                    referral=OuterRef("referral_id"),
                    association_id=scope.association_id,
                    outcome=RoutingOutcome.PENDING,
                )
            )
        )
    return qs


def parse_by(value: str | None) -> list[str]:
    names = [n.strip() for n in (value or "").split(",") if n.strip()]
    if not names:
        raise ValidationFailed(
            _("Invalid input."), fields={"by": [_("Name one to four dimensions.")]}
        )
    unknown = [n for n in names if n not in DIMENSIONS]
    if unknown:
        raise ValidationFailed(
            _("Invalid input."),
            fields={"by": [_("Unknown dimension: %(names)s.") % {"names": ", ".join(unknown)}]},
        )
    if len(names) > MAX_DIMENSIONS or len(set(names)) != len(names):
        raise ValidationFailed(
            _("Invalid input."), fields={"by": [_("At most four different dimensions.")]}
        )
    return names


def counts(
    *,
    measure: str,
    by: list[str],
    period: str | None,
    filters: dict[str, str],
    scope: Scope,
) -> dict[tuple, int]:
    """{(value per dimension): count of distinct referrals}, grouped in SQL."""
    date_field = MEASURES[measure]
    names = list(dict.fromkeys([*by, *filters]))
    qs = base_queryset(measure=measure, scope=scope, names=names)
    qs = qs.filter(parse_period(period, date_field)).annotate(**relations_for(names))
    annotations: dict[str, Any] = {}
    for name in names:
        annotations.update(DIMENSIONS[name].annotations(date_field))
    qs = qs.annotate(**annotations)
    for name, value in filters.items():
        dimension = DIMENSIONS[name]
        if not dimension.filterable:
            raise ValidationFailed(
                _("Invalid input."), fields={name: [_("Filter periods with `period`.")]}
            )
        qs = qs.filter(**{f"d_{name}": _coerce(name, value)})
    aliases = [alias for name in by for alias in DIMENSIONS[name].annotations(date_field)]
    # One fact row per referral, or per (referral, form) with the form grouped or
    # filtered by: a referral appears once per group. Only the steps join can
    # repeat it (a kind done twice), and only then is COUNT(DISTINCT) needed.
    duplicates = "step_delivered" in names
    rows = qs.order_by().values(*aliases).annotate(n=Count("referral_id", distinct=duplicates))
    result: dict[tuple, int] = {}
    for row in rows:
        key = tuple(DIMENSIONS[name].format(row) for name in by)
        result[key] = result.get(key, 0) + row["n"]
    return result


BOOLEAN_DIMENSIONS = frozenset({"minor", "exploited_abroad_only", "complaint_filed"})


def _coerce(name: str, value: str) -> Any:
    if name in BOOLEAN_DIMENSIONS:
        if value not in ("true", "false"):
            raise ValidationFailed(_("Invalid input."), fields={name: [_("Either true or false.")]})
        return value == "true"
    return value


def table(
    *,
    measure: str,
    by: list[str],
    period: str | None = None,
    filters: dict[str, str] | None = None,
    user: User,
) -> dict[str, Any]:
    """A protected release: cells and totals with small values suppressed."""
    scope = scope_for(user)
    raw = counts(measure=measure, by=by, period=period, filters=filters or {}, scope=scope)
    grid = 1
    for i in range(len(by)):
        grid *= max(1, len({key[i] for key in raw}))
    if grid > MAX_CELLS:
        raise ValidationFailed(
            _("Invalid input."), fields={"by": [_("This crossing is too fine to release.")]}
        )
    threshold = settings.MNR_STATS_THRESHOLD
    if not raw:
        return _release_dict(measure, by, period, filters, scope, None, threshold)
    release = disclosure.protect(disclosure.build(by, raw, threshold=threshold))
    return _release_dict(measure, by, period, filters, scope, release, threshold)


def _release_dict(measure, by, period, filters, scope, release, threshold) -> dict:
    rows, margins = [], []
    if release is not None:
        for key in release.cells():
            value = release.shown(key)
            if release.values[key] == 0:
                continue  # absent = 0 (zeros are never suppressed)
            rows.append(
                {**dict(zip(by, key, strict=True)), "count": value, "suppressed": value is None}
            )
        for key in release.totals():
            value = release.shown(key)
            margins.append(
                {
                    **{name: ("*" if v is None else v) for name, v in zip(by, key, strict=True)},
                    "count": value,
                    "suppressed": value is None,
                }
            )
    multi = [name for name in by if DIMENSIONS[name].multi_valued]
    return {
        "measure": measure,
        "dimensions": by,
        "period": period,
        "filters": filters or {},
        "scope": "national" if scope.association_id is None else "association",
        "threshold": threshold,
        "privacy": "suppression",
        "rows": rows,
        "totals": margins,
        # The several-categories note comes first when there is one (web/charts.py
        # replaces it with the dimensions' names).
        "notes": (
            [
                str(
                    _(
                        "%(dimensions)s: a person may count in several categories; "
                        "totals are sums of cells."
                    )
                    % {"dimensions": ", ".join(multi)}
                )
            ]
            if multi
            else []
        ),
    }


class _Percentile(Aggregate):
    """percentile_cont(fraction) WITHIN GROUP (ORDER BY expr) — PostgreSQL."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression: Any, fraction: float, **extra: Any) -> None:
        super().__init__(expression, fraction=fraction, **extra)


def acceptance_delays(
    *, by: list[str], period: str | None, filters: dict[str, str], user: User
) -> dict[str, Any]:
    """Days from submission to acceptance, median and p90, per cell, computed in
    SQL. A cell's median and p90 are shown only when its count is shown by the
    protected count release (small groups' medians would identify people)."""
    if connection.vendor != "postgresql":
        raise ValidationFailed(
            _("Invalid input."),
            fields={"measure": [_("Delays need PostgreSQL (percentiles in SQL).")]},
        )
    scope = scope_for(user)
    release = table(measure="referrals", by=by, period=period, filters=filters, user=user)
    names = list(dict.fromkeys([*by, *filters]))
    qs = base_queryset(measure="referrals", scope=scope, names=names).filter(
        parse_period(period, "submitted_at"), accepted_at__isnull=False
    )
    qs = qs.annotate(**relations_for(names))
    annotations: dict[str, Any] = {}
    for name in names:
        annotations.update(DIMENSIONS[name].annotations("submitted_at"))
    qs = qs.annotate(**annotations)
    for name, value in filters.items():
        qs = qs.filter(**{f"d_{name}": _coerce(name, value)})
    days = Func(
        F("accepted_at") - F("submitted_at"),
        template="EXTRACT(EPOCH FROM %(expressions)s) / 86400.0",
    )
    aliases = [alias for name in by for alias in DIMENSIONS[name].annotations("submitted_at")]
    rows = (
        qs.order_by()
        .values(*aliases)
        .annotate(median=_Percentile(days, 0.5), p90=_Percentile(days, 0.9))
    )
    delays = {
        tuple(DIMENSIONS[name].format(row) for name in by): (row["median"], row["p90"])
        for row in rows
    }
    for row in release["rows"]:
        key = tuple(row[name] for name in by)
        median, p90 = delays.get(key, (None, None))
        shown = not row["suppressed"] and median is not None
        row["median_days"] = round(median, 1) if shown else None
        row["p90_days"] = round(p90, 1) if shown else None
    release["measure"] = "days_to_acceptance"
    release["notes"] = [
        *release["notes"],
        str(
            _(
                "median_days and p90_days: from submission to acceptance, for cells whose "
                "count is shown."
            )
        ),
    ]
    return release
