"""Receivers of Django's authentication signals (audit, not domain logic)."""

from __future__ import annotations

from typing import Any

from .models import AccessAction
from .services import access_log_write


def on_login_failed(sender: Any, credentials: dict, request: Any = None, **kwargs: Any) -> None:
    # Django masks the password in credentials; keep only the username tried.
    username = str(credentials.get("username", ""))[:150]
    access_log_write(action=AccessAction.LOGIN_FAILED, username=username, target_type="user")
