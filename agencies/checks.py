"""Deployment checks of how people sign in (``check --deploy``): production
cannot run as the demo. Demo mode turns the second factor off and lists the
demo accounts on the sign-in page; debug shows settings and stack traces."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def not_the_demo(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    errors = []
    if settings.MNR_DEMO_MODE:
        errors.append(
            Error(
                "MNR_DEMO_MODE is on: the second factor is off and the sign-in page lists "
                "the demo accounts.",
                hint="Unset MNR_DEMO_MODE; only `make demo` (config.settings_dev) sets it.",
                id="mnr.E103",
            )
        )
    if settings.DEBUG:
        errors.append(
            Error(
                "DEBUG is on: error pages would show settings and personal data.",
                hint="Unset DJANGO_DEBUG and use DJANGO_SETTINGS_MODULE=config.settings.",
                id="mnr.E104",
            )
        )
    return errors


@register(Tags.security)
def keys_are_strong(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """The settings refuse bad keys when they load; this check sees keys set any
    other way (a settings module of one's own, an override) and runs in `check`
    and `check --deploy` alike."""
    from common import keys

    tests = [
        ("MNR_BLIND_INDEX_KEY", keys.check_secret),
        ("MNR_AUDIT_CHAIN_KEY", keys.check_secret),
        ("MNR_AUDIT_SIGNING_KEY", keys.check_signing_key),
    ]
    errors = []
    try:
        keys.check_fernet_keys("MNR_FIELD_ENCRYPTION_KEYS", settings.MNR_FIELD_ENCRYPTION_KEYS)
    except keys.WeakKey as exc:
        errors.append(Error(str(exc), id="mnr.E105"))
    for name, check in tests:
        try:
            check(name, getattr(settings, name, ""))
        except keys.WeakKey as exc:
            errors.append(Error(str(exc), id="mnr.E105"))
    return errors
