"""Periods of the statistics: a year (2025), a quarter (2025-Q3) or a month
(2025-07), in the project's time zone."""

from __future__ import annotations

import re
from datetime import date, datetime, time

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from common.errors import ValidationFailed

MIN_YEAR, MAX_YEAR = 2000, 2100
PERIOD = re.compile(r"^(?P<year>\d{4})(?:-(?:Q(?P<quarter>[1-4])|(?P<month>0[1-9]|1[0-2])))?$")


def check_period(value: str | None) -> str | None:
    """The period as given, or a 400 on ``period``."""
    if not value:
        return None
    match = PERIOD.match(value)
    if not match:
        raise ValidationFailed(
            _("Invalid input."),
            fields={"period": [_("A year (2025), a quarter (2025-Q3) or a month (2025-07).")]},
        )
    if not MIN_YEAR <= int(match["year"]) <= MAX_YEAR:
        raise ValidationFailed(
            _("Invalid input."),
            fields={"period": [_("A year between 2000 and 2100.")]},
        )
    return value


def period_q(value: str | None, date_field: str) -> Q:
    """The rows of the period, on the raw date column (its index stays usable)."""
    value = check_period(value)
    if not value:
        return Q()
    match = PERIOD.match(value)
    year = int(match["year"])
    if match["quarter"]:
        q = int(match["quarter"])
        start, end = date(year, 3 * q - 2, 1), _month_after(year, 3 * q)
    elif match["month"]:
        m = int(match["month"])
        start, end = date(year, m, 1), _month_after(year, m)
    else:
        start, end = date(year, 1, 1), date(year + 1, 1, 1)
    return Q(**{f"{date_field}__gte": _midnight(start), f"{date_field}__lt": _midnight(end)})


def _midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _month_after(year: int, month: int) -> date:
    return date(year + (month == 12), month % 12 + 1, 1)
