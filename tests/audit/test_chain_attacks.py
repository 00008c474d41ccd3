"""Attacks on the access log, made as the PostgreSQL superuser (the tests' own
connection), and what stops or reveals each one: the triggers, the HMAC chain,
the signed checkpoints outside the database. Each test names the first bad
entry that verify_chain must report.

Attacks observed before (all passed verify_audit then):
 a. cutting the tail then moving the head back;
 b. TRUNCATE of the log then resetting the head to genesis ("intact: 0 entries");
 c. recomputing the unkeyed SHA-256 chain after altering an entry;
 d. a superuser skipping the triggers (session_replication_role = replica).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit import checkpoint as checkpoints
from audit.checkpoint import CheckpointError, read_checkpoints, write_checkpoint
from audit.models import GENESIS, AccessLog, AuditChainHead, canonical_payload, chain_hash
from audit.services import access_log_write, verify_chain

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def checkpoint_dir(settings, tmp_path):
    settings.MNR_AUDIT_CHECKPOINT_DIR = tmp_path / "checkpoints"
    return settings.MNR_AUDIT_CHECKPOINT_DIR


def write_chain(n: int = 12) -> list[AccessLog]:
    return [
        access_log_write(action="case.view", username=f"u{i}", target_type="case", target_id=str(i))
        for i in range(n)
    ]


def sql(statement: str, params: list | None = None) -> list:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


@contextmanager
def triggers_off() -> Iterator[None]:
    """What only a superuser can do: run with every ordinary trigger skipped."""
    sql("SET session_replication_role = replica")
    try:
        yield
    finally:
        sql("SET session_replication_role = DEFAULT")


def refused(statement: str, params: list | None = None, match: str = "") -> None:
    with pytest.raises(DatabaseError, match=match), transaction.atomic():
        sql(statement, params)


def head() -> tuple[int, str, int]:
    return AuditChainHead.objects.values_list("last_id", "last_hash", "count").get()


def broken(first_id: int | None, *words: str):
    report = verify_chain()
    assert not report.ok, report
    assert report.first_broken_id == first_id, report
    for word in words:
        assert word in report.reason, report
    return report


def sha256_link(entry: AccessLog, prev_hash: str) -> str:
    """The old, unkeyed link: anyone can recompute it."""
    entry.prev_hash = prev_hash
    message = f"{prev_hash}|{canonical_payload(entry.payload())}"
    return hashlib.sha256(message.encode()).hexdigest()


def relink(from_id: int, link) -> None:
    """Recompute the chain from ``from_id`` to the end with ``link`` and move the
    head to match (triggers off): what an attacker would do to hide a change."""
    entries = list(AccessLog.objects.order_by("pk"))
    prev_hash = entries[from_id - 2].hash if from_id > 1 else GENESIS
    with triggers_off():
        for entry in entries[from_id - 1 :]:
            new_hash = link(entry, prev_hash)
            sql(
                "UPDATE audit_accesslog SET prev_hash = %s, hash = %s WHERE id = %s",
                [prev_hash, new_hash, entry.pk],
            )
            prev_hash = new_hash
        sql("UPDATE audit_auditchainhead SET last_hash = %s WHERE id = 1", [prev_hash])


# The naive attacks: refused by the triggers, revealed when forced.


def test_intact_chain_with_checkpoint_verifies(postgres, capsys):
    write_chain()
    write_checkpoint()
    report = verify_chain(require_checkpoint=True)
    assert report.ok and report.checked == 12 and report.checkpoints == 1
    call_command("verify_audit", "--require-checkpoint")
    out = capsys.readouterr().out
    assert "intact: 12 entries" in out and "1 checkpoint(s) verified" in out


def test_naive_edit_is_refused_and_detected_when_forced(postgres):
    write_chain()
    refused("UPDATE audit_accesslog SET target_id = 'x' WHERE id = 5", match="append-only")
    with triggers_off():
        sql("UPDATE audit_accesslog SET target_id = 'x' WHERE id = 5")
    broken(5, "entry 5 was altered")


def test_naive_delete_is_refused_and_detected_when_forced(postgres):
    write_chain()
    refused("DELETE FROM audit_accesslog WHERE id = 5", match="append-only")
    with triggers_off():
        sql("DELETE FROM audit_accesslog WHERE id = 5")
    broken(6, "entry 6 does not follow entry 4")


def test_insert_out_of_turn_is_refused_and_detected_when_forced(postgres):
    chain = write_chain()
    fields = (
        "INSERT INTO audit_accesslog (id, created_at, actor_username, action, target_type, "
        "target_id, ip, request_id, detail, prev_hash, hash) VALUES "
        "(%s, now(), 'forger', 'case.view', 'case', '9', NULL, '', '{}', %s, %s)"
    )
    # Not the next id, or not linked to the head: the INSERT trigger refuses it.
    refused(fields, [20, chain[-1].hash, "f" * 64], match="does not follow the chain head")
    refused(fields, [13, chain[3].hash, "f" * 64], match="does not follow the chain head")
    # Forced in the middle, after moving the later entries away.
    with triggers_off():
        sql("UPDATE audit_accesslog SET id = id + 100 WHERE id > 4")
        sql(fields, [5, chain[3].hash, "f" * 64])
    broken(5, "entry 5 was altered")


def test_forged_entry_at_the_end_without_the_key_is_detected(postgres):
    chain = write_chain()
    # It follows the head, so the trigger lets it in and advances the head;
    # without the chain key its hash cannot be the HMAC.
    forged = AccessLog(
        pk=13,
        created_at=timezone.now(),
        actor_username="forger",
        action="case.view",
        target_type="case",
        target_id="9",
        detail={},
    )
    forged.hash = sha256_link(forged, chain[-1].hash)
    sql(
        "INSERT INTO audit_accesslog (id, created_at, actor_username, action, target_type, "
        "target_id, request_id, detail, prev_hash, hash) "
        "VALUES (13, %s, 'forger', 'case.view', 'case', '9', '', '{}', %s, %s)",
        [forged.created_at, forged.prev_hash, forged.hash],
    )
    assert head() == (13, forged.hash, 13)
    broken(13, "entry 13 was altered")


def test_reordering_is_detected(postgres):
    write_chain()
    with triggers_off():
        sql("UPDATE audit_accesslog SET id = 1000 WHERE id = 4")
        sql("UPDATE audit_accesslog SET id = 4 WHERE id = 5")
        sql("UPDATE audit_accesslog SET id = 5 WHERE id = 1000")
    broken(4, "entry 4 does not follow entry 3")


# The head: it only advances with the log.


def test_head_cannot_move_back_skip_ahead_or_be_deleted(postgres):
    chain = write_chain()
    refused(
        "UPDATE audit_auditchainhead SET last_id = 8, last_hash = %s, count = 8",
        [chain[7].hash],
        match="only advances",
    )
    refused(
        "UPDATE audit_auditchainhead SET last_id = 13, last_hash = %s, count = 13",
        ["e" * 64],
        match="only advances",
    )
    refused("UPDATE audit_auditchainhead SET last_hash = %s", ["e" * 64], match="only advances")
    refused("DELETE FROM audit_auditchainhead", match="cannot be deleted")
    refused(
        "INSERT INTO audit_auditchainhead (id, last_id, last_hash, count) VALUES (1, 0, %s, 0)",
        [GENESIS],
        match="only created at genesis",
    )
    assert head() == (12, chain[-1].hash, 12)
    assert verify_chain().ok


def test_attack_a_cut_tail_and_head_moved_back(postgres):
    chain = write_chain()
    write_checkpoint()
    refused("DELETE FROM audit_accesslog WHERE id > 8", match="append-only")
    refused(
        "UPDATE audit_auditchainhead SET last_id = 8, last_hash = %s, count = 8",
        [chain[7].hash],
        match="only advances",
    )
    with triggers_off():
        sql("DELETE FROM audit_accesslog WHERE id > 8")
        sql(
            "UPDATE audit_auditchainhead SET last_id = 8, last_hash = %s, count = 8",
            [chain[7].hash],
        )
    # Log and head agree: only the checkpoint, outside the database, knows better.
    broken(9, "ends at entry 8", "recorded entry 12", "removed")
    with pytest.raises(CommandError, match="first broken link: 9"):
        call_command("verify_audit")
    # And no checkpoint is written over the rollback.
    with pytest.raises(CheckpointError, match="no longer holds entry 12"):
        write_checkpoint()


def test_attack_a_new_entries_after_the_rollback_are_detected(postgres):
    chain = write_chain()
    write_checkpoint()
    with triggers_off():
        sql("DELETE FROM audit_accesslog WHERE id > 8")
        sql(
            "UPDATE audit_auditchainhead SET last_id = 8, last_hash = %s, count = 8",
            [chain[7].hash],
        )
    write_chain(6)  # the application goes on writing entries 9 to 14
    broken(12, "entry 12 does not match checkpoint #1", "after entry 0")


def test_attack_b_truncate_and_head_reset_to_genesis(postgres, capsys):
    write_chain()
    write_checkpoint()
    sql("SET CONSTRAINTS ALL IMMEDIATE")  # the test's transaction: check the FKs now
    sql("TRUNCATE audit_accesslog")
    broken(1, "ends at entry 0", "removed")
    refused(
        "UPDATE audit_auditchainhead SET last_id = 0, last_hash = %s, count = 0",
        [GENESIS],
        match="only advances",
    )
    sql("TRUNCATE audit_auditchainhead")
    sql("SELECT * FROM audit_head_lock()")  # recreates the head at genesis
    assert head() == (0, GENESIS, 0)
    # Before checkpoints this said "intact: 0 entries".
    broken(1, "ends at entry 0", "recorded entry 12", "truncated")
    with pytest.raises(CommandError, match="first broken link: 1"):
        call_command("verify_audit")


def test_attack_c_unkeyed_chain_recomputed_after_an_edit(postgres):
    write_chain()
    with triggers_off():
        sql("UPDATE audit_accesslog SET actor_username = 'someone-else' WHERE id = 5")
    relink(5, sha256_link)
    # Every link follows and the head matches: only the HMAC tells.
    broken(5, "entry 5 was altered")


@pytest.mark.parametrize(
    ("attack", "first_bad", "words"),
    [
        ("UPDATE audit_accesslog SET detail = '{\"x\": 1}' WHERE id = 7", 7, ["altered"]),
        ("UPDATE audit_accesslog SET created_at = created_at - interval '1 day'", 1, ["altered"]),
        ("DELETE FROM audit_accesslog WHERE id = 3", 4, ["does not follow entry 2"]),
        ("DELETE FROM audit_accesslog WHERE id = 12", 12, ["head records entry 12"]),
        ("UPDATE audit_auditchainhead SET last_id = 99", 13, ["head records entry 99"]),
        ("DELETE FROM audit_auditchainhead", None, ["head is missing"]),
    ],
)
def test_attack_d_superuser_with_triggers_off(postgres, attack, first_bad, words):
    write_chain()
    with triggers_off():
        sql(attack)
    broken(first_bad, *words)


def test_rewrite_with_the_chain_key_is_detected_by_the_checkpoints(postgres):
    """The owner who also holds MNR_AUDIT_CHAIN_KEY can recompute valid HMACs;
    the checkpoints shipped before the rewrite still reveal it."""
    for _ in range(3):
        write_chain(4)
        write_checkpoint()  # at entries 4, 8 and 12
    with triggers_off():
        sql("UPDATE audit_accesslog SET target_id = 'hidden' WHERE id = 6")

    def hmac_link(entry: AccessLog, prev_hash: str) -> str:
        entry.refresh_from_db()
        return chain_hash(prev_hash, entry.payload())

    relink(6, hmac_link)
    broken(8, "entry 8 does not match checkpoint #2", "after entry 4")


# The checkpoint file: signed lines, each linked to the one before.


def lines(path) -> list[str]:
    return path.read_text().splitlines()


def rewrite(path, new_lines: list[str]) -> None:
    path.write_text("".join(f"{line}\n" for line in new_lines))


def three_checkpoints(checkpoint_dir):
    for _ in range(3):
        write_chain(2)
        write_checkpoint()
    return checkpoint_dir / "checkpoints.jsonl"


def test_no_checkpoint_yet_is_a_warning_unless_required(capsys):
    write_chain(2)
    report = verify_chain()
    assert report.ok and "no checkpoint yet" in report.warnings[0]
    call_command("verify_audit")
    captured = capsys.readouterr()
    assert "intact: 2 entries" in captured.out and "no checkpoint yet" in captured.err
    assert not verify_chain(require_checkpoint=True).ok
    with pytest.raises(CommandError, match="no checkpoint yet"):
        call_command("verify_audit", "--require-checkpoint")


def test_checkpoint_lines_are_signed_and_linked(checkpoint_dir):
    path = three_checkpoints(checkpoint_dir)
    book = read_checkpoints()
    assert [(c.seq, c.last_id, c.count) for c in book.checkpoints] == [
        (1, 2, 2),
        (2, 4, 4),
        (3, 6, 6),
    ]
    assert not book.problem and verify_chain().ok
    first = json.loads(lines(path)[0])
    assert first["prev"] == GENESIS and first["kid"] == checkpoints.key_id()
    assert json.loads(lines(path)[1])["prev"] == hashlib.sha256(lines(path)[0].encode()).hexdigest()


def test_edited_checkpoint_line_is_detected(checkpoint_dir):
    path = three_checkpoints(checkpoint_dir)
    edited = lines(path)
    body = json.loads(edited[1])
    body["last_id"] = body["count"] = 3
    edited[1] = json.dumps(body, sort_keys=True, separators=(",", ":"))
    rewrite(path, edited)
    report = verify_chain()
    assert not report.ok and report.first_broken_id is None
    assert "line 2 has a bad signature" in report.reason


@pytest.mark.parametrize(
    ("keep", "bad_line"),
    [([0, 2], 2), ([1, 2], 1), ([0, 2, 1], 2), ([0, 1, 1, 2], 3)],
    ids=["removed", "first-removed", "reordered", "duplicated"],
)
def test_removed_or_reordered_checkpoint_lines_are_detected(checkpoint_dir, keep, bad_line):
    path = three_checkpoints(checkpoint_dir)
    original = lines(path)
    rewrite(path, [original[i] for i in keep])
    report = verify_chain()
    assert not report.ok and f"line {bad_line} does not follow" in report.reason


def test_cut_line_is_detected(checkpoint_dir):
    path = three_checkpoints(checkpoint_dir)
    path.write_text(path.read_text()[:-20])
    report = verify_chain()
    assert not report.ok and "line 3 is incomplete" in report.reason
    with pytest.raises(CheckpointError, match="incomplete"):
        write_checkpoint()


def test_stale_last_checkpoint_is_a_warning(checkpoint_dir):
    write_chain(2)
    write_checkpoint(now=timezone.now() - timedelta(hours=3))
    report = verify_chain(max_checkpoint_age=timedelta(minutes=60))
    assert report.ok and "180 minutes old" in report.warnings[0]


def test_rollback_behind_a_checkpoint_is_detected_on_any_database(checkpoint_dir):
    """SQLite has no triggers: the checkpoints still reveal a cut tail."""
    chain = write_chain(6)
    write_checkpoint()
    with triggers_off() if connection.vendor == "postgresql" else nullcontext():
        sql("DELETE FROM audit_accesslog WHERE id > 3")
        sql(
            "UPDATE audit_auditchainhead SET last_id = 3, last_hash = %s, count = 3",
            [chain[2].hash],
        )
    broken(4, "ends at entry 3", "recorded entry 6")


def test_concurrent_checkpoint_writers_do_not_fork_the_file(checkpoint_dir, monkeypatch):
    monkeypatch.setattr(checkpoints, "_head", lambda: (0, GENESIS, 0))
    errors: list[Exception] = []

    def writer() -> None:
        try:
            for _ in range(10):
                write_checkpoint()
        except Exception as exc:  # asserted below
            errors.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    book = read_checkpoints()
    assert not errors and not book.problem
    assert [c.seq for c in book.checkpoints] == list(range(1, 41))


def test_checkpoint_command_and_task(checkpoint_dir, capsys):
    from audit.tasks import audit_checkpoint_task

    write_chain(3)
    call_command("audit_checkpoint")
    assert "Checkpoint #1 written" in capsys.readouterr().out
    assert audit_checkpoint_task.apply().get() == 2
    call_command("audit_checkpoint", "--public-key")
    assert capsys.readouterr().out.strip() == checkpoints.public_key_text()
    assert [c.last_id for c in read_checkpoints().checkpoints] == [3, 3]


# Writing under load: the head serialises writers, in two round trips.


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_chain_in_order(postgres):
    errors: list[Exception] = []
    barrier = threading.Barrier(6)

    def appender(n: int) -> None:
        try:
            barrier.wait(timeout=10)
            for i in range(10):
                access_log_write(action="case.view", username=f"t{n}", target_id=str(i))
        except Exception as exc:  # asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=appender, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    report = verify_chain()
    assert report.ok and report.checked == 60
    assert head()[0] == 60


@pytest.mark.django_db(transaction=True)
def test_append_takes_two_round_trips(postgres):
    access_log_write(action="auth.login", username="first")  # creates the head
    with CaptureQueriesContext(connection) as queries:
        access_log_write(action="case.view", username="x", target_type="case", target_id="1")
    # Besides the transaction's own BEGIN and COMMIT (as before).
    statements = [q["sql"] for q in queries.captured_queries if q["sql"] not in {"BEGIN", "COMMIT"}]
    assert len(statements) == 2, statements
    assert "audit_head_lock()" in statements[0] and "synchronous_commit" in statements[0]
    assert statements[1].startswith('INSERT INTO "audit_accesslog"')
    assert verify_chain().ok
