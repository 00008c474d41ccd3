"""Differentially private releases (DESIGN §7, optional): counts over a public
grid of categories, noised by OpenDP's Laplace mechanism on integers (no noise of
our own), clamped to non-negative integers (post-processing), under a privacy
budget per user and data period, recorded in PrivacySpend and the access log and
refused once spent. OpenDP is the optional `dp` extra of the package."""

from __future__ import annotations

from itertools import product
from typing import Any

import pycountry
from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency, Departement, Region, User
from cases.models import StepKind
from common.choices import ExploitationForm
from common.errors import Conflict, ValidationFailed
from referral.models import ReferralStatus, Sex

from .dimensions import AGE_GROUPS, DIMENSIONS, world_regions
from .models import PrivacySpend
from .selectors import MAX_CELLS, PERIOD, counts, scope_for


def _periods(name: str, period: str) -> list[Any]:
    match = PERIOD.match(period)
    year = int(match["year"])
    quarters = (
        [int(match["quarter"])]
        if match["quarter"]
        else ([(int(match["month"]) + 2) // 3] if match["month"] else [1, 2, 3, 4])
    )
    months = (
        [int(match["month"])]
        if match["month"]
        else [m for q in quarters for m in range(3 * q - 2, 3 * q + 1)]
    )
    if name == "year":
        return [year]
    if name == "quarter":
        return [f"{year}-Q{q}" for q in quarters]
    return [f"{year}-{m:02d}" for m in months]


def public_domain(name: str, period: str) -> list[Any]:
    """The categories of a dimension, known without looking at the data."""
    if name in ("year", "quarter", "month"):
        return _periods(name, period)
    domains = {
        "exploitation_form": lambda: list(ExploitationForm.values),
        "sex": lambda: list(Sex.values),
        "age_group": lambda: [label for label, _, _ in AGE_GROUPS] + ["45+", "unknown"],
        "minor": lambda: [False, True],
        "nationality": lambda: [*sorted(c.alpha_2 for c in pycountry.countries), "unknown"],
        "world_region": lambda: sorted(world_regions()["regions"]),
        "departement": lambda: (
            [*list(Departement.objects.values_list("code", flat=True)), "unknown"]
        ),
        "region": lambda: [*list(Region.objects.values_list("code", flat=True)), "unknown"],
        "referring_sector": lambda: list(Agency.Sector.values) + list(Agency.Kind.values),
        "outcome": lambda: list(ReferralStatus.values),
        "exploited_abroad_only": lambda: [False, True],
        "complaint_filed": lambda: [False, True],
        "residence_permit": lambda: ["none", "requested", "obtained"],
        "step_delivered": lambda: [*list(StepKind.values), "none"],
    }
    return domains[name]()


def sensitivity(by: list[str]) -> int:
    """L1 sensitivity of the histogram: one person is in one cell, except for
    multi-valued dimensions, where they may be in as many as there are values."""
    result = 1
    for name in by:
        if DIMENSIONS[name].multi_valued:
            result *= len(public_domain(name, "2000"))
    return result


def _opendp():
    try:
        import opendp.prelude as dp
    except ImportError as exc:
        raise ValidationFailed(
            _("Invalid input."),
            fields={
                "privacy": [
                    _("Differential privacy needs OpenDP: install the package's `dp` extra.")
                ]
            },
        ) from exc
    dp.enable_features("contrib")
    return dp


@transaction.atomic
def _spend(user: User, period: str, epsilon: float) -> float:
    """Reserve epsilon from the user's budget for this period, or refuse."""
    User.objects.select_for_update().filter(pk=user.pk).first()  # one spender at a time
    spent = (
        PrivacySpend.objects.filter(user=user, period=period).aggregate(s=Sum("epsilon"))["s"]
        or 0.0
    )
    budget = settings.MNR_DP_BUDGET
    if spent + epsilon > budget + 1e-12:
        raise Conflict(
            _("Privacy budget spent for %(period)s: %(spent)s of %(budget)s used.")
            % {"period": period, "spent": round(spent, 6), "budget": budget}
        )
    PrivacySpend.objects.create(user=user, period=period, epsilon=epsilon)
    return budget - spent - epsilon


def noisy_table(
    *,
    measure: str,
    by: list[str],
    period: str | None,
    filters: dict[str, str],
    user: User,
    epsilon: str | None,
) -> dict[str, Any]:
    errors: dict[str, list] = {}
    try:
        eps = float(epsilon or "")
    except ValueError:
        eps = 0.0
    if not 0 < eps <= settings.MNR_DP_BUDGET:
        errors["epsilon"] = [
            _("A number above 0 and at most %(budget)s.") % {"budget": settings.MNR_DP_BUDGET}
        ]
    if not period or not PERIOD.match(period):
        errors["period"] = [_("A differentially private release needs a period (2025, 2025-Q3…).")]
    if errors:
        raise ValidationFailed(_("Invalid input."), fields=errors)
    dp = _opendp()
    scope = scope_for(user)
    domains = [public_domain(name, period) for name in by]
    grid = list(product(*domains))
    if len(grid) > MAX_CELLS:
        raise ValidationFailed(
            _("Invalid input."), fields={"by": [_("This crossing is too fine to release.")]}
        )
    true = counts(measure=measure, by=by, period=period, filters=filters, scope=scope)
    vector = [int(true.get(cell, 0)) for cell in grid]
    d_in = sensitivity(by)
    mechanism = dp.m.make_laplace(
        dp.vector_domain(dp.atom_domain(T=int)), dp.l1_distance(T=int), scale=d_in / eps
    )
    if mechanism.map(d_in) > eps * (1 + 1e-9):
        raise ValidationFailed(_("Invalid input."), fields={"epsilon": [_("Too small.")]})
    remaining = _spend(user, period, eps)
    noisy = [max(0, int(v)) for v in mechanism(vector)]
    rows = [
        {**dict(zip(by, cell, strict=True)), "count": value, "suppressed": False}
        for cell, value in zip(grid, noisy, strict=True)
    ]
    totals: dict[tuple, int] = {}
    for cell, value in zip(grid, noisy, strict=True):
        for i in range(len(by)):
            key = (*cell[:i], "*", *cell[i + 1 :])
            totals[key] = totals.get(key, 0) + value
    return {
        "measure": measure,
        "dimensions": by,
        "period": period,
        "filters": filters,
        "scope": "national" if scope.association_id is None else "association",
        "threshold": None,
        "privacy": "dp",
        "epsilon": eps,
        "budget_remaining": round(remaining, 6),
        "mechanism": f"OpenDP Laplace on integers, scale {d_in / eps:g}, L1 sensitivity {d_in}",
        "rows": rows,
        "totals": [
            {**dict(zip(by, key, strict=True)), "count": value, "suppressed": False}
            for key, value in totals.items()
        ],
        "notes": [str(_("Counts carry random noise; totals are sums of the noisy cells."))],
    }
