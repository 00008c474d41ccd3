"""The one place where allowed state transitions (declared next to each model as
ALLOWED_TRANSITIONS) are enforced."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from .errors import InvalidTransition


def ensure_transition(obj: Any, *, to: str, field_name: str = "status") -> None:
    current = getattr(obj, field_name)
    if to not in obj.ALLOWED_TRANSITIONS.get(current, set()):
        raise InvalidTransition(
            _("Impossible from the current state (%(current)s).") % {"current": current}
        )
