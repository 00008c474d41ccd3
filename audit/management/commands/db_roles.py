"""Least privilege in PostgreSQL: create or update the application's role.

Run as the tables' owner (the role that runs ``migrate``), after every
``migrate``; idempotent. The application's role (web, worker, beat) then:

- logs in, is no superuser, cannot create databases or roles, does not bypass
  row-level security, owns nothing and is a member of no role;
- reads and writes the domain tables (SELECT, INSERT, UPDATE, DELETE) and uses
  their sequences; TRUNCATEs only the statistics' publication tables
  (``stats_publish`` replaces them whole);
- on the access log, only SELECT and INSERT; on its chain head, only SELECT,
  plus EXECUTE on ``audit_head_lock()`` (migration 0007): it cannot TRUNCATE,
  UPDATE or DELETE the log, nor move the head; not being the owner, it cannot
  ALTER, DISABLE or DROP the triggers; ``SET session_replication_role`` is for
  superusers only;
- reads ``django_migrations`` (it never migrates);
- cannot CREATE in the schema (revoked from PUBLIC too).

Tables created by later migrations are granted by default privileges (SELECT,
INSERT, UPDATE, DELETE; USAGE on sequences); re-running the command after each
``migrate`` applies the exceptions above to them as well.
"""

from __future__ import annotations

import os
import re
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction

