"""Anonymised aggregates (docs/statistics.md).

Every release is computed from the current publication (stats.models.
PublishedFact), grouped and counted in SQL, and protected by the cell-key method
(stats.cellkey) before anything leaves: the whole grid of the dimensions'
domains, each cell and each total published as a perturbed figure or as "under
the threshold". No row-level record, no personal field: only dimension values
and figures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from itertools import product
from typing import Any

from django.db import connection
from django.db.models import Aggregate, Count, F, FloatField, Func, Q, QuerySet, Sum
from django.utils.translation import gettext_lazy as _

from agencies.models import Membership, User
from agencies.selectors import membership_of
from common.errors import NotAllowed, ValidationFailed

from . import cellkey
from .dimensions import DIMENSIONS
from .domains import check_filter, check_grid, public_domain
from .models import Publication, PublishedFact
from .periods import check_period, period_q

MAX_DIMENSIONS = 4
MEASURES = {"referrals": "submitted_at", "cases": "case_opened_at"}
NATIONAL_ROLES = (Membership.Role.ANALYST, Membership.Role.COORDINATOR)
TOTAL = "*"

Cell = tuple  # one value per grouped dimension
Figures = dict[Cell, tuple[int, int]]  # cell -> (count, sum of record keys)


@dataclass(frozen=True)
class Scope:
    """What figures the user may see: national, or their association's."""

    association_id: int | None


def scope_for(user: User) -> Scope:
    membership = membership_of(user)
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


