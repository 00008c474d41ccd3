"""The cell-key method: how every figure MNR releases is protected
(docs/statistics.md).

Every referral carries a permanent record key, a pseudo-random integer derived
from its id with a secret (``MNR_STATS_KEY_SECRET``). A cell of any table — a set
of referrals, whatever question selected it — gets a perturbation that is a fixed
function of its count and of the sum of its records' keys. The same set of
records therefore always shows the same figure, however it is asked for (another
crossing, another period label, CSV, a report, the pages): repeating or
rephrasing a question gains nothing, and no answer changes from one call to the
next. This is the method of the Australian Bureau of Statistics' TableBuilder and
of the UK's 2021 Census tables.

A non-zero count ``n`` is published as ``n + p`` where ``p`` follows ``NOISE``
(mean 0, at most ±``MAX_NOISE``); a published figure under the threshold ``k``
(``MNR_STATS_THRESHOLD``, 10) is shown as "under k", and so is every zero: a
zero cannot be told from a small count, and a small count is never shown as
such. Totals are cells of their own (perturbed on their own), so cells need not
add up to their totals.

Everything here is a pure function of its arguments and of two settings."""

from __future__ import annotations

import hashlib
import hmac
from bisect import bisect_right
from functools import lru_cache
from itertools import accumulate

from django.conf import settings

# Record keys are uniform on [0, KEY_SPACE); a cell sums them in SQL (a bigint:
# 2**32 × 10**6 records stays far below 2**63).
KEY_SPACE = 2**32

# The perturbation of a non-zero count: (p, probability). Symmetric, so the
# figures are unbiased; concentrated on -1…1 (60 %), so large cells stay
# accurate (|p| ≤ 5: within 5 % for any cell of 100 or more); spread to ±5, so
# that no difference of two released figures pins a small count (docs).
NOISE: tuple[tuple[int, float], ...] = (
    (-5, 0.02),
    (-4, 0.03),
    (-3, 0.05),
    (-2, 0.10),
    (-1, 0.15),
    (0, 0.30),
    (1, 0.15),
    (2, 0.10),
    (3, 0.05),
    (4, 0.03),
    (5, 0.02),
)
MAX_NOISE = max(abs(p) for p, _ in NOISE)
_VALUES = [p for p, _ in NOISE]
_CDF = list(accumulate(w for _, w in NOISE))


@lru_cache(maxsize=4)
def _secret(value: str) -> bytes:
    return hashlib.sha256(b"mnr-stats-cell-key:" + value.encode()).digest()


def _key() -> bytes:
    return _secret(settings.MNR_STATS_KEY_SECRET)


def record_key(referral_id: int) -> int:
    """The permanent key of one referral, uniform on [0, KEY_SPACE)."""
    digest = hmac.new(_key(), b"record:%d" % referral_id, hashlib.sha256).digest()
    return int.from_bytes(digest[:4], "big")


def noise(count: int, key_sum: int) -> int:
    """The perturbation of a cell of ``count`` records whose keys sum to
    ``key_sum``. The cell key is hashed with the count, so two cells that share
    records get unrelated perturbations."""
    message = b"cell:%d:%d" % (count, key_sum % 2**64)
    digest = hmac.new(_key(), message, hashlib.sha256).digest()
    u = int.from_bytes(digest[:8], "big") / 2**64
    return _VALUES[min(bisect_right(_CDF, u), len(_VALUES) - 1)]


def threshold() -> int:
    return settings.MNR_STATS_THRESHOLD


def published(count: int, key_sum: int) -> int | None:
    """The figure shown for a cell, or None for "under the threshold" (every
    zero, and every perturbed figure under it)."""
    if count <= 0:
        return None
    value = count + noise(count, key_sum) if settings.MNR_STATS_PERTURB else count
    return value if value >= threshold() else None


def bounds(shown: int | None) -> tuple[int, int]:
    """What a shown figure tells of the true count, to someone who knows the
    method: the interval an attacker starts from (tests/stats/test_attack.py)."""
    k = threshold()
    if shown is None:
        return 0, k - 1 + MAX_NOISE
    return max(1, shown - MAX_NOISE), shown + MAX_NOISE
