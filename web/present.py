"""How values are shown to people: enumeration codes as their labels,
indicators by their text, départements by name, dates as dd/mm/yyyy, in the
page's language. One place for the pages (and, later, exports) to use."""

from __future__ import annotations

from datetime import date

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from referral import indicators

from .forms import referral as rf


def labels(choices, codes: list[str]) -> list[str]:
    names = dict(choices)
    return [str(names.get(code, code)) for code in codes]


def indicator_labels(codes: list[str], version: str) -> list[str]:
    lang = "fr" if (get_language() or "fr").startswith("fr") else "en"
    by_code = indicators.load(version)["_by_code"]
    return [by_code[c]["label"][lang] if c in by_code else c for c in codes]


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