def base_queryset(*, measure: str, scope: Scope, names: list[str]) -> QuerySet[PublishedFact]:
    """Published rows in scope: one row per referral, or one per form when the
    form is grouped or filtered by."""
    qs = PublishedFact.objects.all()
    if "exploitation_form" not in names:
        qs = qs.filter(is_primary=True)
    if measure == "cases":
        qs = qs.filter(case_opened_at__isnull=False)
        if scope.association_id is not None:
            qs = qs.filter(case_association_id=scope.association_id)
    elif scope.association_id is not None:
        # A manager's referrals are those with their association at publication:
        # awaiting its answer, or whose case it holds. Not the ones it declined
        # or transferred: their outcome and steps belong to another's case.
        qs = qs.filter(
            Q(case_association_id=scope.association_id)
            | Q(pending_association_id=scope.association_id)
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


def check_filters(filters: dict[str, str]) -> dict[str, Any]:
    """Filters as the dimensions hold them; 400 naming the field otherwise."""
    checked = {}
    for name, value in filters.items():
        if not DIMENSIONS[name].filterable:
            raise ValidationFailed(
                _("Invalid input."), fields={name: [_("Filter periods with `period`.")]}
            )
        checked[name] = check_filter(name, value)
    return checked


def _filtered(
    *, measure: str, names: list[str], period: str | None, filters: dict[str, Any], scope: Scope
) -> QuerySet[PublishedFact]:
    date_field = MEASURES[measure]
    qs = base_queryset(measure=measure, scope=scope, names=names).filter(
        period_q(period, date_field)
    )
    annotations: dict[str, Any] = {}
    for name in names:
        annotations.update(DIMENSIONS[name].annotations(date_field))
    qs = qs.annotate(**annotations)
    for name, value in filters.items():
        qs = qs.filter(**{f"d_{name}": value})
    return qs


def figures(
    *,
    measure: str,
    by: list[str],
    period: str | None,
    filters: dict[str, Any],
    scope: Scope,
) -> Figures:
    """{(value per dimension): (count of referrals, sum of their record keys)},
    grouped in SQL. A referral is counted once per group: one published row per
    referral, or per form when the form is grouped or filtered by, and one per
    kind of step delivered."""
    return _figures(measure=measure, by=by, period=period, filters=filters, scope=scope)[0]


def _figures(
    *,
    measure: str,
    by: list[str],
    period: str | None,
    filters: dict[str, Any],
    scope: Scope,
) -> tuple[Figures, Figures | None]:
    """The figures, and — when the form is grouped by, one row per form — the
    same over each referral's primary row only, from which the groupings without
    the form are summed (each referral has one primary row: counted once)."""
    names = list(dict.fromkeys([*by, *filters]))
    qs = _filtered(measure=measure, names=names, period=period, filters=filters, scope=scope)
    date_field = MEASURES[measure]
    aliases = [alias for name in by for alias in DIMENSIONS[name].annotations(date_field)]
    if not aliases:  # the grand total: one aggregate, no grouping
        total = qs.order_by().aggregate(n=Count("referral_id"), s=Sum("record_key"))
        return ({(): (total["n"], int(total["s"] or 0))} if total["n"] else {}), None
    with_primary = "exploitation_form" in by and "exploitation_form" not in filters
    aggregates: dict[str, Any] = {"n": Count("referral_id"), "s": Sum("record_key")}
    if with_primary:
        primary = Q(is_primary=True)
        aggregates |= {
            "n1": Count("referral_id", filter=primary),
            "s1": Sum("record_key", filter=primary),
        }
    result: Figures = {}
    primaries: Figures = {}
    for row in qs.order_by().values(*aliases).annotate(**aggregates):
        key = tuple(DIMENSIONS[name].format(row) for name in by)
        n, s = result.get(key, (0, 0))
        result[key] = (n + row["n"], s + int(row["s"] or 0))
        if with_primary:
            n, s = primaries.get(key, (0, 0))
            primaries[key] = (n + row["n1"], s + int(row["s1"] or 0))
    return result, (primaries if with_primary else None)


def _summed(rows: Figures, finer: tuple[str, ...], names: tuple[str, ...]) -> Figures:
    positions = [finer.index(n) for n in names]
    summed: Figures = {}
    for key, (n, s) in rows.items():
        sub = tuple(key[i] for i in positions)
        count, keys = summed.get(sub, (0, 0))
        summed[sub] = (count + n, keys + s)
    return summed


class _Groups:
    """The figures of every grouping a release needs (its cells, each margin,
    the grand total). A grouping is summed from a finer one already computed
    when the dimensions summed over are single-valued (a referral is in one of
    their categories: same records, same count, same key sum) or are the form,
    summed over primary rows; otherwise it is counted in SQL, so that each
    person counts once."""

    def __init__(self, *, measure: str, period: str | None, filters: dict, scope: Scope) -> None:
        self.arguments = {"measure": measure, "period": period, "filters": filters, "scope": scope}
        self.done: dict[tuple[str, ...], Figures] = {}
        self.primary: dict[tuple[str, ...], Figures] = {}

    def get(self, names: tuple[str, ...]) -> Figures:
        if names in self.done:
            return self.done[names]
        for finer, rows in list(self.done.items()):
            if not set(names) <= set(finer):
                continue
            extra = [n for n in finer if n not in names]
            multi = [n for n in extra if DIMENSIONS[n].multi_valued]
            if not multi:
                self.done[names] = _summed(rows, finer, names)
                return self.done[names]
            if multi == ["exploitation_form"] and finer in self.primary:
                self.done[names] = _summed(self.primary[finer], finer, names)
                return self.done[names]
        self.done[names], primary = _figures(by=list(names), **self.arguments)
        if primary is not None:
            self.primary[names] = primary
        return self.done[names]


def publication_time() -> datetime | None:
    """When the figures every release is computed from were published."""
    return Publication.objects.values_list("published_at", flat=True).first()


def table(
    *,
    measure: str,
    by: list[str],
    period: str | None = None,
    filters: dict[str, str] | None = None,
    user: User,
) -> dict[str, Any]:
    """A protected release: every cell of the grid, every total, each a
    perturbed figure or None (under the threshold)."""
    scope = scope_for(user)
    period = check_period(period)
    checked = check_filters(filters or {})
    check_grid(by, period)  # before any figure is computed
    domains = [public_domain(name, period) for name in by]
    groups = _Groups(measure=measure, period=period, filters=checked, scope=scope)
    names = tuple(by)
    cells = groups.get(names)

    def entry(values: dict[str, Any], figure: tuple[int, int]) -> dict[str, Any]:
        shown = cellkey.published(*figure)
        return {**values, "count": shown, "suppressed": shown is None}

    rows = [
        entry(dict(zip(by, key, strict=True)), cells.get(key, (0, 0))) for key in product(*domains)
    ]
    totals = []
    margins = [names[:i] + names[i + 1 :] for i in range(len(names))]
    if len(names) > 1:
        margins.append(())
    for margin in margins:
        found = groups.get(margin)
        for key in product(*(domains[by.index(n)] for n in margin)):
            values = {n: (key[margin.index(n)] if n in margin else TOTAL) for n in by}
            totals.append(entry(values, found.get(key, (0, 0))))
    published_at = publication_time()
    return {
        "measure": measure,
        "dimensions": by,
        "period": period,
        "filters": filters or {},
        "scope": "national" if scope.association_id is None else "association",
        "privacy": "cell-key",
        "threshold": cellkey.threshold(),
        "max_noise": cellkey.MAX_NOISE,
        "published_at": published_at.isoformat() if published_at else None,
        "rows": rows,
        "totals": totals,
        "notes": _notes(by),
    }


def _notes(by: list[str]) -> list[str]:
    """The several-categories note first when there is one (web/charts.py
    replaces it with the dimensions' names), then how the figures are protected."""
    multi = [name for name in by if DIMENSIONS[name].multi_valued]
    notes = []
    if multi:
        notes.append(
            str(
                _(
                    "%(dimensions)s: a person may count in several categories; "
                    "totals count each person once."
                )
                % {"dimensions": ", ".join(multi)}
            )
        )
    notes.append(str(protection_note()))
    return notes


def protection_note() -> str:
    return str(
        _(
            "To keep people anonymous, every figure is moved by a small fixed amount (at most "
            "%(noise)s either way) and figures under %(k)s are not shown, so totals may differ "
            "from the sum of their cells."
        )
        % {"noise": cellkey.MAX_NOISE, "k": cellkey.threshold()}
    )


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
    SQL over the cell's accepted referrals. They are shown only when the number
    of accepted referrals they are computed from is itself shown under the same
    rule (its perturbed figure reaches the threshold) and truly reaches it, in
    whole days: a median of a few people would describe them."""
    if connection.vendor != "postgresql":
        raise ValidationFailed(
            _("Invalid input."),
            fields={"measure": [_("Delays need PostgreSQL (percentiles in SQL).")]},
        )
    release = table(measure="referrals", by=by, period=period, filters=filters, user=user)
    scope = scope_for(user)
    checked = check_filters(filters)
    names = list(dict.fromkeys([*by, *checked]))
    qs = _filtered(
        measure="referrals", names=names, period=period, filters=checked, scope=scope
    ).filter(accepted_at__isnull=False)
    days = Func(
        F("accepted_at") - F("submitted_at"),
        template="EXTRACT(EPOCH FROM %(expressions)s) / 86400.0",
    )
    aliases = [alias for name in by for alias in DIMENSIONS[name].annotations("submitted_at")]
    rows = (
        qs.order_by()
        .values(*aliases)
        .annotate(
            n=Count("referral_id"),
            s=Sum("record_key"),
            median=_Percentile(days, 0.5),
            p90=_Percentile(days, 0.9),
        )
    )
    delays = {tuple(DIMENSIONS[name].format(row) for name in by): row for row in rows}
    k = cellkey.threshold()
    for row in release["rows"]:
        found = delays.get(tuple(row[name] for name in by))
        n, s = (found["n"], int(found["s"] or 0)) if found else (0, 0)
        accepted = cellkey.published(n, s)
        shown = accepted is not None and n >= k
        row["accepted_count"] = accepted
        row["median_days"] = round(found["median"]) if shown else None
        row["p90_days"] = round(found["p90"]) if shown else None
    release["measure"] = "days_to_acceptance"
    release["notes"] = [
        *release["notes"],
        str(
            _(
                "median_days and p90_days: whole days from submission to acceptance, shown "
                "when the number of accepted referrals they describe (accepted_count) is shown."
            )
        ),
    ]
    return release
