"""Parsing of numbers written by clients (query strings, headers, path parts).

``str.isdigit`` is true for "²" or "١٢" (which ``int`` rejects or reads as
another number) and ``int`` accepts numbers no database column holds: input that
passed such checks answered 500. Everything a request says is a number goes
through here: ASCII digits only, and within PostgreSQL's ``bigint``.
"""

from __future__ import annotations

import re

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field

BIGINT_MAX = 2**63 - 1  # the largest id a BigAutoField (PostgreSQL bigint) holds
_DIGITS = re.compile(r"[0-9]{1,19}")


def parse_int(value: str | None, *, minimum: int = 0, maximum: int = BIGINT_MAX) -> int | None:
    """The whole number ``value`` writes in ASCII digits, if it lies within
    [minimum, maximum]; otherwise None. No sign, space, exponent or other digits."""
    if value is None or not _DIGITS.fullmatch(value):
        return None
    number = int(value)
    return number if minimum <= number <= maximum else None


def parse_id(value: str | None) -> int | None:
    """A database id (1 to BIGINT_MAX) written in ASCII digits, else None."""
    return parse_int(value, minimum=1)


class IdFormField(forms.CharField):
    """A form field for an id typed by a client: cleans to ``int`` or refuses it
    with a field error (what ``IdFilter`` parses with)."""

    default_error_messages = {"invalid": _("Give an id: a whole number from 1.")}

    def to_python(self, value: object) -> int | None:
        text = super().to_python(value)
        if text in self.empty_values:
            return None
        number = parse_id(text)
        if number is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return number


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": BIGINT_MAX})
class IdFilter(django_filters.Filter):
    """A django-filter filter on an id column: `?agency=12`; anything else is a
    400 naming the parameter (NumberFilter took `1.5`, `1e3` and 2**64)."""

    field_class = IdFormField
