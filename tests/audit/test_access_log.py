"""The access log: what is recorded, append-only, and the hash chain.

The attacks on the chain, its head and its checkpoints: test_chain_attacks.py."""

from __future__ import annotations

import hashlib
import hmac
import importlib

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test import Client

from audit.models import GENESIS, AccessLog, AppendOnlyError, AuditChainHead, canonical_payload
from audit.services import access_log_write, verify_chain

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _checkpoint_dir(settings, tmp_path):
    settings.MNR_AUDIT_CHECKPOINT_DIR = tmp_path / "checkpoints"


def entries(**filters):
    return list(AccessLog.objects.filter(**filters).order_by("pk"))


def test_detail_reads_are_logged_with_actor_agency_ip_and_request_id(api, world, open_case):
    client = api.as_(world.paris_manager)
    r = client.get(f"/api/v1/referrals/{open_case.reference}/", HTTP_X_REQUEST_ID="req-123")
    assert r.headers["X-Request-ID"] == "req-123"
    client.get(f"/api/v1/cases/{open_case.reference}/")
    views = entries(actor=world.paris_manager)
    assert [(e.action, e.target_type, e.target_id) for e in views] == [
        ("referral.view", "referral", open_case.reference),
        ("case.view", "case", open_case.reference),
    ]
    assert views[0].request_id == "req-123" and views[1].request_id
    assert views[0].agency == world.paris
    assert views[0].ip == "127.0.0.1"
    assert views[0].actor_username == world.paris_manager.username


def test_writes_are_not_reads_and_a_list_page_is_one_entry(api, world, open_case):
    before = AccessLog.objects.count()
    api.get(world.paris_worker, "/api/v1/cases/")
    # The list shows names: one case.list entry for the page (not one per row).
    assert list(AccessLog.objects.filter(pk__gt=before).values_list("action", flat=True)) == [
        "case.list"
    ]
    after_list = AccessLog.objects.count()
    api.post(world.paris_worker, f"/api/v1/cases/{open_case.reference}/notes/", {"text": "x"})
    assert AccessLog.objects.count() == after_list


def test_refusals_of_existing_and_missing_objects_are_logged_alike(api, world, open_case):
    # Logging only the refusals of existing objects told a prober which exist.
    api.get(world.national_worker, f"/api/v1/cases/{open_case.reference}/")
    api.get(world.national_worker, f"/api/v1/referrals/{open_case.reference}/")
    api.get(world.national_worker, "/api/v1/cases/MNR-1999-000001/")
    api.get(world.national_worker, "/api/v1/referrals/MNR-1999-000001/")
    refusals = entries(action="access.refused")
    assert [(e.actor, e.target_type, e.target_id) for e in refusals] == [
        (world.national_worker, "case", open_case.reference),
        (world.national_worker, "referral", open_case.reference),
        (world.national_worker, "case", "MNR-1999-000001"),
        (world.national_worker, "referral", "MNR-1999-000001"),
    ]
    # A 403 on something visible is a refusal too (a caseworker asking the workload).
    api.get(world.paris_worker, "/api/v1/workload/")
    assert entries(action="access.refused", actor=world.paris_worker)


def test_sign_in_failed_sign_in_and_tokens_are_logged(api, world, api_client):
    password = "a-long-test-password"
    r = api_client.post(
        "/api/v1/auth/token/",
        {"username": world.referrer.username, "password": "nope"},
        format="json",
    )
    assert r.status_code == 401
    failed = entries(action="auth.login_failed")
    assert len(failed) == 1 and failed[0].actor_username == world.referrer.username
    assert "nope" not in str(failed[0].detail)
    token = api_client.post(
        "/api/v1/auth/token/",
        {"username": world.referrer.username, "password": password},
        format="json",
    ).json()
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token['token']}")
    api_client.delete("/api/v1/auth/token/")
    assert [e.action for e in entries(actor=world.referrer)] == [
        "auth.login",
        "auth.token_create",
        "auth.token_revoke",
    ]
    assert entries(action="auth.login", actor=world.referrer)[0].detail == {"channel": "api"}
    web = Client(SERVER_NAME="localhost")
    r = web.post("/sign-in/", {"username": world.referrer.username, "password": password})
    assert r.status_code == 302 and r["Location"] == "/"
    logins = entries(action="auth.login", actor=world.referrer)
    assert [e.detail["channel"] for e in logins] == ["api", "web"]


def test_orm_refuses_updates_and_deletes():
    entry = access_log_write(action="case.view", username="x", target_type="case", target_id="1")
    entry.target_id = "2"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        AccessLog.objects.filter(pk=entry.pk).update(target_id="3")
    with pytest.raises(AppendOnlyError):
        AccessLog.objects.all().delete()
    assert AccessLog.objects.get().target_id == "1"


def test_database_trigger_refuses_raw_updates_and_deletes(postgres):
    access_log_write(action="case.view", username="x", target_type="case", target_id="1")
    for sql in ("UPDATE audit_accesslog SET target_id = 'x'", "DELETE FROM audit_accesslog"):
        refused = pytest.raises(Exception, match="append-only")
        with refused, transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    assert AccessLog.objects.get().target_id == "1"


def write_chain(n: int = 5) -> list[AccessLog]:
    return [
        access_log_write(action="case.view", username=f"u{i}", target_type="case", target_id=str(i))
        for i in range(n)
    ]


