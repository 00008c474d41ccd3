"""Keeping ReferralFact in step with the records it is computed from.

Every service that changes a referral, its person, routing outcome, case,
protection steps or identification file sends an event (referral.signals,
cases.signals, identification.signals) inside its own transaction;
stats.receivers answers with ``facts_refresh`` in that same transaction, so the
statistics never see a half-applied change. ``facts_rebuild`` recomputes the
whole table (migration back-fill, nightly job, benchmark) and ``facts_drift``
counts the referrals whose rows differ from a fresh computation. The pending
age of an identification file moves with the date alone: ``facts_repair``
recomputes it every night, and it is not drift."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import Any

from django.db import connection, transaction

from cases.models import Case, ProtectionStep
from referral.models import Referral, Routing, RoutingOutcome

from . import identification_facts
from .cellkey import record_key
from .dimensions import fact_sources
from .models import FactColumns, Publication, PublishedFact, PublishedStep, ReferralFact

logger = logging.getLogger(__name__)

COLUMNS = [
    "form",
    "accepted_at",
    "case_opened_at",
    "case_association",
    "sex",
    "age_group",
    "minor",
    "nationality",
    "world_region",
    "departement",
    "region",
    "referring_sector",
    "outcome",
    "exploited_abroad_only",
    "complaint_filed",
    "residence_permit",
]
# Columns of every fact row, as stored (what a drift check compares).
STORED = [
    "referral_id",
    "is_primary",
    "record_key",
    "submitted_at",
    *("case_association_id" if c == "case_association" else c for c in COLUMNS),
    *identification_facts.COLUMNS,
]


def fact_rows(
    *,
    referral_ids: Iterable[int] | None = None,
    referral_model: Any = Referral,
    step_model: Any = ProtectionStep,
    id_range: tuple[int, int] | None = None,
    identification: bool = True,
    now: datetime | None = None,
) -> Iterator[dict[str, Any]]:
    """Fresh fact rows (as field dicts) for these referrals, computed in SQL,
    with their identification columns (stats.identification_facts; not for a
    migration's fact model that predates them); ``is_primary`` is settled by
    ``_sorted_by_form``."""
    qs = referral_model.objects.all()
    if referral_ids is not None:
        referral_ids = list(referral_ids)
        qs = qs.filter(pk__in=referral_ids)
    if id_range is not None:
        qs = qs.filter(pk__gte=id_range[0], pk__lt=id_range[1])
    files = (
        identification_facts.identification_facts(
            referral_ids=referral_ids, id_range=id_range, now=now
        )
        if identification
        else None
    )
    sources = fact_sources(step_model)
    rows = qs.order_by("pk").values("pk", "submitted_at", **sources)
    for row in rows.iterator(chunk_size=5000):
        fact = {
            "referral_id": row["pk"],
            "submitted_at": row["submitted_at"],
            "is_primary": True,
            "record_key": record_key(row["pk"]),
        }
        for column in COLUMNS:
            key = "case_association_id" if column == "case_association" else column
            fact[key] = row[f"f_{column}"]
        if files is not None:
            fact |= files.get(row["pk"], identification_facts.NO_FILE)
        yield fact


def _sorted_by_form(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The primary row is the referral's first form in alphabetical order, so a
    refresh and a rebuild choose the same one."""
    out = sorted(rows, key=lambda r: (r["referral_id"], r["form"]))
    previous = None
    for row in out:
        row["is_primary"] = row["referral_id"] != previous
        previous = row["referral_id"]
    return out


def facts_refresh(*, referral_ids: Iterable[int], now: datetime | None = None) -> None:
    """Replace the fact rows of these referrals (in the caller's transaction)."""
    ids = sorted(set(referral_ids))
    if not ids:
        return
    with transaction.atomic():
        rows = _sorted_by_form(fact_rows(referral_ids=ids, now=now))
        ReferralFact.objects.filter(referral_id__in=ids).delete()
        ReferralFact.objects.bulk_create([ReferralFact(**row) for row in rows])


# Inside ``facts_deferred``: the referrals whose rows are to be refreshed at its end.
_DEFERRED: ContextVar[set[int] | None] = ContextVar("stats_facts_deferred", default=None)


def facts_refresh_after_change(*, referral_ids: Iterable[int]) -> None:
    """What the receivers call on a domain event: refresh now, or at the end of
    the ``facts_deferred`` block the change happens in."""
    deferred = _DEFERRED.get()
    if deferred is None:
        facts_refresh(referral_ids=referral_ids)
    else:
        deferred.update(referral_ids)


@contextmanager
def facts_deferred() -> Iterator[None]:
    """For bulk work (the demo seed): every referral an event names inside the
    block is refreshed once, when it ends, instead of at each event. Leaving the
    block with an error refreshes nothing (its transaction rolls back too)."""
    ids: set[int] = set()
    token = _DEFERRED.set(ids)
    try:
        yield
    finally:
        _DEFERRED.reset(token)
    for start in range(0, len(ids), 2000):
        facts_refresh(referral_ids=sorted(ids)[start : start + 2000])


def facts_rebuild(
    *,
    batch: int = 20_000,
    referral_model: Any = Referral,
    step_model: Any = ProtectionStep,
    fact_model: Any = ReferralFact,
) -> int:
    """Recompute the whole table, batch by batch of referral ids. Returns rows written."""
    last = referral_model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    # A migration's historical model may predate a column (record_key, the
    # identification columns).
    known = {f.attname for f in fact_model._meta.concrete_fields}
    identification = set(identification_facts.COLUMNS) <= known
    written = 0
    for low in range(0, last + 1, batch):
        with transaction.atomic():
            rows = _sorted_by_form(
                fact_rows(
                    referral_model=referral_model,
                    step_model=step_model,
                    id_range=(low, low + batch),
                    identification=identification,
                )
            )
            fact_model.objects.filter(referral_id__gte=low, referral_id__lt=low + batch).delete()
            fact_model.objects.bulk_create(
                [fact_model(**{k: v for k, v in row.items() if k in known}) for row in rows],
                batch_size=5000,
            )
            written += len(rows)
    return written


def _compare(*, batch: int, now: datetime | None = None) -> tuple[list[int], list[int]]:
    """(drifted, aged): the referrals whose stored rows differ from a fresh
    computation, and those that differ only in a column that moves with the
    date (a pending file's age)."""
    last = Referral.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    drifted: set[int] = set()
    aged: set[int] = set()
    for low in range(0, last + 1, batch):
        fresh = {
            (r["referral_id"], r["form"]): r
            for r in _sorted_by_form(fact_rows(id_range=(low, low + batch), now=now))
        }
        stored = {
            (r["referral_id"], r["form"]): r
            for r in ReferralFact.objects.filter(
                referral_id__gte=low, referral_id__lt=low + batch
            ).values(*STORED)
        }
        for key in fresh.keys() | stored.keys():
            new, old = fresh.get(key), stored.get(key)
            if new == old:
                continue
            if new is not None and old is not None and _same_but_time(new, old):
                aged.add(key[0])
            else:
                drifted.add(key[0])
    return sorted(drifted), sorted(aged - drifted)


def _same_but_time(new: dict[str, Any], old: dict[str, Any]) -> bool:
    return all(new[c] == old[c] for c in STORED if c not in identification_facts.TIME_DEPENDENT)


def facts_drift(*, batch: int = 20_000) -> list[int]:
    """Referral ids whose stored fact rows differ from a fresh computation in
    anything but the passage of time (a pending file's age, refreshed nightly)."""
    return _compare(batch=batch)[0]


def facts_repair(*, now: datetime | None = None) -> list[int]:
    """Nightly safety net: refresh the referrals whose rows drifted (a change that
    bypassed the services, or a service that forgot to refresh) and log them;
    refresh the pending files whose age moved into another bucket, quietly (that
    is the date, not a fault). Returns the drifted ones."""
    drifted, aged = _compare(batch=20_000, now=now)
    if drifted:
        logger.error("statistics rows out of date for %d referrals; refreshed", len(drifted))
    if aged:
        logger.info("pending identification ages moved for %d referrals", len(aged))
    stale = sorted([*drifted, *aged])
    for i in range(0, len(stale), 1000):
        facts_refresh(referral_ids=stale[i : i + 1000], now=now)
    return drifted


# The columns a publication copies from ReferralFact.
_COPIED = [f.column for f in FactColumns._meta.concrete_fields if f.name != "id"]


@transaction.atomic
def stats_publish() -> Publication:
    """Publish the statistics: replace the published rows by the live ones as
    they are now (one statement each, in one transaction: a release reads the
    old publication or the new one, never a mix). Run on a fixed schedule
    (settings.CELERY_BEAT_SCHEDULE) and by ``manage.py publish_stats``."""
    fact, published, step = (
        ReferralFact._meta.db_table,
        PublishedFact._meta.db_table,
        PublishedStep._meta.db_table,
    )
    routing, step_table, case = (
        Routing._meta.db_table,
        ProtectionStep._meta.db_table,
        Case._meta.db_table,
    )
    columns = ", ".join(_COPIED)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # TRUNCATE, not DELETE: a deleted million rows would stay as dead
            # tuples every release scans until a vacuum. It locks the tables:
            # releases wait for the commit (about 30 s for 1M referrals, once
            # a month), then read the new publication whole.
            # (Deferred foreign-key checks left by this transaction would
            # refuse the TRUNCATE: run them first.)
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"TRUNCATE {step}, {published}")
        else:
            cursor.execute(f"DELETE FROM {step}")  # noqa: S608 - table names from the models
            cursor.execute(f"DELETE FROM {published}")  # noqa: S608
        cursor.execute(
            f"INSERT INTO {published} ({columns}, pending_association_id) "  # noqa: S608
            f"SELECT {columns}, (SELECT r.association_id FROM {routing} r "
            f"WHERE r.referral_id = {fact}.referral_id AND r.outcome = %s "
            f"ORDER BY r.id DESC LIMIT 1) FROM {fact}",
            [RoutingOutcome.PENDING],
        )
        rows = cursor.rowcount
        cursor.execute(
            f"INSERT INTO {step} (referral_id, kind) "  # noqa: S608
            f"SELECT DISTINCT c.referral_id, s.kind FROM {step_table} s "
            f"JOIN {case} c ON c.id = s.case_id WHERE s.status = %s",
            [ProtectionStep.Status.DONE],
        )
        if connection.vendor == "postgresql":
            # Fresh planner statistics: the releases' plans depend on them.
            cursor.execute(f"ANALYZE {published}")
            cursor.execute(f"ANALYZE {step}")
    referrals = PublishedFact.objects.filter(is_primary=True).count()
    publication = Publication.objects.create(referrals=referrals, rows=rows)
    logger.info("statistics published: %d referrals, %d rows", referrals, rows)
    return publication
