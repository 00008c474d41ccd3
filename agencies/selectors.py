"""Reads on agencies and accounts."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from .models import Accreditation, Agency, ApiToken, Departement, Membership, User
from .services import TOKEN_PREFIX, token_hash

# Refreshing last_used_at on every request would write on every read.
TOKEN_LAST_USED_GRANULARITY = timedelta(minutes=1)


def agency_directory(
    *, kind: str | None = None, departement: str | None = None
) -> QuerySet[Agency]:
    """Agencies with their current and future accreditations. No personal data."""
    today = timezone.localdate()
    accreditations = (
        Accreditation.objects.filter(valid_until__gte=today)
        .prefetch_related(Prefetch("departements", queryset=Departement.objects.only("code")))
        .order_by("valid_from")
    )
    qs = (
        Agency.objects.select_related("departement__region")
        .prefetch_related(Prefetch("accreditations", queryset=accreditations))
        .order_by("name", "pk")
    )
    if kind:
        qs = qs.filter(kind=kind)
    if departement:
        qs = qs.filter(departement_id=departement)
    return qs


def active_associations() -> QuerySet[Agency]:
    """The associations work may be given to: an association, active. The
    desk's assignment and a case's transfer choose among these (accredited for
    the person or not: the desk, or the two associations, decide)."""
    return Agency.objects.filter(kind=Agency.Kind.ASSOCIATION, active=True)


def departement_codes() -> frozenset[str]:
    """The INSEE codes of the départements (reference data: cached once loaded)."""
    global _DEPARTEMENT_CODES
    if not _DEPARTEMENT_CODES:
        _DEPARTEMENT_CODES = frozenset(Departement.objects.values_list("code", flat=True))
    return _DEPARTEMENT_CODES


_DEPARTEMENT_CODES: frozenset[str] = frozenset()


def departement_list() -> QuerySet[Departement]:
    return Departement.objects.select_related("region").order_by("code")


def membership_of(user: User) -> Membership | None:
    """The user's membership, or None (a user without one can do nothing)."""
    if not user.is_authenticated:
        return None
    try:
        return user.membership
    except Membership.DoesNotExist:
        return None


def token_get_active(*, key: str) -> ApiToken | None:
    """The unexpired, unrevoked token with this secret, with its user; else None."""
    if not key.startswith(TOKEN_PREFIX):
        return None
    now = timezone.now()
    token = (
        ApiToken.objects.select_related("user__membership__agency")
        .filter(key_hash=token_hash(key), revoked_at__isnull=True, expires_at__gt=now)
        .first()
    )
    if token is None:
        return None
    if token.last_used_at is None or now - token.last_used_at > TOKEN_LAST_USED_GRANULARITY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def token_list_for(*, user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).order_by("-created_at")
