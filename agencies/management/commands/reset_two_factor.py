"""Remove a person's second-factor devices after they lost their phone and
their recovery codes; they enrol again at their next sign-in. Logged."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from agencies.models import User
from agencies.signin import two_factor_reset
from agencies.system import system_user
from common.errors import ValidationFailed


class Command(BaseCommand):
    help = "Reset a person's two-factor authentication (lost authenticator and recovery codes)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username")
        parser.add_argument("--reason", required=True, help="Why (kept in the access log).")

    def handle(self, *args: Any, username: str, reason: str, **options: Any) -> None:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        try:
            removed = two_factor_reset(user=user, actor=system_user(), reason=reason)
        except ValidationFailed as exc:
            raise CommandError(str(exc.fields)) from exc
        self.stdout.write(
            f"{removed} device(s) removed; {username} enrols again at the next sign-in."
        )
