"""Who, from where, under which request id: set by the middleware for web and
API requests, read by audit services (Celery tasks and commands have none)."""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse

from common.http import client_ip


@dataclass(frozen=True)
class RequestContext:
    ip: str | None
    request_id: str


_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "mnr_request_context", default=None
)


def current() -> RequestContext | None:
    return _current.get()


class RequestContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = (
            incoming if incoming.isascii() and 0 < len(incoming) <= 64 else uuid.uuid4().hex
        )
        request.request_id = request_id
        token = _current.set(RequestContext(ip=client_ip(request), request_id=request_id))
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        response["X-Request-ID"] = request_id
        return response
