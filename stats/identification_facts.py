"""What the statistics keep of a referral's identification file
(docs/statistics.md, "Identification decisions"): the final decision of each
stage (after a reconsideration, the reconsidered one), the first reason of the
final negative decision, how long each stage took, and how long a decision
awaited from the unit has been waited for.

Times are working days (Monday to Friday, common.workdays: public holidays are
not counted out), the unit of the deadlines: the preliminary stage runs from the
file's opening, the formal stage from the submission of the evidence file (the
recovery period before it is the person's, not the unit's). Working days are not
SQL, so these columns are computed here, from two queries per batch (the files,
their decisions), and merged into the rows stats.services writes.

Only the pending age moves with time alone: the nightly repair recomputes it
(stats.services.facts_repair), without reporting it as drift.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Q
from django.utils import timezone

from common.workdays import working_days_between
from identification.models import Decision, Identification, NegativeReason, Stage, Status

from .models import DAY_BUCKETS, NONE, PENDING, FormalOutcome, PreliminaryOutcome

COLUMNS = (
    "preliminary_outcome",
    "formal_outcome",
    "negative_reason",
    "preliminary_days",
    "formal_days",
    "pending_age",
)
# Columns that change with the date alone, not with any record.
TIME_DEPENDENT = frozenset({"pending_age"})
# A referral without a file (an anonymous notification, no unit yet).
NO_FILE: dict[str, str] = dict.fromkeys(COLUMNS, NONE)

PRELIMINARY_AWAITED = {Status.PRELIMINARY_PENDING, Status.PRELIMINARY_RECONSIDERATION}
# A positive preliminary decision, no final formal one yet (the recovery period included).
FORMAL_AWAITED = {Status.PRESUMED, Status.FORMAL_PENDING, Status.FORMAL_RECONSIDERATION}
# Awaiting the unit's decision, and the stage whose clock runs.
UNIT_AWAITED = {
    Status.PRELIMINARY_PENDING: Stage.PRELIMINARY,
    Status.PRELIMINARY_RECONSIDERATION: Stage.PRELIMINARY,
    Status.FORMAL_PENDING: Stage.FORMAL,
    Status.FORMAL_RECONSIDERATION: Stage.FORMAL,
}
_REASON_ORDER = {code: i for i, code in enumerate(NegativeReason.values)}
# 31 working days fit in 45 calendar days: counting further changes no bucket.
_COUNT_AT_MOST = timedelta(days=62)


def days_bucket(start: date, end: date) -> str:
    """The bucket of the working days after ``start`` up to ``end``."""
    days = working_days_between(start, min(end, start + _COUNT_AT_MOST))
    for label, low, high in DAY_BUCKETS:
        if days >= low and (high is None or days <= high):
            return label
    return DAY_BUCKETS[0][0]  # end before start (clock skew): the first bucket


def first_reason(reasons: Iterable[str]) -> str:
    """The first reason in NegativeReason's order (act, means, exploitation, …)."""
    known = [r for r in reasons if r in _REASON_ORDER]
    return min(known, key=_REASON_ORDER.__getitem__) if known else NONE


def _day(moment: datetime) -> date:
    return timezone.localdate(moment)


def file_facts(
    file: dict[str, Any], last: dict[str, dict[str, Any]], *, today: date
) -> dict[str, str]:
    """The columns of one file, from its row (status, opened_at,
    evidence_submitted_at) and the last decision of each stage."""
    status = file["status"]
    preliminary, formal = last.get(Stage.PRELIMINARY), last.get(Stage.FORMAL)
    facts = dict(NO_FILE)
    if status in PRELIMINARY_AWAITED:
        facts["preliminary_outcome"] = facts["preliminary_days"] = PENDING
    elif preliminary is not None:
        facts["preliminary_outcome"] = preliminary["outcome"]
        facts["preliminary_days"] = days_bucket(
            _day(file["opened_at"]), _day(preliminary["decided_at"])
        )
    # (Withdrawn before any preliminary decision: "none" at both stages.)
    if facts["preliminary_outcome"] == PreliminaryOutcome.POSITIVE:
        if status in FORMAL_AWAITED:
            facts["formal_outcome"] = facts["formal_days"] = PENDING
        elif status == Status.WITHDRAWN:
            facts["formal_outcome"] = FormalOutcome.WITHDRAWN
        elif formal is not None:
            facts["formal_outcome"] = formal["outcome"]
        submitted = file["evidence_submitted_at"]
        if facts["formal_days"] != PENDING and formal is not None and submitted is not None:
            facts["formal_days"] = days_bucket(_day(submitted), _day(formal["decided_at"]))
    negative = None
    if facts["formal_outcome"] == FormalOutcome.NOT_IDENTIFIED:
        negative = formal
    elif facts["preliminary_outcome"] == PreliminaryOutcome.NEGATIVE:
        negative = preliminary
    if negative is not None:
        facts["negative_reason"] = first_reason(negative["reasons"] or [])
    if status in UNIT_AWAITED:
        started = file["opened_at"]
        if UNIT_AWAITED[status] == Stage.FORMAL and file["evidence_submitted_at"] is not None:
            started = file["evidence_submitted_at"]
        facts["pending_age"] = days_bucket(_day(started), today)
    return facts


def identification_facts(
    *,
    referral_ids: Iterable[int] | None = None,
    id_range: tuple[int, int] | None = None,
    now: datetime | None = None,
    identification_model: Any = Identification,
    decision_model: Any = Decision,
) -> dict[int, dict[str, str]]:
    """{referral id: columns} of the referrals that have a file (the others:
    ``NO_FILE``). Two queries, whatever the number of referrals."""

    def scope(prefix: str) -> Q:
        q = Q()
        if referral_ids is not None:
            q &= Q(**{f"{prefix}referral_id__in": list(referral_ids)})
        if id_range is not None:
            q &= Q(**{f"{prefix}referral_id__gte": id_range[0]})
            q &= Q(**{f"{prefix}referral_id__lt": id_range[1]})
        return q

    files = {
        row["pk"]: row
        for row in identification_model.objects.filter(scope("")).values(
            "pk", "referral_id", "status", "opened_at", "evidence_submitted_at"
        )
    }
    if not files:
        return {}
    last: dict[int, dict[str, dict[str, Any]]] = {pk: {} for pk in files}
    decisions = (
        decision_model.objects.filter(scope("identification__"))
        .order_by("decided_at", "pk")
        .values("identification_id", "stage", "outcome", "reasons", "decided_at")
    )
    for decision in decisions:  # in order: the last of each stage stays
        if decision["identification_id"] in last:
            last[decision["identification_id"]][decision["stage"]] = decision
    today = timezone.localdate(now or timezone.now())
    return {
        file["referral_id"]: file_facts(file, last[pk], today=today) for pk, file in files.items()
    }
