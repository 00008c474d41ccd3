"""Signing in: the rules shared by the web sign-in and the API token.

- Lockout: after ``MNR_SIGNIN_MAX_FAILURES`` failed attempts on one username
  (wrong password or wrong second-factor code) within
  ``MNR_SIGNIN_LOCKOUT_MINUTES``, that username is locked for as long. Counters
  live in the database (``SigninLockout``), so every worker process shares them
  and a Redis outage changes nothing; they are keyed by a keyed hash of the
  username, so unknown usernames lock exactly like real ones: the answer never
  reveals whether an account exists. Each attempt is counted (under a row lock)
  before its password or code is checked, so parallel attempts cannot check
  more than the limit. When the counters cannot be reached, sign-in fails
  closed (``SigninUnavailable``, 503).
- Two-factor authentication (TOTP, django-otp) is required for association,
  coordination (desk, analysts) and platform staff outside demo mode; a person
  who enrolled a device is always asked for a code. Recovery codes (static
  tokens) are accepted in place of a TOTP code and used up.

Sign-ins and failed sign-ins reach the access log through Django's
authentication signals (audit/receivers.py).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import DatabaseError, transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_otp import devices_for_user, user_has_device
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AccessAction
from audit.services import access_log_write
from common import crypto
from common.errors import DomainError, NotAllowed, ValidationFailed

from . import services
from .models import AgencyKind, SigninLockout, User
from .selectors import membership_of

logger = logging.getLogger(__name__)

# Agency kinds whose staff must use a second factor (docs/access.md).
TWO_FACTOR_AGENCY_KINDS = frozenset(
    {
        AgencyKind.ASSOCIATION,
        AgencyKind.COORDINATOR,
        AgencyKind.PLATFORM,
        # Decision-makers read narratives and indicators of people's files.
        AgencyKind.IDENTIFICATION_UNIT,
    }
)
TOTP_DEVICE_NAME = "MNR"
RECOVERY_DEVICE_NAME = "MNR recovery codes"


class SigninFailed(DomainError):
    """Wrong username or password (the same answer for an unknown username)."""

    code = "authentication_failed"


class SigninLocked(DomainError):
    """Too many failed attempts on this username: wait ``retry_after`` seconds."""

    code = "locked"
    status = 429

    def __init__(self, message: object = "", *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class SigninUnavailable(DomainError):
    """The failure counters cannot be read or written: sign-in is refused (503)."""

    code = "signin_unavailable"
    status = 503


class OtpInvalid(DomainError):
    """The second-factor code is missing, wrong or already used."""

    code = "otp_invalid"


class TwoFactorNotEnrolled(NotAllowed):
    """2FA is required but the person has no confirmed device yet (enrol on the web)."""

    code = "two_factor_not_enrolled"


# Lockout ---------------------------------------------------------------------


def _username_key(username: str) -> str:
    """A keyed SHA-256 (HMAC with the secret key) of the casefolded username:
    the row names no one, and a database dump cannot confirm a guessed name
    (a new secret key starts every counter afresh)."""
    return salted_hmac(
        "mnr.signin.lockout", username.strip().casefold(), algorithm="sha256"
    ).hexdigest()


def _window() -> timedelta:
    return timedelta(minutes=settings.MNR_SIGNIN_LOCKOUT_MINUTES)


@contextmanager
def _counter_store() -> Iterator[None]:
    """Fail closed: when the counters cannot be read or written, nobody signs in."""
    try:
        yield
    except DatabaseError as exc:
        logger.error("Sign-in counters unavailable (%s): sign-in refused", type(exc).__name__)
        raise SigninUnavailable(
            _("Sign-in is unavailable for a moment. Try again in a few minutes.")
        ) from exc


def _row(key: str, now: datetime) -> SigninLockout:
    """The username's row, locked for the rest of the transaction (created if
    missing; a window and a lock that have run out start again from zero)."""
    SigninLockout.objects.bulk_create(
        [SigninLockout(username_hash=key, failures=0, window_start=now)], ignore_conflicts=True
    )
    row = SigninLockout.objects.select_for_update().get(username_hash=key)
    if (row.locked_until is not None and row.locked_until <= now) or (
        row.locked_until is None and row.window_start <= now - _window()
    ):
        row.failures, row.window_start, row.locked_until = 0, now, None
    return row


def _locked(remaining: timedelta) -> SigninLocked:
    seconds = max(int(remaining.total_seconds()), 1)
    minutes = -(-seconds // 60)
    return SigninLocked(
        ngettext(
            "Too many failed attempts. Sign-in is blocked for this username for "
            "%(minutes)s minute. Try again later or contact your administrator.",
            "Too many failed attempts. Sign-in is blocked for this username for "
            "%(minutes)s minutes. Try again later or contact your administrator.",
            minutes,
        )
        % {"minutes": minutes},
        retry_after=seconds,
    )


def _attempt_begin(username: str) -> None:
    """Count this attempt before its password or code is checked, or raise
    SigninLocked: however many attempts run at once, in however many worker
    processes, at most ``MNR_SIGNIN_MAX_FAILURES`` are checked per window."""
    now = timezone.now()
    with _counter_store(), transaction.atomic():
        row = _row(_username_key(username), now)
        if row.locked_until is not None:
            raise _locked(row.locked_until - now)
        if row.failures >= settings.MNR_SIGNIN_MAX_FAILURES:
            # The limit is reached by attempts still being checked elsewhere.
            raise _locked(row.window_start + _window() - now)
        row.failures += 1
        row.save()


def _attempt_end(username: str, *, failed: bool) -> None:
    """After the check: a failure stays counted (and locks the username at the
    limit, raising SigninLocked); a success gives its attempt back."""
    now = timezone.now()
    with _counter_store(), transaction.atomic():
        row = _row(_username_key(username), now)
        if failed:
            row.failures = max(row.failures, 1)  # the window may have run out meanwhile
            if row.locked_until is None and row.failures >= settings.MNR_SIGNIN_MAX_FAILURES:
                row.locked_until = now + _window()
        else:
            row.failures = max(row.failures - 1, 0)
        row.save()
    if failed and row.locked_until is not None:
        raise _locked(row.locked_until - now)


def _clear_failures(username: str) -> None:
    """Forget the failed attempts of a person fully signed in (not a lock)."""
    with _counter_store():
        SigninLockout.objects.filter(username_hash=_username_key(username)).filter(
            Q(locked_until__isnull=True) | Q(locked_until__lte=timezone.now())
        ).delete()


def signin_lock_remaining(*, username: str) -> int:
    """Seconds left on this username's lock (0 when not locked)."""
    now = timezone.now()
    with _counter_store():
        until = (
            SigninLockout.objects.filter(
                username_hash=_username_key(username), locked_until__gt=now
            )
            .values_list("locked_until", flat=True)
            .first()
        )
    return max(int((until - now).total_seconds()), 1) if until else 0


