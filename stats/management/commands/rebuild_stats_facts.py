"""Recompute the statistics table (stats.ReferralFact) from the records, or with
--check only report the referrals whose rows differ (exit status 1 if any)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from stats.services import facts_drift, facts_rebuild


class Command(BaseCommand):
    help = "Recompute the statistics table from the records (--check: report drift only)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--check", action="store_true", help="Report out-of-date rows, change nothing."
        )

    def handle(self, *args: Any, check: bool = False, **options: Any) -> None:
        if check:
            drifted = facts_drift()
            if drifted:
                raise CommandError(
                    f"{len(drifted)} referrals have out-of-date statistics rows "
                    f"(first ids: {', '.join(map(str, drifted[:10]))})."
                )
            self.stdout.write("Statistics table up to date.")
            return
        rows = facts_rebuild()
        self.stdout.write(f"Statistics table rebuilt: {rows} rows.")
