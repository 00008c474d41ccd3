"""The API's JSON parser: DRF's, with a nesting limit.

Python's decoder recurses once per level: about 1,000 nested brackets (2 KB,
no account needed) raised RecursionError, which DRF does not catch (500). No
MNR body nests more than three levels; anything past ``MAX_DEPTH`` is a 400.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any

from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError

MAX_DEPTH = 32


def depth_exceeds(data: Any, limit: int) -> bool:
    """Does ``data`` (decoded JSON) nest lists/objects deeper than ``limit``?
    Iterative, so any depth is safe to look at."""
    pending: list[tuple[Any, int]] = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


class JSONParser(parsers.JSONParser):
    max_depth = MAX_DEPTH

    def parse(
        self,
        stream: IO[bytes],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        message = _("The JSON is nested deeper than %(limit)d levels.") % {"limit": self.max_depth}
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError(message) from exc
        if depth_exceeds(data, self.max_depth):
            raise ParseError(message)
        return data
