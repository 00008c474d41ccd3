"""State changes of history-tracked models, in one place.

Allowed transitions are declared next to each model (``ALLOWED_TRANSITIONS``);
``transition`` is the one helper that checks them, sets the new state and the
fields that go with it, bumps the optimistic-concurrency version where the model
has one, stamps the history user and saves. ``save_by`` is the same save for
changes that are not transitions. Neither is ever a ``QuerySet.update``, which
would write no history row (tests/test_history_writes.py refuses those).
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from .errors import InvalidTransition


def ensure_transition(obj: Any, *, to: str, field_name: str = "status") -> None:
    """Refuse (409) a move the model does not declare; changes nothing."""
    current = getattr(obj, field_name)
    if to not in obj.ALLOWED_TRANSITIONS.get(current, set()):
        raise InvalidTransition(
            _("Impossible from the current state (%(current)s).") % {"current": current}
        )


def _has_field(obj: models.Model, name: str) -> bool:
    return any(f.name == name for f in obj._meta.concrete_fields)


def save_by(obj: models.Model, *, actor: Any, update_fields: list[str] | None = None) -> None:
    """Save with ``actor`` as the history row's user (services run without a
    request, so the middleware fallback cannot be relied on)."""
    obj._history_user = actor
    if update_fields is not None and _has_field(obj, "updated_at"):
        update_fields = [*update_fields, "updated_at"]
    obj.save(update_fields=update_fields)


def transition(
    obj: models.Model, *, to: str, actor: Any, field_name: str = "status", **changes: Any
) -> None:
    """Move ``obj`` to state ``to`` (InvalidTransition when not declared), set
    the ``changes`` that go with it (dates, who decided, reasons), bump
    ``version`` when the model has one, and save those fields only, with
    ``actor`` in the history."""
    ensure_transition(obj, to=to, field_name=field_name)
    setattr(obj, field_name, to)
    for name, value in changes.items():
        setattr(obj, name, value)
    fields = [field_name, *changes]
    if _has_field(obj, "version"):
        obj.version += 1
        fields.append("version")
    save_by(obj, actor=actor, update_fields=fields)
