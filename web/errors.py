"""Domain errors → what a person sees, in one place (the API's twin is
api/exceptions.py; both answer the status each error carries, common/errors.py).

- ``NotFound`` → the 404 page (what you may not see does not exist for you);
- ``NotAllowed`` → the 403 page, and the refusal written to the access log
  exactly as the API writes it (audit.services.access_log_refusal);
- ``ValidationFailed`` → field errors on the form (``run_service(form=…)``), or
  an error message when there is no form;
- ``InvalidTransition``, ``Conflict``, ``PreconditionFailed/Required`` → an error
  message on the page, redirecting back after a POST.

Views call services through ``run_service`` when a form is involved; anything
else a view or selector raises is caught by ``DomainErrorMiddleware``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.translation import gettext as _

from audit.services import access_log_refusal
from common import errors


def refuse(request: HttpRequest, *, target_type: str = "page", target_id: Any = "") -> NoReturn:
    """Log the refusal (as the API does) and answer the 403 page."""
    if not target_id and request.resolver_match is not None:
        target_id = request.resolver_match.view_name
    access_log_refusal(
        actor=request.user,
        method=request.method or "",
        path=request.path,
        target_type=target_type,
        target_id=target_id,
    )
    raise PermissionDenied


def _messages_of(exc: errors.DomainError) -> list[str]:
    found = [str(exc.message)] if exc.message else []
    for value in exc.fields.values():
        found.extend(str(v) for v in (value if isinstance(value, list | tuple) else [value]))
    return found or [_("This action is not possible.")]


def domain_error_response(request: HttpRequest, exc: errors.DomainError) -> HttpResponse:
    """The page for a domain error raised outside ``run_service``."""
    if isinstance(exc, errors.NotFound):
        raise Http404(str(exc.message or ""))
    if isinstance(exc, errors.NotAllowed):
        kwargs = request.resolver_match.kwargs if request.resolver_match else {}
        refuse(
            request,
            target_type=str(next(iter(kwargs), "page")),
            target_id=str(next(iter(kwargs.values()), "")),
        )
    texts = _messages_of(exc)
    if request.method == "POST":
        for text in texts:
            messages.error(request, text)
        return HttpResponseRedirect(request.get_full_path())
    return render(
        request,
        "web/error.html",
        {"error_messages": texts},
        status=exc.status,
    )


class DomainErrorMiddleware:
    """Catches domain errors that escape a web view (never the API's: DRF
    handles those in api/exceptions.py before they reach middleware)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, errors.DomainError) and not request.path.startswith("/api/"):
            return domain_error_response(request, exception)
        return None


@dataclass(frozen=True)
class ServiceResult:
    ok: bool
    value: Any = None


def run_service(
    request: HttpRequest,
    service: Callable[..., Any],
    /,
    *,
    form: forms.Form | None = None,
    **kwargs: Any,
) -> ServiceResult:
    """Call a domain service. ValidationFailed lands on ``form`` (each message on
    its field when the form has it, else on the form itself); transition and
    conflict errors become an error message; NotFound / NotAllowed propagate to
    the 404 / 403 pages. Returns ServiceResult(ok, value)."""
    try:
        return ServiceResult(ok=True, value=service(**kwargs))
    except errors.ValidationFailed as exc:
        if form is None:
            for text in _messages_of(exc):
                messages.error(request, text)
            return ServiceResult(ok=False)
        if exc.message and not exc.fields:
            form.add_error(None, str(exc.message))
        for field, value in exc.fields.items():
            for text in value if isinstance(value, list | tuple) else [value]:
                form.add_error(field if field in form.fields else None, str(text))
        return ServiceResult(ok=False)
    except (
        errors.InvalidTransition,
        errors.Conflict,
        errors.PreconditionFailed,
        errors.PreconditionRequired,
    ) as exc:
        for text in _messages_of(exc):
            messages.error(request, text)
        return ServiceResult(ok=False)
