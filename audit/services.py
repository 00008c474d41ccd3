"""Writing the access log (append-only, hash-chained) and verifying it."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from . import context
from .checkpoint import Checkpoint, read_checkpoints
from .models import GENESIS, AccessAction, AccessLog, AuditChainHead

READ_ACTIONS = frozenset(
    {
        AccessAction.REFERRAL_VIEW,
        AccessAction.CASE_VIEW,
        AccessAction.CASE_TIMELINE,
        AccessAction.REFERRAL_LIST,
        AccessAction.CASE_LIST,
    }
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


# The lists whose rows show identity (names), and what their entries target.
LIST_TARGETS = {AccessAction.REFERRAL_LIST: "referral", AccessAction.CASE_LIST: "case"}


def access_log_list(
    *,
    actor: Any,
    action: str,
    refs: list[str],
    view: str,
    filters: list[str] | tuple[str, ...] = (),
) -> AccessLog | None:
    """One entry for one page of a list that shows identity (API and web alike):
    ``detail`` holds the references shown, in order, which list (``view``) and
    the names of the filters used, never their values (a search term may be a
    name). An empty page, or no signed-in user, writes nothing."""
    refs = list(dict.fromkeys(str(ref) for ref in refs))
    if not refs or not getattr(actor, "is_authenticated", False):
        return None
    return access_log_write(
        action=action,
        actor=actor,
        target_type=LIST_TARGETS[action],
        detail={"view": view, "refs": refs, "filters": sorted(set(filters))},
    )


def detail_shown(detail: dict[str, Any]) -> dict[str, Any]:
    """An entry's detail as its readers see it: values encrypted when written
    (typed text, e.g. a second-factor reset's reason) are decrypted; one
    encrypted under a key since retired says so."""
    from cryptography.fernet import InvalidToken

    from common import crypto

    shown = {}
    for name, value in detail.items():
        if isinstance(value, str) and value.startswith(crypto.PREFIX):
            try:
                value = crypto.decrypt(value)
            except InvalidToken:
                value = "(encrypted with a retired key)"
        shown[name] = value
    return shown


def unknown_username(typed: str) -> str:
    """What the log keeps of a name that is no account: a keyed hash. People type
    their own name, a victim's, a password into a username box; the log must
    not keep it, yet repeated tries of the same text stay recognisable."""
    digest = salted_hmac("mnr.audit.unknown-username", typed.strip().casefold()).hexdigest()
    return f"unknown:{digest[:32]}"


# Access-log filters whose values are codes, numbers or dates (kept as asked);
# the others are typed text, kept only when they name what exists.
_CODED_FILTERS = frozenset({"action", "agency", "created_after", "created_before"})
_REFERENCE = re.compile(r"^MNR-\d{4}-\d{1,9}$|^\d{1,19}$")
_TARGET_TYPE = re.compile(r"^[a-z_]{1,32}$")


def access_log_query(*, actor: Any, asked: dict[str, str]) -> AccessLog | None:
    """Log a reading of the access log with what was asked. A typed actor is kept
    when it is an account, otherwise as a keyed hash; a typed target when it has
    the shape of a reference or id; anything else by its name only."""
    from django.contrib.auth import get_user_model

    detail: dict[str, Any] = {}
    for name, value in asked.items():
        if name in _CODED_FILTERS:
            detail[name] = value
        elif name == "actor":
            known = get_user_model()._default_manager.filter(username=value).exists()
            detail[name] = value if known else unknown_username(value)
        elif (name == "target_id" and _REFERENCE.match(value)) or (
            name == "target_type" and _TARGET_TYPE.match(value)
        ):
            detail[name] = value
        else:
            detail[name] = "(typed text, not kept)"
    return access_log_write(
        action=AccessAction.AUDIT_VIEW, actor=actor, target_type="access_log", detail=detail
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
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            append_postgresql(cursor, entry, asynchronous=asynchronous)
        entry._state.adding = False
        entry._state.db = connection.alias
        return entry
    # SQLite (the demo): no triggers, the same steps through the ORM.
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


def append_postgresql(cursor: Any, entry: AccessLog, *, asynchronous: bool = False) -> None:
    """The append in two round trips, as the application's role can do it
    (migration 0007): ``audit_head_lock()`` creates the head at genesis if need
    be and returns it locked until the end of the transaction; the entry is then
    INSERTed with its HMAC, and the log's INSERT trigger checks that it follows
    the head and advances the head. The caller holds the transaction.

    ``cursor`` is a Django cursor, or a psycopg one (tests connect as the
    application's role); values are prepared for the default connection."""
    log_table = connection.ops.quote_name(AccessLog._meta.db_table)
    # A read's entry commits without waiting for the WAL flush (see above).
    relaxed = ", set_config('synchronous_commit', 'off', true)" if asynchronous else ""
    cursor.execute(f"SELECT last_id, last_hash{relaxed} FROM audit_head_lock()")  # noqa: S608
    row = cursor.fetchone()
    entry.pk, entry.prev_hash = row[0] + 1, row[1]
    entry.hash = entry.compute_hash()
    fields = AccessLog._meta.concrete_fields
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    values = [f.get_db_prep_save(getattr(entry, f.attname), connection) for f in fields]
    # Table and column names come from the model; every value is bound.
    cursor.execute(
        f"INSERT INTO {log_table} ({columns}) VALUES ({', '.join(['%s'] * len(values))})",  # noqa: S608
        values,
    )


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    first_broken_id: int | None = None
    reason: str = ""
    warnings: tuple[str, ...] = ()
    checkpoints: int = 0
    last_checkpoint: Checkpoint | None = None


class _Broken(Exception):
    def __init__(self, entry_id: int | None, reason: str, checked: int) -> None:
        super().__init__(reason)
        self.entry_id, self.reason, self.checked = entry_id, reason, checked


@contextmanager
def _snapshot() -> Iterator[None]:
    """On PostgreSQL, one REPEATABLE READ snapshot: the head and the entries are
    read as of one moment, whatever is appended meanwhile. (Inside a caller's
    transaction, or on SQLite, the caller's view is used.)"""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def verify_chain(
    *, require_checkpoint: bool = False, max_checkpoint_age: timedelta | None = None
) -> ChainReport:
    """Check, streaming in id order: every entry's link and HMAC and that ids are
    contiguous; every checkpoint's signature and link (audit/checkpoint.py); that
    the log still holds, for each checkpoint, the entry at its last_id with its
    hash and count; that the head matches the last entry and is at or after the
    last checkpoint. The first inconsistency in id order wins. No checkpoint yet
    is a warning, unless ``require_checkpoint``."""
    # The file is read before the database: a checkpoint written meanwhile is
    # simply not used (it could name entries the snapshot does not hold).
    book = read_checkpoints()
    warnings: list[str] = []
    problem = ""
    if book.problem:
        problem = f"checkpoint file {book.path}: {book.problem}"
    elif book.missing:
        missing = (
            f"no checkpoint yet in {book.path}: nothing outside the database vouches for "
            "the log's length (run audit_checkpoint; the beat task writes one regularly)"
        )
        if require_checkpoint:
            problem = missing
        else:
            warnings.append(missing)
    last = book.last
    if last and max_checkpoint_age and timezone.now() - last.time > max_checkpoint_age:
        age = int((timezone.now() - last.time).total_seconds() // 60)
        warnings.append(
            f"the last checkpoint ({last.describe()}) is {age} minutes old: is the beat task "
            "running? (a checkpoint file cut at its end looks like this too)"
        )
    checked = 0
    broken: _Broken | None = None
    try:
        with _snapshot():
            checked = _verify_entries(book.checkpoints)
    except _Broken as exc:
        broken = exc
    report = {
        "warnings": tuple(warnings),
        "checkpoints": len(book.checkpoints),
        "last_checkpoint": last,
    }
    if broken is not None:
        reason = broken.reason + (f"; and the {problem}" if problem else "")
        return ChainReport(False, broken.checked, broken.entry_id, reason, **report)
    if problem:
        return ChainReport(False, checked, None, problem, **report)
    return ChainReport(True, checked, **report)


def _verify_entries(checkpoints: list[Checkpoint]) -> int:
    """The database's part of verify_chain; raises _Broken (with ``checked``)."""
    pending = deque(checkpoints)
    checked = 0

    def broken(entry_id: int | None, reason: str) -> _Broken:
        return _Broken(entry_id, reason, checked)

    while pending and pending[0].last_id == 0:
        genesis = pending.popleft()
        if genesis.last_hash != GENESIS or genesis.count:
            raise broken(1, f"{genesis.describe()} records an empty log with a non-empty head")
    head = AuditChainHead.objects.filter(id=1).first()
    previous_hash, previous_id, last_good = GENESIS, 0, 0
    for entry in AccessLog.objects.order_by("pk").iterator(chunk_size=2000):
        checked += 1
        if entry.prev_hash != previous_hash:
            raise broken(
                entry.pk,
                f"entry {entry.pk} does not follow entry {previous_id} "
                "(an entry was deleted or inserted before it)",
            )
        if entry.compute_hash() != entry.hash:
            raise broken(
                entry.pk,
                f"entry {entry.pk} was altered (its HMAC does not match: changed, "
                "forged, or written without the chain key)",
            )
        if entry.pk != previous_id + 1:
            raise broken(
                entry.pk,
                f"entry {entry.pk} follows entry {previous_id}: the entries between were "
                "deleted and the chain re-linked",
            )
        while pending and pending[0].last_id == entry.pk:
            checkpoint = pending.popleft()
            if checkpoint.last_hash != entry.hash or checkpoint.count != checked:
                raise broken(
                    entry.pk,
                    f"entry {entry.pk} does not match {checkpoint.describe()}: the log was "
                    f"rewritten at or before it, after entry {last_good}",
                )
            last_good = entry.pk
        previous_hash, previous_id = entry.hash, entry.pk
    if pending:
        checkpoint = pending[-1]
        raise broken(
            previous_id + 1,
            f"the log ends at entry {previous_id} but {checkpoint.describe()} recorded "
            f"entry {checkpoint.last_id}: entries {previous_id + 1} to {checkpoint.last_id} "
            "were removed (truncated or rolled back)",
        )
    if head is None:
        if checked:
            raise broken(None, "the chain head is missing")
        return checked
    if head.last_id != previous_id or head.last_hash != previous_hash or head.count != checked:
        raise broken(
            min(head.last_id, previous_id) + 1,
            f"the chain ends at entry {previous_id} but its head records entry {head.last_id} "
            f"and {head.count} entries (entries were deleted or added at the end)",
        )
    # Implied by the checks above (the head matches the log, which reaches every
    # checkpoint), kept as the rule it is.
    if checkpoints and head.last_id < checkpoints[-1].last_id:
        raise broken(head.last_id + 1, f"the chain head is behind {checkpoints[-1].describe()}")
    return checked
