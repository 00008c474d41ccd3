"""Path converters shared by the API and the web pages (api/urls.py, web/urls.py).

``<ref:reference>``: a referral's or case's reference (MNR-2026-000123). Only
letters, digits and dashes, at most the column's 16 characters: anything else
is no reference at all and answers 404 before a view runs. ``<str:…>`` let a
NUL byte through to PostgreSQL, which cannot hold one in text (500).
"""

from __future__ import annotations

from django.urls import register_converter


class ReferenceConverter:
    regex = r"[A-Za-z0-9-]{1,16}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


# Registered once, when the first URLconf imports this module.
register_converter(ReferenceConverter, "ref")
