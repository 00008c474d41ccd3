"""Deployment checks of the statistics' protection (``check --deploy``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def stats_protection(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    errors = []
    if settings.MNR_STATS_THRESHOLD < 10:
        errors.append(
            Error(
                "MNR_STATS_THRESHOLD is under 10: small counts would be published.",
                id="mnr.E101",
            )
        )
    if not settings.MNR_STATS_PERTURB:
        errors.append(
            Error(
                "MNR_STATS_PERTURB is off: statistics would be released without the cell-key "
                "perturbation.",
                id="mnr.E102",
            )
        )
    return errors
