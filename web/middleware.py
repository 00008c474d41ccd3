"""Two-factor gate: a signed-in person who must give a second factor and has
not yet done so (``request.user.is_verified()`` is false) reaches only the
second-factor pages, sign-out and static files. Everything else — web pages,
the admin site, the API through the session — sends them to the code step (or
to enrolment), or answers 403 JSON under /api/."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.utils.translation import gettext as _

from agencies.signin import otp_needed, two_factor_enrolled

# Whether the signed-in person must give a second factor, decided at sign-in.
SESSION_OTP_NEEDED = "mnr_otp_needed"
OPEN_URL_NAMES = ("web:signin", "web:signin-otp", "web:two-factor-setup", "web:signout")


class TwoFactorGateMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated and not user.is_verified() and not self._open(request.path):
            needed = request.session.get(SESSION_OTP_NEEDED)
            if needed is None:
                needed = request.session[SESSION_OTP_NEEDED] = otp_needed(user)
            if needed:
                return self._deny(request, user)
        return self.get_response(request)

    @staticmethod
    def _open(path: str) -> bool:
        if path.startswith((settings.STATIC_URL, "/i18n/", "/healthz")):
            return True
        return path in {reverse(name) for name in OPEN_URL_NAMES}

    @staticmethod
    def _deny(request: HttpRequest, user) -> HttpResponse:
        if request.path.startswith("/api/"):
            message = _("Two-factor authentication is required: finish signing in on the website.")
            body = {"status": 403, "code": "two_factor_required", "message": message, "fields": {}}
            return JsonResponse({"error": body}, status=403)
        step = "web:signin-otp" if two_factor_enrolled(user) else "web:two-factor-setup"
        return redirect(step)


class NoStoreWhenSignedInMiddleware:
    """Answers to a signed-in person (pages, CSV, API) may hold personal data:
    no browser or proxy may keep them (``Cache-Control: no-store, private``), so
    nothing stays in the cache of a shared computer after sign-out."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            patch_cache_control(response, no_store=True, private=True, no_cache=True)
            add_never_cache_headers(response)
        return response
