"""Domain errors raised by services and selectors.

Adapters (api/, web/) translate them; domain code never builds HTTP responses.
Each error carries the HTTP status both adapters answer with (``status``), so
the mapping is written once, here. Messages are lazily translated texts a
person may read.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every error a service or selector raises on purpose."""

    code = "error"
    status = 400

    def __init__(self, message: Any = "", *, fields: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class ValidationFailed(DomainError):
    """Input breaks a rule; ``fields`` maps field names to lists of messages (HTTP 400)."""

    code = "invalid"
    status = 400


class NotFound(DomainError):
    """The object does not exist, or the user may not see it: the same answer (HTTP 404)."""

    code = "not_found"
    status = 404


class NotAllowed(DomainError):
    """The user may see the object but may not do this (HTTP 403)."""

    code = "permission_denied"
    status = 403


class InvalidTransition(DomainError):
    """The object's state does not allow this action (HTTP 409)."""

    code = "invalid_transition"
    status = 409


class Conflict(DomainError):
    """The action collides with the current state, e.g. a duplicate (HTTP 409)."""

    code = "conflict"
    status = 409


class PreconditionFailed(DomainError):
    """The client's version of the object is stale (HTTP 412)."""

    code = "precondition_failed"
    status = 412


class PreconditionRequired(DomainError):
    """The write needs an If-Match header with the version read (HTTP 428)."""

    code = "precondition_required"
    status = 428
