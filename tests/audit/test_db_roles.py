"""Least privilege in PostgreSQL (manage.py db_roles): the application's role
appends to the access log and can do nothing else to it.

The role is created in the test database's cluster under a name unique to this
run (roles are cluster-wide: parallel test databases must not collide) and
dropped at the end; the test connects as it with psycopg (trust on 127.0.0.1).
"""

from __future__ import annotations

import uuid

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from audit.models import AccessLog, AuditChainHead
from audit.services import append_postgresql, verify_chain

pytestmark = pytest.mark.django_db(transaction=True)


def superuser_sql(statement: str, params: list | None = None) -> list:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


@pytest.fixture
def app_role(postgres, settings, tmp_path):
    settings.MNR_AUDIT_CHECKPOINT_DIR = tmp_path / "checkpoints"
    name = f"mnr_app_test_{uuid.uuid4().hex[:10]}"
    yield name
    connection.close()  # the test's psycopg connections are closed by now
    if superuser_sql("SELECT 1 FROM pg_roles WHERE rolname = %s", [name]):
        superuser_sql(f'DROP OWNED BY "{name}"')  # its grants and default privileges
        superuser_sql(f'DROP ROLE "{name}"')


def connect_as(role: str) -> psycopg.Connection:
    params = connection.settings_dict
    return psycopg.connect(
        host=params["HOST"] or "127.0.0.1",
        port=params["PORT"] or 5432,
        dbname=params["NAME"],
        user=role,
        connect_timeout=5,
    )


def new_entry(i: int) -> AccessLog:
    return AccessLog(
        created_at=timezone.now(),
        actor_username=f"app{i}",
        action="case.view",
        target_type="case",
        target_id=str(i),
        detail={"n": i},
    )


FORBIDDEN = [
    "UPDATE audit_accesslog SET target_id = 'x'",
    "DELETE FROM audit_accesslog",
    "TRUNCATE audit_accesslog",
    "UPDATE audit_auditchainhead SET last_id = 0",
    "DELETE FROM audit_auditchainhead",
    "INSERT INTO audit_auditchainhead (id, last_id, last_hash, count) VALUES (2, 0, '0', 0)",
    "SELECT * FROM audit_auditchainhead FOR UPDATE",
    "TRUNCATE audit_auditchainhead",
    "ALTER TABLE audit_accesslog DISABLE TRIGGER ALL",
    "ALTER TABLE audit_accesslog DISABLE TRIGGER audit_accesslog_no_update_delete",
    "DROP TRIGGER audit_accesslog_no_update_delete ON audit_accesslog",
    "DROP TRIGGER audit_head_guard ON audit_auditchainhead",
    "DROP FUNCTION audit_head_lock()",
    "SET session_replication_role = replica",
    "CREATE TABLE public.mnr_app_was_here (id int)",
    "ALTER TABLE audit_accesslog OWNER TO CURRENT_USER",
]


def test_app_role_appends_and_is_refused_everything_else(app_role, capsys):
    call_command("db_roles", app_role=app_role)
    call_command("db_roles", app_role=app_role)  # idempotent
    assert "least privilege" in capsys.readouterr().out
    assert superuser_sql(
        "SELECT rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolbypassrls, rolreplication "
        "FROM pg_roles WHERE rolname = %s",
        [app_role],
    ) == [(True, False, False, False, False, False)]

    with connect_as(app_role) as app:
        # A normal append, as the application does it: the head function, then INSERT.
        for i in range(3):
            with app.transaction(), app.cursor() as cursor:
                append_postgresql(cursor, new_entry(i), asynchronous=i == 0)
        # Domain tables are read and written as before.
        with app.transaction(), app.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM agencies_agency")
            cursor.execute("UPDATE django_session SET expire_date = expire_date")
        for statement in FORBIDDEN:
            with pytest.raises(psycopg.errors.InsufficientPrivilege), app.transaction():
                app.execute(statement)
        # An INSERT that does not follow the head: the trigger refuses it.
        with pytest.raises(psycopg.errors.IntegrityConstraintViolation), app.transaction():
            app.execute(
                "INSERT INTO audit_accesslog (id, created_at, actor_username, action, "
                "target_type, target_id, request_id, detail, prev_hash, hash) VALUES "
                "(99, now(), 'x', 'case.view', '', '', '', '{}', %s, %s)",
                ["0" * 64, "f" * 64],
            )

    report = verify_chain()
    assert report.ok and report.checked == 3
    assert AuditChainHead.objects.get().last_id == 3
    assert list(AccessLog.objects.order_by("pk").values_list("actor_username", flat=True)) == [
        "app0",
        "app1",
        "app2",
    ]


def test_later_tables_are_granted_by_default_privileges(app_role):
    call_command("db_roles", app_role=app_role)
    superuser_sql("CREATE TABLE public.mnr_later_table (id int)")
    try:
        assert superuser_sql(
            "SELECT has_table_privilege(%s, 'mnr_later_table', 'INSERT'), "
            "has_table_privilege(%s, 'mnr_later_table', 'TRUNCATE')",
            [app_role, app_role],
        ) == [(True, False)]
    finally:
        superuser_sql("DROP TABLE public.mnr_later_table")


def test_an_app_role_that_owns_or_inherits_is_refused(app_role):
    superuser_sql(f'CREATE ROLE "{app_role}" LOGIN')
    superuser_sql("CREATE TABLE public.mnr_owned (id int)")
    superuser_sql(f'ALTER TABLE public.mnr_owned OWNER TO "{app_role}"')
    try:
        with pytest.raises(CommandError, match="owns 1 object"):
            call_command("db_roles", app_role=app_role)
    finally:
        superuser_sql("DROP TABLE public.mnr_owned")
    superuser_sql(f'GRANT pg_read_all_data TO "{app_role}"')
    with pytest.raises(CommandError, match="member of pg_read_all_data"):
        call_command("db_roles", app_role=app_role)
    superuser_sql(f'REVOKE pg_read_all_data FROM "{app_role}"')
    superuser_sql(f'ALTER ROLE "{app_role}" CREATEDB')
    call_command("db_roles", app_role=app_role)  # attributes corrected
    assert superuser_sql("SELECT rolcreatedb FROM pg_roles WHERE rolname = %s", [app_role]) == [
        (False,)
    ]


def test_password_is_set_from_the_environment(app_role, monkeypatch):
    monkeypatch.setenv("MNR_TEST_APP_PASSWORD", "a-test-only-password")
    call_command("db_roles", app_role=app_role, password_env="MNR_TEST_APP_PASSWORD")
    (verifier,) = superuser_sql("SELECT rolpassword FROM pg_authid WHERE rolname = %s", [app_role])[
        0
    ]
    assert verifier.startswith("SCRAM-SHA-256$")
    monkeypatch.delenv("MNR_TEST_APP_PASSWORD")
    with pytest.raises(CommandError, match="not set"):
        call_command("db_roles", app_role=app_role, password_env="MNR_TEST_APP_PASSWORD")
