"""Receivers of Django's authentication signals (audit, not domain logic)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model

from .models import AccessAction
from .services import access_log_write, unknown_username


def on_login_failed(sender: Any, credentials: dict, request: Any = None, **kwargs: Any) -> None:
    # Django masks the password in credentials; the username is recorded only
    # when it is an account's, otherwise as a keyed hash (never the typed text).
    typed = str(credentials.get("username", ""))
    user = get_user_model()._default_manager.filter(username=typed).only("pk", "username").first()
    if user is not None:
        access_log_write(
            action=AccessAction.LOGIN_FAILED,
            username=user.get_username(),
            target_type="user",
            target_id=user.pk,
        )
    else:
        access_log_write(
            action=AccessAction.LOGIN_FAILED, username=unknown_username(typed), target_type="user"
        )
