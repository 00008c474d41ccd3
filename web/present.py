"""How values are shown to people: enumeration codes as their labels,
indicators by their text, départements by name, dates as dd/mm/yyyy, in the
page's language. One place for the pages (and, later, exports) to use."""

from __future__ import annotations

from datetime import date

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from referral import indicators
from referral import selectors as referral_selectors

from .forms import referral as rf


def labels(choices, codes: list[str]) -> list[str]:
    names = dict(choices)
    return [str(names.get(code, code)) for code in codes]


def indicator_labels(codes: list[str], version: str) -> list[str]:
    lang = "fr" if (get_language() or "fr").startswith("fr") else "en"
    by_code = indicators.load(version)["_by_code"]
    return [by_code[c]["label"][lang] if c in by_code else c for c in codes]


def indicator_summary(referral) -> list[dict]:
    """The referral's indicators counted by dimension for the person's public,
    each dimension by its label: [{"label": …, "row": DimensionSummary}]."""
    localised = indicators.localised(referral.indicator_list_version, get_language() or "fr")
    dimensions = {d["code"]: d["label"] for d in localised["dimensions"]}
    return [
        {"label": dimensions.get(row.dimension, row.dimension), "row": row}
        for row in referral_selectors.referral_indicator_summary(referral)
    ]


def departement_label(code: str | None) -> str:
    if not code:
        return ""
    return dict(rf._departements()).get(code, code)


def date_of_birth(value: str) -> str:
    """Stored as an ISO date string (encrypted field); shown as dd/mm/yyyy."""
    try:
        return date.fromisoformat(value).strftime("%d/%m/%Y") if value else ""
    except ValueError:
        return value


def yes_no(value: bool) -> str:
    return _("Yes") if value else _("No")
