"""The named system user that automatic actions (Celery tasks, sweeps) are
recorded under in history and audit."""

from __future__ import annotations

from .models import User

SYSTEM_USERNAME = "mnr-system"


def system_user() -> User:
    user, created = User.objects.get_or_create(
        username=SYSTEM_USERNAME,
        defaults={"is_active": False, "first_name": "MNR", "last_name": "system"},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user
