"""One error shape for the whole API.

Every error answers ``{"error": {"status", "code", "message", "fields"}}``:
``fields`` maps input fields to lists of messages (400 only, else empty).
Domain errors carry their own HTTP status (common/errors.py).
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from audit.services import access_log_refusal
from common import errors

logger = logging.getLogger(__name__)


class RequestTooLarge(exceptions.APIException):
    """A body over DATA_UPLOAD_MAX_MEMORY_SIZE (Django raises RequestDataTooBig
    when the body is read, anonymous requests included)."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"

    def __init__(self) -> None:
        limit = filesizeformat(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        super().__init__(
            _("The request body is larger than the %(limit)s allowed.") % {"limit": limit}
        )


def error_body(*, status_code: int, code: str, message: Any, fields: Any = None) -> dict:
    return {
        "error": {
            "status": status_code,
            "code": code,
            "message": str(message),
            "fields": _plain(fields) if fields else {},
        }
    }


def _plain(value: Any) -> Any:
    """ErrorDetail and lazy strings → plain JSON values."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return str(value)


def _validation_fields(detail: Any) -> dict:
    if isinstance(detail, dict):
        return detail
    return {"non_field_errors": detail if isinstance(detail, list) else [detail]}


def exception_handler(exc: Exception, context: dict) -> Response:
    headers: dict[str, str] = {}
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, RequestDataTooBig):
        exc = RequestTooLarge()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    if isinstance(exc, errors.NotAllowed | exceptions.PermissionDenied):
        _log_refusal(context)
    if isinstance(exc, errors.DomainError):
        code = exc.status  # common/errors.py: one table for both adapters
        message = exc.message or (_("Not found.") if code == 404 else _("Request refused."))
        body = error_body(status_code=code, code=exc.code, message=message, fields=exc.fields)
    elif isinstance(exc, exceptions.ValidationError):
        code = exc.status_code
        body = error_body(
            status_code=code,
            code="invalid",
            message=_("Invalid input."),
            fields=_validation_fields(exc.detail),
        )
    elif isinstance(exc, exceptions.APIException):
        code = exc.status_code
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))
        detail = exc.detail
        message = detail if not isinstance(detail, dict | list) else exc.default_detail
        error_code = exc.get_codes() if isinstance(exc.get_codes(), str) else exc.default_code
        body = error_body(status_code=code, code=error_code, message=message)
    else:
        # Only a bug reaches this branch: log it, answer the same shape.
        logger.exception("Unhandled API error", exc_info=exc)
        code = status.HTTP_500_INTERNAL_SERVER_ERROR
        body = error_body(status_code=code, code="server_error", message=_("Server error."))
    set_rollback()
    return Response(body, status=code, headers=headers)


def _log_refusal(context: dict) -> None:
    request = context.get("request")
    if request is None:
        return
    kwargs = context.get("kwargs") or {}
    access_log_refusal(
        actor=request.user,
        method=request.method,
        path=request.path,
        target_type=str(next(iter(kwargs), "")),
        target_id=str(next(iter(kwargs.values()), "")),
    )
