"""Pseudonymise what is past the retention period (records/retention.py)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from records.retention import apply_retention, cases_due, referrals_due


class Command(BaseCommand):
    help = (
        "Erase everything personal of cases closed, and referrals without a case idle, "
        "longer than the retention period (MNR_RETENTION_YEARS)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Only count what is due.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["dry_run"]:
            self.stdout.write(
                f"{cases_due().count()} case(s) and {referrals_due().count()} referral(s) "
                "without a case due for pseudonymisation."
            )
            return
        done = apply_retention()
        self.stdout.write(self.style.SUCCESS(f"{done} record(s) pseudonymised."))
