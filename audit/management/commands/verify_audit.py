"""Verify the access log's hash chain; name the first broken link (exit 1)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from audit.services import verify_chain


class Command(BaseCommand):
    help = "Verify the hash chain of the access log."

    def handle(self, *args: Any, **options: Any) -> None:
        report = verify_chain()
        if not report.ok:
            raise CommandError(
                f"Access log chain BROKEN after checking {report.checked} entries: {report.reason} "
                f"(first broken link: {report.first_broken_id})."
            )
        self.stdout.write(self.style.SUCCESS(f"Access log chain intact: {report.checked} entries."))
