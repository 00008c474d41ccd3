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