def raw(sql: str, params: list | None = None) -> None:
    """Tamper as someone with direct database access would (trigger off on PostgreSQL)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")  # triggers off
        cursor.execute(sql, params or [])
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = DEFAULT")


def test_intact_chain_verifies(capsys):
    write_chain()
    call_command("verify_audit")
    assert "intact: 5 entries" in capsys.readouterr().out


def test_altered_entry_is_detected():
    chain = write_chain()
    raw("UPDATE audit_accesslog SET actor_username = 'someone-else' WHERE id = %s", [chain[2].pk])
    report = verify_chain()
    assert not report.ok and report.first_broken_id == chain[2].pk and "altered" in report.reason
    with pytest.raises(CommandError, match=f"first broken link: {chain[2].pk}"):
        call_command("verify_audit")


def test_deleted_entry_is_detected():
    chain = write_chain()
    raw("DELETE FROM audit_accesslog WHERE id = %s", [chain[1].pk])
    report = verify_chain()
    assert not report.ok and report.first_broken_id == chain[2].pk
    assert "deleted or inserted" in report.reason


def test_deleted_last_entry_is_detected():
    chain = write_chain()
    raw("DELETE FROM audit_accesslog WHERE id = %s", [chain[-1].pk])
    report = verify_chain()
    assert not report.ok and "head" in report.reason


def test_inserted_entry_is_detected():
    chain = write_chain()
    # A forged entry between two real ones, with a plausible-looking hash.
    first = chain[1]
    raw("UPDATE audit_accesslog SET id = id + 100 WHERE id > %s", [first.pk])
    raw(
        "INSERT INTO audit_accesslog (id, created_at, actor_username, action, target_type, "
        "target_id, request_id, detail, prev_hash, hash) VALUES (%s, %s, 'forger', 'case.view', "
        "'case', '9', '', '{}', %s, %s)",
        [first.pk + 1, first.created_at, first.hash, "f" * 64],
    )
    report = verify_chain()
    assert not report.ok and report.first_broken_id == first.pk + 1


def test_chain_is_an_hmac_under_the_chain_key(settings):
    entry = write_chain(2)[1]
    message = f"{entry.prev_hash}|{canonical_payload(entry.payload())}".encode()
    key = settings.MNR_AUDIT_CHAIN_KEY.encode()
    assert entry.hash == hmac.new(key, message, hashlib.sha256).hexdigest()
    assert entry.hash != hashlib.sha256(message).hexdigest()
    # Another key, another chain: whoever lacks the key cannot recompute it.
    settings.MNR_AUDIT_CHAIN_KEY = "Zm9yZ2VkLWtleS1mb3JnZWQta2V5LWZvcmdlZC1rZXktMDA="
    report = verify_chain()
    assert not report.ok and report.first_broken_id == 1 and "altered" in report.reason


# Migration 0006: the legacy SHA-256 chain is verified, then re-keyed.

rechain_migration = importlib.import_module("audit.migrations.0006_hmac_chain")


class SchemaEditor:
    """What the migration uses of a schema editor (SQLite's refuses to open
    inside the test's transaction)."""

    connection = connection

    def execute(self, sql: str, params: tuple | None = ()) -> None:
        with connection.cursor() as cursor:
            cursor.execute(sql, params or None)


def migrate_0006(direction: str = "forwards") -> None:
    """Run 0006 as migrate would, atomically, on the historical models. On
    PostgreSQL the head's guard (0007, applied after it) is off meanwhile."""
    state = MigrationExecutor(connection).loader.project_state(("audit", "0005_list_read_actions"))
    postgresql = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if postgresql:
            cursor.execute("SET session_replication_role = replica")
        try:
            with transaction.atomic():
                getattr(rechain_migration, direction)(state.apps, SchemaEditor())
        finally:
            if postgresql:
                cursor.execute("SET session_replication_role = DEFAULT")


def make_legacy(n: int = 6) -> list[AccessLog]:
    """A chain as written before 0006: unkeyed SHA-256 (triggers off)."""
    chain = write_chain(n)
    prev_hash = GENESIS
    for entry in chain:
        entry.prev_hash = prev_hash
        entry.hash = hashlib.sha256(
            f"{prev_hash}|{canonical_payload(entry.payload())}".encode()
        ).hexdigest()
        raw(
            "UPDATE audit_accesslog SET prev_hash = %s, hash = %s WHERE id = %s",
            [entry.prev_hash, entry.hash, entry.pk],
        )
        prev_hash = entry.hash
    raw("UPDATE audit_auditchainhead SET last_hash = %s WHERE id = 1", [prev_hash])
    return chain


def test_migration_rechains_an_intact_legacy_chain():
    legacy = make_legacy()
    assert not verify_chain().ok  # SHA-256 links are not the HMAC
    migrate_0006()
    report = verify_chain()
    assert report.ok and report.checked == 6
    after = list(AccessLog.objects.order_by("pk"))
    assert [e.target_id for e in after] == [e.target_id for e in legacy]
    assert all(a.hash != b.hash for a, b in zip(after, legacy, strict=True))
    assert AuditChainHead.objects.get().last_hash == after[-1].hash
    # The reverse re-chains under SHA-256: the legacy chain again.
    migrate_0006("backwards")
    assert [e.hash for e in AccessLog.objects.order_by("pk")] == [e.hash for e in legacy]


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        ("UPDATE audit_accesslog SET target_id = 'x' WHERE id = 3", "broken at entry 3"),
        ("DELETE FROM audit_accesslog WHERE id = 3", "broken at entry 4"),
        ("DELETE FROM audit_accesslog WHERE id = 6", "broken at entry 6"),
    ],
)
def test_migration_refuses_to_rekey_a_tampered_legacy_chain(tamper, message):
    make_legacy()
    raw(tamper)
    before = list(AccessLog.objects.order_by("pk").values_list("hash", flat=True))
    with pytest.raises(rechain_migration.ChainBroken, match=message):
        migrate_0006()
    assert list(AccessLog.objects.order_by("pk").values_list("hash", flat=True)) == before


def test_migration_on_an_empty_log_does_nothing():
    migrate_0006()
    assert not AccessLog.objects.exists()
