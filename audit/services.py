"""Writing the access log (append-only, hash-chained) and verifying it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from . import context
from .models import GENESIS, AccessAction, AccessLog, AuditChainHead

READ_ACTIONS = frozenset(
    {AccessAction.REFERRAL_VIEW, AccessAction.CASE_VIEW, AccessAction.CASE_TIMELINE}
)


def _agency_of(user: Any) -> Any:
    membership = (
        getattr(user, "membership", None) if getattr(user, "is_authenticated", False) else None
    )
    return membership.agency if membership else None


def access_log_write(
    *,
    action: str,
    actor: Any = None,
    username: str = "",
    target_type: str = "",
    target_id: str | int = "",
    detail: dict | None = None,
) -> AccessLog | None:
    """Append one entry. The chain head row is locked for the rest of the
    transaction, so entries chain in commit order; keep callers' transactions
    short. Returns None when the access log is switched off (benchmarks only)."""
    if not settings.MNR_AUDIT_ACCESS_LOG:
        return None
    # A read logged in its own transaction commits without waiting for the WAL
    # flush (at most 3 x wal_writer_delay later): a crash in that window could
    # lose the last read entries, never corrupt the chain (entry and head commit
    # together). Security events (sign-ins, refusals, exports) and entries inside
    # a caller's transaction stay synchronous.
    asynchronous = (
        action in READ_ACTIONS
        and connection.vendor == "postgresql"
        and not connection.in_atomic_block
    )
    with transaction.atomic():
        return _append(action, actor, username, target_type, target_id, detail, asynchronous)


def access_log_refusal(
    *, actor: Any, method: str, path: str, target_type: str = "", target_id: str | int = ""
) -> AccessLog | None:
    """A refused action on something the user can see (API and web alike;
    refusals of what they cannot see are logged by the selectors)."""
    if not getattr(actor, "is_authenticated", False):
        return None
    return access_log_write(
        action=AccessAction.REFUSAL,
        actor=actor,
        target_type=target_type,
        target_id=target_id,
        detail={"method": method, "path": path},
    )


def _append(
    action: str,
    actor: Any,
    username: str,
    target_type: str,
    target_id: str | int,
    detail: dict | None,
    asynchronous: bool = False,
) -> AccessLog:
    ctx = context.current()
    authenticated = getattr(actor, "is_authenticated", False)
    entry = AccessLog(
        created_at=timezone.now(),
        actor=actor if authenticated else None,
        actor_username=(actor.get_username() if authenticated else username)[:150],
        agency=_agency_of(actor) if authenticated else None,
        action=action,
        target_type=target_type,
        target_id=str(target_id)[:64],
        ip=ctx.ip if ctx else None,
        request_id=ctx.request_id if ctx else "",
        detail=detail or {},
    )
    if connection.vendor == "postgresql" and _append_postgresql(entry, asynchronous):
        return entry
    head = AuditChainHead.objects.select_for_update().filter(id=1).first()
    if head is None:  # a fresh database (or one flushed by tests)
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(id=1)
    # Ids are given from the locked head: contiguous, so a gap is visible too.
    entry.prev_hash = head.last_hash
    entry.pk = head.last_id + 1
    entry.hash = entry.compute_hash()
    entry.save(force_insert=True)
    head.last_id = entry.pk
    head.last_hash = entry.hash
    head.count += 1
    head.save(update_fields=["last_id", "last_hash", "count"])
    return entry


def _append_postgresql(entry: AccessLog, asynchronous: bool) -> bool:
    """The same append in two statements (lock the head; insert the entry and
    move the head in one data-modifying CTE): the entry is written on every
    logged read, so its round trips count. False when the head row is missing
    (the ORM path creates it)."""
    head_table = connection.ops.quote_name(AuditChainHead._meta.db_table)
    log_table = connection.ops.quote_name(AccessLog._meta.db_table)
    # A read's entry commits without waiting for the WAL flush (see above).
    relaxed = ", set_config('synchronous_commit', 'off', true)" if asynchronous else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT last_id, last_hash{relaxed} FROM {head_table} WHERE id = 1 FOR UPDATE"  # noqa: S608 (names from the models)
        )
        row = cursor.fetchone()
        if row is None:
            return False
        entry.pk, entry.prev_hash = row[0] + 1, row[1]
        entry.hash = entry.compute_hash()
        fields = AccessLog._meta.concrete_fields
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        values = [f.get_db_prep_save(getattr(entry, f.attname), connection) for f in fields]
        # Table and column names come from the models; every value is bound.
        insert = (
            f"WITH entry AS (INSERT INTO {log_table} ({columns}) "  # noqa: S608
            f"VALUES ({', '.join(['%s'] * len(values))})) "
            f"UPDATE {head_table} SET last_id = %s, last_hash = %s, count = count + 1 "
            "WHERE id = 1"
        )
        cursor.execute(insert, [*values, entry.pk, entry.hash])
    entry._state.adding = False
    entry._state.db = connection.alias
    return True


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    first_broken_id: int | None = None
    reason: str = ""


def verify_chain() -> ChainReport:
    """Recompute every hash and link, in id order; the first inconsistency wins."""
    head = AuditChainHead.objects.filter(id=1).first()
    previous_hash = GENESIS
    previous_id = 0
    checked = 0
    for entry in AccessLog.objects.order_by("pk").iterator(chunk_size=2000):
        checked += 1
        if entry.prev_hash != previous_hash:
            return ChainReport(
                False,
                checked,
                entry.pk,
                f"entry {entry.pk} does not follow entry {previous_id} "
                "(an entry was deleted or inserted before it)",
            )
        if entry.compute_hash() != entry.hash:
            return ChainReport(False, checked, entry.pk, f"entry {entry.pk} was altered")
        previous_hash, previous_id = entry.hash, entry.pk
    if head is None:
        if checked:
            return ChainReport(False, checked, None, "the chain head is missing")
        return ChainReport(True, 0)
    if head.last_id != previous_id or head.last_hash != previous_hash or head.count != checked:
        return ChainReport(
            False,
            checked,
            previous_id or None,
            f"the chain ends at entry {previous_id} but its head records entry {head.last_id} "
            f"and {head.count} entries (entries were deleted or added at the end)",
        )
    return ChainReport(True, checked)
