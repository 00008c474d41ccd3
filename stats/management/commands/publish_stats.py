"""Publish the statistics now (the monthly job does it on the 1st): every
release is computed from the publication until the next one."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from stats.services import stats_publish


class Command(BaseCommand):
    help = "Publish the statistics: freeze the current figures until the next publication."

    def handle(self, *args: Any, **options: Any) -> None:
        publication = stats_publish()
        self.stdout.write(
            f"Statistics published: {publication.referrals} referrals, {publication.rows} rows."
        )