def signin_lockouts_purge(*, now: datetime | None = None) -> int:
    """Delete the rows whose window and lock have both run out (periodic task).
    Returns the number of rows deleted."""
    now = now or timezone.now()
    expired = Q(locked_until__isnull=True, window_start__lte=now - _window()) | Q(
        locked_until__lte=now
    )
    return SigninLockout.objects.filter(expired).delete()[0]


def signin_authenticate(*, request: HttpRequest | None, username: str, password: str) -> User:
    """The user with these credentials, or SigninFailed / SigninLocked, or
    SigninUnavailable when the counters cannot be reached (fail closed).

    The attempt is counted before the password is checked, so a locked username
    is refused even with the right password."""
    _attempt_begin(username)
    user = authenticate(request, username=username, password=password)
    _attempt_end(username, failed=user is None)  # this failure may lock it
    if user is None:
        raise SigninFailed(_("Wrong username or password."))
    return user


# Two-factor authentication ------------------------------------------------------


def two_factor_required(user: User) -> bool:
    """Must this person use a second factor? (Not in demo mode; staff of
    associations, of the national coordination and of the platform.)"""
    if settings.MNR_DEMO_MODE or not user.is_authenticated:
        return False
    if user.is_superuser or user.is_staff:
        return True
    membership = membership_of(user)
    return membership is not None and membership.agency.kind in TWO_FACTOR_AGENCY_KINDS


def two_factor_enrolled(user: User) -> bool:
    return user_has_device(user, confirmed=True)