from audit.models import AccessLog, AuditChainHead

ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
ATTRIBUTES = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"
HEAD_LOCK = "audit_head_lock()"
# The statistics' publication is replaced whole with TRUNCATE (stats.services).
TRUNCATED_MODELS = ("stats.PublishedFact", "stats.PublishedStep")


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class Command(BaseCommand):
    help = (
        "Create or update the application's PostgreSQL role with least privilege "
        "(run as the owner, after every migrate)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--app-role", default="mnr_app", help="Default: mnr_app.")
        parser.add_argument(
            "--password-env",
            metavar="VARIABLE",
            help="Set the role's password from this environment variable (sent as a "
            "SCRAM-SHA-256 verifier, never in clear). Needs CREATEROLE or a superuser.",
        )
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args: Any, **options: Any) -> None:
        connection = connections[options["database"]]
        if connection.vendor != "postgresql":
            raise CommandError(
                f"db_roles manages PostgreSQL roles; this database is {connection.vendor}."
            )
        role = options["app_role"]
        if not ROLE_NAME.match(role):
            raise CommandError(f"{role!r} is not a plain role name ([a-z_][a-z0-9_]*).")
        password = None
        if options["password_env"]:
            password = os.environ.get(options["password_env"], "")
            if not password:
                raise CommandError(f"{options['password_env']} is not set or empty.")
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute("SELECT current_user, current_database(), current_schema()")
            owner, database, schema = cursor.fetchone()
            if role == owner:
                raise CommandError(
                    f"The application's role must not be the owner ({owner}): run db_roles "
                    "as the owner, for another role."
                )
            self.ensure_role(connection, cursor, role, password)
            self.check_powerless(cursor, role)
            self.grant(cursor, role=role, owner=owner, database=database, schema=schema)
            problems = self.audit(cursor, role)
        if problems:
            raise CommandError("Privileges not as intended: " + "; ".join(problems))
        self.stdout.write(
            self.style.SUCCESS(
                f"Role {role}: least privilege on {database}.{schema} (owner {owner}); "
                "the access log is SELECT/INSERT only, its head SELECT only. "
                "Run db_roles again after every migrate."
            )
        )

    def ensure_role(self, connection: Any, cursor: Any, role: str, password: str | None) -> None:
        cursor.execute(
            "SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls, "
            "rolcanlogin FROM pg_roles WHERE rolname = %s",
            [role],
        )
        row = cursor.fetchone()
        as_intended = row is not None and row == (False, False, False, False, False, True)
        if as_intended and password is None:
            return
        # Only the password when the attributes are right (CREATEROLE can do that).
        attributes = "" if as_intended else f" WITH {ATTRIBUTES}"
        statement = f"{'CREATE' if row is None else 'ALTER'} ROLE {quote(role)}{attributes}"
        if password is not None:
            connection.ensure_connection()
            verifier = connection.connection.pgconn.encrypt_password(
                password.encode(), role.encode(), b"scram-sha-256"
            )
            statement += " PASSWORD '" + verifier.decode().replace("'", "''") + "'"
        try:
            with transaction.atomic(using=connection.alias):
                cursor.execute(statement)
        except DatabaseError as exc:
            raise CommandError(
                f"Cannot {'create' if row is None else 'update'} role {role}: {exc}. Create it "
                "as a superuser first (deploy/postgres-init.sh does), or grant CREATEROLE."
            ) from None
        self.stdout.write(f"Role {role} {'created' if row is None else 'updated'}.")

    def check_powerless(self, cursor: Any, role: str) -> None:
        cursor.execute(
            "SELECT r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid "
            "JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = %s ORDER BY 1",
            [role],
        )
        groups = [name for (name,) in cursor.fetchall()]
        if groups:
            raise CommandError(
                f"Role {role} is a member of {', '.join(groups)} and holds their privileges: "
                f"REVOKE {', '.join(groups)} FROM {role}."
            )
        cursor.execute(
            "SELECT count(*) FROM pg_shdepend d JOIN pg_roles r ON r.oid = d.refobjid "
            "WHERE r.rolname = %s AND d.deptype = 'o'",
            [role],
        )
        (owned,) = cursor.fetchone()
        if owned:
            raise CommandError(
                f"Role {role} owns {owned} object(s) (an owner can alter tables and drop "
                f"triggers): as a superuser, in each database, REASSIGN OWNED BY {role} TO "
                "<the owner>."
            )

    def grant(self, cursor: Any, *, role: str, owner: str, database: str, schema: str) -> None:
        app, space = quote(role), quote(schema)
        log = quote(AccessLog._meta.db_table)
        head = quote(AuditChainHead._meta.db_table)
        truncated = [
            quote(apps.get_model(label)._meta.db_table)
            for label in TRUNCATED_MODELS
            if apps.is_installed(label.split(".")[0])
        ]
        statements = [
            f"GRANT CONNECT ON DATABASE {quote(database)} TO {app}",
            f"REVOKE CREATE ON SCHEMA {space} FROM PUBLIC",
            f"REVOKE CREATE ON SCHEMA {space} FROM {app}",
            f"GRANT USAGE ON SCHEMA {space} TO {app}",
            # From scratch each time: whatever was granted before is replaced.
            f"REVOKE ALL ON ALL TABLES IN SCHEMA {space} FROM {app}",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {space} TO {app}",
            f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {space} FROM {app}",
            f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {space} TO {app}",
            # The access log and its head: see the module's docstring.
            f"REVOKE ALL ON TABLE {log}, {head} FROM PUBLIC",
            f"REVOKE ALL ON TABLE {log}, {head}, django_migrations FROM {app}",
            f"GRANT SELECT, INSERT ON TABLE {log} TO {app}",
            f"GRANT SELECT ON TABLE {head}, django_migrations TO {app}",
            f"REVOKE ALL ON FUNCTION {HEAD_LOCK} FROM PUBLIC",
            f"GRANT EXECUTE ON FUNCTION {HEAD_LOCK} TO {app}",
            # Tables and sequences created later by the owner's migrations.
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {quote(owner)} IN SCHEMA {space} "
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {app}",
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {quote(owner)} IN SCHEMA {space} "
            f"GRANT USAGE, SELECT ON SEQUENCES TO {app}",
        ]
        if truncated:
            statements.append(f"GRANT TRUNCATE ON TABLE {', '.join(truncated)} TO {app}")
        for statement in statements:
            cursor.execute(statement)

    def audit(self, cursor: Any, role: str) -> list[str]:
        """What the role can do on the access log, asked of PostgreSQL itself."""
        problems = []
        checks = [
            (AccessLog._meta.db_table, "SELECT", True),
            (AccessLog._meta.db_table, "INSERT", True),
            (AccessLog._meta.db_table, "UPDATE", False),
            (AccessLog._meta.db_table, "DELETE", False),
            (AccessLog._meta.db_table, "TRUNCATE", False),
            (AuditChainHead._meta.db_table, "SELECT", True),
            (AuditChainHead._meta.db_table, "INSERT", False),
            (AuditChainHead._meta.db_table, "UPDATE", False),
            (AuditChainHead._meta.db_table, "DELETE", False),
            (AuditChainHead._meta.db_table, "TRUNCATE", False),
        ]
        for table, privilege, expected in checks:
            cursor.execute("SELECT has_table_privilege(%s, %s, %s)", [role, table, privilege])
            if cursor.fetchone()[0] != expected:
                problems.append(f"{privilege} on {table} is {'missing' if expected else 'granted'}")
        cursor.execute("SELECT has_function_privilege(%s, %s, 'EXECUTE')", [role, HEAD_LOCK])
        if not cursor.fetchone()[0]:
            problems.append(f"EXECUTE on {HEAD_LOCK} is missing")
        cursor.execute("SELECT has_schema_privilege(%s, current_schema(), 'CREATE')", [role])
        if cursor.fetchone()[0]:
            problems.append("CREATE on the schema is granted")
        return problems
