"""Grants that disagree with the process (docs/access.md, `manage.py check_grants`).

Each domain app's grants module says what it expects (referral.grants,
cases.grants, identification.grants); this gathers their findings, plus people
in groups their membership does not give them. It lives in identification,
the highest of the three.
"""

from __future__ import annotations

from collections.abc import Iterator

from cases import grants as case_grants
from referral import grants as referral_grants

from . import grants as identification_grants


def grant_problems() -> Iterator[str]:
    yield from referral_grants.group_problems()
    yield from referral_grants.problems()
    yield from case_grants.problems()
    yield from identification_grants.problems()
