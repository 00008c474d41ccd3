"""Referral references: MNR-YYYY-NNNNNN, one sequence per year."""

from __future__ import annotations

from django.db import IntegrityError, connection, transaction

from ..models import ReferenceCounter


def next_reference(year: int) -> str:
    """MNR-YYYY-NNNNNN, sequential per year: one atomic increment of the year's
    counter row, which stays locked until the submission commits, so simultaneous
    submissions never collide (and a rolled-back submission leaves no gap)."""
    increment = (
        f"UPDATE {ReferenceCounter._meta.db_table} SET last = last + 1 "  # noqa: S608
        "WHERE year = %s RETURNING last"
    )
    with connection.cursor() as cursor:
        cursor.execute(increment, [year])
        row = cursor.fetchone()
        if row is None:
            try:
                with transaction.atomic():
                    ReferenceCounter.objects.create(year=year, last=0)
            except IntegrityError:
                pass  # created by a simultaneous submission
            cursor.execute(increment, [year])
            row = cursor.fetchone()
    return f"MNR-{year}-{row[0]:06d}"
