"""Report every object permission that disagrees with ownership; exit 1 if any."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from identification.grant_check import grant_problems


class Command(BaseCommand):
    help = "Report grants on referrals, cases and identification files that disagree with the process (routings, ownership, escalations, transfers, shares, units, memberships)."

    def handle(self, *args: Any, **options: Any) -> None:
        problems = list(grant_problems())
        for problem in problems:
            self.stdout.write(problem)
        if problems:
            raise CommandError(f"{len(problems)} grant(s) disagree with ownership.")
        self.stdout.write(self.style.SUCCESS("All grants agree with ownership."))