def otp_needed(user: User) -> bool:
    """Is a second-factor code asked of this person at sign-in?"""
    return two_factor_required(user) or two_factor_enrolled(user)


def signin_verify_otp(*, user: User, token: str) -> Device:
    """The device (TOTP or recovery codes) that accepts this code, or OtpInvalid.

    A recovery code is used up; a TOTP code cannot be replayed. A wrong code
    counts as a failed attempt towards the username's lockout."""
    username = user.get_username()
    _attempt_begin(username)
    token = "".join((token or "").split()).lower()
    device = None
    if token:
        with transaction.atomic():
            for candidate in devices_for_user(user, confirmed=True, for_verify=True):
                if candidate.verify_token(token):
                    device = candidate
                    break
    if device is None:
        access_log_write(
            action=AccessAction.LOGIN_FAILED,
            username=username,
            target_type="user",
            detail={"factor": "otp"},
        )
        _attempt_end(username, failed=True)  # may lock it
        raise OtpInvalid(_("This code is not valid. Check your app's current code."))
    _clear_failures(username)
    if isinstance(device, StaticDevice):
        access_log_write(
            action=AccessAction.RECOVERY_CODE_USED,
            actor=user,
            target_type="user",
            target_id=user.pk,
            detail={"left": device.token_set.count()},
        )
    return device


def signin_succeeded(*, user: User, channel: str) -> None:
    """The person is fully signed in (password, and the second factor where it
    applies), on the web or for an API token: the sign-in is logged here, for
    both channels alike, and the failed attempts are forgotten."""
    _clear_failures(user.get_username())
    access_log_write(
        action=AccessAction.LOGIN,
        actor=user,
        target_type="user",
        target_id=user.pk,
        detail={"channel": channel},
    )


@transaction.atomic
def totp_enrolment_start(*, user: User) -> TOTPDevice:
    """The person's unconfirmed TOTP device (created once, until confirmed)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    return device


@dataclass(frozen=True)
class Enrolment:
    device: TOTPDevice
    recovery_codes: list[str]


def _recovery_code() -> str:
    # 10 characters from an unambiguous alphabet, shown as two groups of five.
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "".join(secrets.choice(alphabet) for _ in range(10))


@transaction.atomic
def totp_enrolment_confirm(*, user: User, device: TOTPDevice, token: str) -> Enrolment:
    """Confirm the device with a first code; issue fresh recovery codes (shown once).

    Any other device of the person is removed: one authenticator app at a time."""
    if device.user_id != user.pk or device.confirmed:
        raise OtpInvalid(_("This enrolment is no longer valid. Start again."))
    token = "".join((token or "").split())
    if not token or not device.verify_token(token):
        raise OtpInvalid(_("This code is not valid. Check your app's current code."))
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    StaticDevice.objects.filter(user=user).delete()
    static = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
    codes = [_recovery_code() for _ in range(settings.MNR_RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=static, token=code) for code in codes])
    access_log_write(
        action=AccessAction.TWO_FACTOR_ENROLLED, actor=user, target_type="user", target_id=user.pk
    )
    return Enrolment(device=device, recovery_codes=codes)


@transaction.atomic
def two_factor_reset(*, user: User, actor: User | None, reason: str) -> int:
    """Remove every second-factor device of a person who lost theirs (an
    administrator's act, logged); they enrol again at their next sign-in.
    Returns the number of devices removed."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("Invalid input."), fields={"reason": [_("Say why.")]})
    removed = 0
    for model in (TOTPDevice, StaticDevice):
        removed += model.objects.filter(user=user).delete()[1].get(model._meta.label, 0)
    # A token was trusted because of the factor that is now gone.
    services.tokens_revoke_all(user=user, actor=actor, reason="two_factor_reset")
    access_log_write(
        action=AccessAction.TWO_FACTOR_RESET,
        actor=actor,
        username=actor.get_username() if actor else "",
        target_type="user",
        target_id=user.pk,
        # The reason is typed text: encrypted like every free text (common.crypto);
        # the access-log reader decrypts it for those who may read the log.
        detail={"reason": crypto.encrypt(reason[:200]), "user": user.get_username()},
    )
    return removed
