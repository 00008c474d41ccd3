"""Pseudonymise cases closed longer ago than MNR_RETENTION_YEARS."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from audit.retention import apply_retention, cases_due


class Command(BaseCommand):
    help = "Pseudonymise cases closed longer ago than the retention period (MNR_RETENTION_YEARS)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Only count the cases due.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["dry_run"]:
            self.stdout.write(f"{cases_due().count()} case(s) due for pseudonymisation.")
            return
        done = apply_retention()
        self.stdout.write(self.style.SUCCESS(f"{done} case(s) pseudonymised."))
