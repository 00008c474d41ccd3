"""Named reports: the tables of France's yearly survey of victims followed by
associations, and the layout of the UK's quarterly NRM statistics. Each table is
an ordinary protected release: the same cell shows the same figure in a report,
in a free crossing and on the pages (stats.cellkey)."""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext_lazy as _

from agencies.models import User
from common.errors import NotFound, ValidationFailed

from .periods import MAX_YEAR, MIN_YEAR
from .selectors import table

SURVEY = [
    ("identified_by_form", "referrals", ["exploitation_form"], {}),
    ("supported_by_form", "cases", ["exploitation_form"], {}),
    ("sex_by_form", "referrals", ["sex", "exploitation_form"], {}),
    ("minors_by_form", "referrals", ["minor", "exploitation_form"], {}),
    ("exploited_abroad_only", "referrals", ["exploited_abroad_only"], {}),
    ("complaint_filed", "cases", ["complaint_filed"], {}),
]
UK_NRM = [
    ("by_referring_sector", "referrals", ["referring_sector"], {}),
    ("by_exploitation_type", "referrals", ["exploitation_form"], {}),
    ("by_age_group", "referrals", ["age_group"], {}),
    ("by_sex", "referrals", ["sex"], {}),
    ("by_nationality", "referrals", ["nationality"], {}),
    # Reasonable grounds (the preliminary identification) and conclusive grounds
    # (the formal one): outcomes, negative reasons, working days to the decision,
    # of the quarter's referrals (a cohort, not the decisions of the quarter).
    ("reasonable_grounds", "referrals", ["preliminary_outcome"], {}),
    ("reasonable_grounds_by_age", "referrals", ["preliminary_outcome", "minor"], {}),
    (
        "reasonable_grounds_negative_reasons",
        "referrals",
        ["negative_reason"],
        {"preliminary_outcome": "negative"},
    ),
    ("reasonable_grounds_time", "referrals", ["preliminary_days"], {}),
    ("conclusive_grounds", "referrals", ["formal_outcome"], {}),
    ("conclusive_grounds_by_age", "referrals", ["formal_outcome", "minor"], {}),
    (
        "conclusive_grounds_negative_reasons",
        "referrals",
        ["negative_reason"],
        {"formal_outcome": "not_identified"},
    ),
    ("conclusive_grounds_time", "referrals", ["formal_days"], {}),
    ("awaiting_decision", "referrals", ["pending_age"], {}),
]
REPORTS = {"survey": (SURVEY, "year"), "uk-nrm": (UK_NRM, "quarter")}


def report(*, name: str, period: str | None, user: User) -> dict[str, Any]:
    if name not in REPORTS:
        raise NotFound()
    tables, period_kind = REPORTS[name]
    pattern = r"^\d{4}$" if period_kind == "year" else r"^\d{4}-Q[1-4]$"
    if not period or not re.match(pattern, period) or not MIN_YEAR <= int(period[:4]) <= MAX_YEAR:
        example = "2025" if period_kind == "year" else "2025-Q3"
        raise ValidationFailed(
            _("Invalid input."),
            fields={
                period_kind: [
                    _("Give the %(kind)s, e.g. %(example)s.")
                    % {"kind": period_kind, "example": example}
                ]
            },
        )
    return {
        "report": name,
        "period": period,
        "tables": {
            key: table(measure=measure, by=by, period=period, filters=filters, user=user)
            for key, measure, by, filters in tables
        },
    }
