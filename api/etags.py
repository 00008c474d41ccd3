"""Optimistic concurrency over HTTP: representations carry an ETag made of the
object's id and version; writes that change them require ``If-Match`` with it.
A stale tag answers 412 and nothing changes; a missing one answers 428."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.request import Request

from common.errors import PreconditionFailed, PreconditionRequired
from common.parsing import parse_int

IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description=(
        'Required. The ETag of the representation you read (e.g. `"case-12-v3"`). '
        "Stale: 412, nothing changes. Missing: 428."
    ),
)


def etag(kind: str, pk: int, version: int) -> str:
    return f'"{kind}-{pk}-v{version}"'


def expected_version(request: Request, *, kind: str, pk: int) -> int:
    """The version the client read, from If-Match; 428 if absent, 412 if it names
    another object or is malformed."""
    header = request.headers.get("If-Match", "").strip()
    if not header:
        raise PreconditionRequired(_("Send If-Match with the ETag you read."))
    for candidate in (part.strip() for part in header.split(",")):
        candidate = candidate.removeprefix("W/")
        prefix = f'"{kind}-{pk}-v'
        if candidate.startswith(prefix) and candidate.endswith('"'):
            version = parse_int(candidate[len(prefix) : -1])
            if version is not None:
                return version
    raise PreconditionFailed(_("Someone changed this since you read it: reload and try again."))
