"""Sign-in (password, then a second factor where it applies), 2FA enrolment
with recovery codes, sign-out. The rules live in agencies/signin.py, shared
with the API token endpoint."""

from __future__ import annotations

from base64 import b32encode

import django_otp
import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_static.models import StaticDevice

from agencies import signin
from agencies.models import Role
from demo import agencies as demo

from ..forms import EnrolmentForm, OtpForm, SignInForm
from ..middleware import SESSION_OTP_NEEDED

SESSION_NEXT = "mnr_signin_next"


def _next_url(request: HttpRequest, candidate: str | None) -> str | None:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return None


def _finish(request: HttpRequest) -> HttpResponse:
    try:
        signin.signin_succeeded(user=request.user, channel="web")
    except signin.SigninUnavailable as exc:
        return _unavailable(request, exc)
    return HttpResponseRedirect(request.session.pop(SESSION_NEXT, None) or "/")


def _unavailable(request: HttpRequest, exc: signin.SigninUnavailable) -> HttpResponse:
    """The failure counters cannot be reached: no one is signed in (503)."""
    auth_logout(request)
    form = SignInForm()  # empty, showing only this error
    form.full_clean()
    form.cleaned_data = {}
    form.add_error(None, str(exc.message))
    return render(request, "web/auth/signin.html", {"form": form, "next": ""}, status=503)


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def signin_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and request.user.is_verified():
        return redirect("web:home")
    form = SignInForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = signin.signin_authenticate(
                request=request,
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password"],
            )
        except (signin.SigninFailed, signin.SigninLocked) as exc:
            form.add_error(None, str(exc.message))
        except signin.SigninUnavailable as exc:
            return _unavailable(request, exc)
        else:
            next_url = _next_url(request, request.POST.get("next") or request.GET.get("next"))
            auth_login(request, user)  # new session; logged as a sign-in once complete
            needed = signin.otp_needed(user)
            request.session[SESSION_OTP_NEEDED] = needed
            if next_url:
                request.session[SESSION_NEXT] = next_url
            if not needed:
                return _finish(request)
            if signin.two_factor_enrolled(user):
                return redirect("web:signin-otp")
            return redirect("web:two-factor-setup")
    return render(
        request,
        "web/auth/signin.html",
        {
            "form": form,
            "next": request.GET.get("next", ""),
            "demo_accounts": _demo_accounts() if settings.MNR_DEMO_MODE else None,
            "demo_password": demo.DEMO_PASSWORD,
        },
    )


def _demo_accounts() -> list[dict]:
    """The seeded demo accounts (README "Demo accounts"), listed in demo mode only."""
    agencies = {agency["key"]: agency["name"] for agency in demo.AGENCIES}
    return [
        {
            "username": user["username"],
            "role": Role(user["role"]).label,
            "agency": agencies[user["agency"]],
        }
        for user in demo.USERS
    ]


@sensitive_post_parameters("otp")
@login_required
@never_cache
def signin_otp_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_verified():
        return redirect("web:home")
    if not signin.two_factor_enrolled(request.user):
        return redirect("web:two-factor-setup")
    form = OtpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = signin.signin_verify_otp(user=request.user, token=form.cleaned_data["otp"])
        except signin.SigninLocked as exc:
            auth_logout(request)
            messages.error(request, str(exc.message))
            return redirect("web:signin")
        except signin.SigninUnavailable as exc:
            return _unavailable(request, exc)
        except signin.OtpInvalid as exc:
            form.add_error("otp", str(exc.message))
        else:
            django_otp.login(request, device)
            request.session.cycle_key()  # a key seen before the second factor is worth nothing
            if isinstance(device, StaticDevice):
                left = device.token_set.count()
                messages.warning(
                    request,
                    ngettext(
                        "You used a recovery code. %(count)s recovery code left: keep "
                        "it safe, and set up your authenticator app again if you lost it.",
                        "You used a recovery code. %(count)s recovery codes left: keep "
                        "them safe, and set up your authenticator app again if you lost it.",
                        left,
                    )
                    % {"count": left},
                )
            return _finish(request)
    return render(request, "web/auth/otp.html", {"form": form})


@sensitive_post_parameters("otp")
@login_required
@never_cache
def two_factor_setup_view(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator app (QR code and secret), confirm it with a code,
    then show the recovery codes once."""
    if signin.two_factor_enrolled(request.user):
        return redirect("web:home" if request.user.is_verified() else "web:signin-otp")
    device = signin.totp_enrolment_start(user=request.user)
    form = EnrolmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            enrolment = signin.totp_enrolment_confirm(
                user=request.user, device=device, token=form.cleaned_data["otp"]
            )
        except signin.OtpInvalid as exc:
            form.add_error("otp", str(exc.message))
        else:
            django_otp.login(request, enrolment.device)
            request.session.cycle_key()
            try:
                signin.signin_succeeded(user=request.user, channel="web")
            except signin.SigninUnavailable as exc:
                return _unavailable(request, exc)
            # Shown once, in this response only: never stored in the session.
            return render(
                request,
                "web/auth/recovery_codes.html",
                {
                    "recovery_codes": enrolment.recovery_codes,
                    "continue_url": request.session.pop(SESSION_NEXT, None) or "/",
                },
            )
    secret = b32encode(device.bin_key).decode().rstrip("=")
    qr_svg = segno.make(device.config_url, error="m").svg_inline(
        scale=5, dark="#161616", light="#ffffff", omitsize=False
    )
    return render(
        request,
        "web/auth/two_factor_setup.html",
        {
            "form": form,
            "qr_svg": mark_safe(qr_svg),  # noqa: S308 — generated by segno, no user input
            "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        },
    )


@require_POST
def signout_view(request: HttpRequest) -> HttpResponse:
    auth_logout(request)
    messages.success(request, _("You are signed out."))
    return redirect("web:signin")
