"""Working days: Monday to Friday. Public holidays are not counted out (a
deadline that falls the day after one is a day short): documented in
docs/identification.md."""

from __future__ import annotations

from datetime import date, datetime, timedelta


def add_working_days(start: datetime, days: int) -> datetime:
    """``start`` moved forward by ``days`` working days, at the same time of day
    (from a Saturday or Sunday, counting starts on the Monday)."""
    moment = start
    left = days
    while left > 0:
        moment += timedelta(days=1)
        if moment.weekday() < 5:
            left -= 1
    return moment


def working_days_between(start: date, end: date) -> int:
    """Working days after ``start`` up to and including ``end`` (0 if end <= start)."""
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        if day.weekday() < 5:
            count += 1
    return count
