"""What every page's layout needs: the person's membership and navigation."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from agencies.selectors import membership_of

from .navigation import navigation_for


def navigation(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    membership = membership_of(user) if user is not None and user.is_authenticated else None
    return {
        "mnr_membership": membership,
        "mnr_navigation": navigation_for(membership) if membership else [],
        "mnr_demo_mode": settings.MNR_DEMO_MODE,
    }
