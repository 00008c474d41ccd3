"""Who may open a page: role checks from agencies' membership selector.

Views never hold a rule of their own: these decorators only say which members a
page is *for* (a wrong-role visitor gets the 403 page, logged like the API's
refusals); what each person may see or do on it comes from the domain selectors
and services, which raise NotFound / NotAllowed (see web/errors.py).

Usage (function views)::

    @member_required(roles={Role.REFERRER})
    def referral_list(request): ...          # request.membership is set

    @member_required(kinds={AgencyKind.ASSOCIATION})   # caseworkers and managers
    @member_required(kinds={AgencyKind.ASSOCIATION}, roles={Role.MANAGER})
    @member_required(kinds={AgencyKind.COORDINATOR}, roles={Role.COORDINATOR})

Class-based views: ``class V(MemberRequiredMixin, View): roles = {...}; kinds = {...}``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse

from agencies.models import STAFF_ROLES, AgencyKind, Membership
from agencies.selectors import membership_of

from .errors import refuse


def member_allowed(
    membership: Membership | None, *, roles: Iterable[str] = (), kinds: Iterable[str] = ()
) -> bool:
    """Is this membership one of the page's audience? (Empty = any.)"""
    if membership is None:
        return False
    roles, kinds = set(roles), set(kinds)
    if roles and membership.role not in roles:
        return False
    return not (kinds and membership.agency.kind not in kinds)


def _check(request: HttpRequest, roles: Iterable[str], kinds: Iterable[str]) -> HttpResponse | None:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    membership = membership_of(request.user)
    if not member_allowed(membership, roles=roles, kinds=kinds):
        refuse(request)
    request.membership = membership
    return None


def member_required(
    *, roles: Iterable[str] = (), kinds: Iterable[str] = ()
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    roles, kinds = frozenset(roles), frozenset(kinds)

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            return _check(request, roles, kinds) or view(request, *args, **kwargs)

        return wrapped

    return decorator


class MemberRequiredMixin:
    """Class-based views: set ``roles`` and/or ``kinds`` (empty = any member)."""

    roles: Iterable[str] = ()
    kinds: Iterable[str] = ()

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return _check(request, self.roles, self.kinds) or super().dispatch(request, *args, **kwargs)


# The association pages: its caseworkers and managers.
ASSOCIATION_STAFF = {"kinds": {AgencyKind.ASSOCIATION}, "roles": STAFF_ROLES}

# The identification unit's pages: its decision-makers (which files each one
# reads, a minor's only if trained for children, comes from the unit's grants).
DECISION_MAKERS = {
    "kinds": {AgencyKind.IDENTIFICATION_UNIT},
    "roles": {Membership.Role.DECISION_MAKER},
}

# The referrer's pages (the guided form, "Mes signalements", a referral's page).
referrer_only = member_required(roles={Membership.Role.REFERRER})
