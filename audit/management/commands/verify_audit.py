"""Verify the access log: its HMAC chain, its head and the signed checkpoints
kept outside the database; name the first bad entry (exit 1)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from audit.services import verify_chain


class Command(BaseCommand):
    help = (
        "Verify the access log: every entry's HMAC link, the chain head, and the signed "
        "checkpoints (MNR_AUDIT_CHECKPOINT_DIR). Exit 1 on the first inconsistency."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--require-checkpoint",
            action="store_true",
            help="Fail when there is no checkpoint yet (otherwise a warning).",
        )
        parser.add_argument(
            "--max-checkpoint-age",
            type=int,
            default=60,
            metavar="MINUTES",
            help="Warn when the last checkpoint is older than this (0: never). Default 60.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        age = options["max_checkpoint_age"]
        report = verify_chain(
            require_checkpoint=options["require_checkpoint"],
            max_checkpoint_age=timedelta(minutes=age) if age > 0 else None,
        )
        for warning in report.warnings:
            self.stderr.write(self.style.WARNING(f"Warning: {warning}."))
        if not report.ok:
            raise CommandError(
                f"Access log chain BROKEN after checking {report.checked} entries: {report.reason} "
                f"(first broken link: {report.first_broken_id})."
            )
        last = report.last_checkpoint
        pinned = (
            f" {report.checkpoints} checkpoint(s) verified, the last at entry {last.last_id} "
            f"({last.describe()})."
            if last
            else ""
        )
        self.stdout.write(
            self.style.SUCCESS(f"Access log chain intact: {report.checked} entries.{pinned}")
        )
