"""On PostgreSQL, the chain head is protected like the entries: it only moves
with the log, one entry at a time, and never back.

- ``audit_head_lock()`` (SECURITY DEFINER, owned by the tables' owner): creates
  the head at genesis if it is missing and returns (last_id, last_hash) locked
  FOR UPDATE until the end of the caller's transaction. The application calls
  it, computes the entry's HMAC (the key is not in the database) and INSERTs the
  entry: two round trips.
- ``audit_accesslog_advance_head`` (AFTER INSERT, SECURITY DEFINER): the new
  entry must carry id = head.last_id + 1 and prev_hash = head.last_hash; the
  head then moves to it. An AFTER ROW trigger sees the inserted row, which the
  head's guard looks up.
- ``audit_head_guard`` (BEFORE INSERT/UPDATE/DELETE on the head): an update
  must advance by exactly one entry that exists in the log with
  prev_hash = the old last_hash; the row is never deleted; it is only inserted
  at genesis into an empty log.

So the application's role needs only SELECT and INSERT on the log, SELECT on
the head and EXECUTE on audit_head_lock() (``manage.py db_roles``). No TRUNCATE
trigger: the test suite flushes with TRUNCATE; privileges refuse TRUNCATE to the
application, and the signed checkpoints reveal it (docs/audit.md).
Only superusers can switch these triggers off (session_replication_role) and
only the owner can drop them: the HMAC and the checkpoints cover those cases.
"""

from django.db import migrations

GENESIS = "0" * 64
# Serialises the creation of the head at genesis (two first writers at once).
GENESIS_LOCK = 0x6D6E7241  # "mnrA"


def _create(schema):
    path = f'SET search_path = pg_catalog, "{schema}", pg_temp'
    return f"""
CREATE OR REPLACE FUNCTION audit_head_lock()
RETURNS TABLE (last_id bigint, last_hash varchar)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER {path} AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY SELECT h.last_id, h.last_hash FROM audit_auditchainhead h
        WHERE h.id = 1 FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM pg_advisory_xact_lock({GENESIS_LOCK});
        RETURN QUERY SELECT h.last_id, h.last_hash FROM audit_auditchainhead h
            WHERE h.id = 1 FOR UPDATE;
        IF NOT FOUND THEN
            INSERT INTO audit_auditchainhead (id, last_id, last_hash, count)
                VALUES (1, 0, '{GENESIS}', 0);
            RETURN QUERY SELECT h.last_id, h.last_hash FROM audit_auditchainhead h
                WHERE h.id = 1 FOR UPDATE;
        END IF;
    END IF;
END;
$$;
REVOKE ALL ON FUNCTION audit_head_lock() FROM PUBLIC;

CREATE OR REPLACE FUNCTION audit_accesslog_advance_head() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER {path} AS $$
DECLARE
    head record;
BEGIN
    SELECT h.last_id, h.last_hash INTO head FROM audit_auditchainhead h
        WHERE h.id = 1 FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'audit_accesslog: the chain head is missing (call audit_head_lock())'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NEW.id IS DISTINCT FROM head.last_id + 1 OR NEW.prev_hash IS DISTINCT FROM head.last_hash THEN
        RAISE EXCEPTION 'audit_accesslog: entry % does not follow the chain head (entry %)',
            NEW.id, head.last_id USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    UPDATE audit_auditchainhead
        SET last_id = NEW.id, last_hash = NEW.hash, count = count + 1 WHERE id = 1;
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION audit_head_guard() RETURNS trigger
LANGUAGE plpgsql {path} AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'audit_auditchainhead: the chain head cannot be deleted'
            USING ERRCODE = 'insufficient_privilege';
    ELSIF TG_OP = 'INSERT' THEN
        IF NEW.id <> 1 OR NEW.last_id <> 0 OR NEW.count <> 0 OR NEW.last_hash <> '{GENESIS}'
                OR EXISTS (SELECT 1 FROM audit_accesslog) THEN
            RAISE EXCEPTION 'audit_auditchainhead: a head is only created at genesis, for an empty log'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
    END IF;
    IF NEW.id <> OLD.id OR NEW.last_id <> OLD.last_id + 1 OR NEW.count <> OLD.count + 1
            OR NOT EXISTS (
                SELECT 1 FROM audit_accesslog e
                WHERE e.id = NEW.last_id AND e.hash = NEW.last_hash AND e.prev_hash = OLD.last_hash
            ) THEN
        RAISE EXCEPTION 'audit_auditchainhead: the head only advances to the next entry of the log (from entry % to %)',
            OLD.last_id, NEW.last_id USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER audit_accesslog_advance_head
    AFTER INSERT ON audit_accesslog
    FOR EACH ROW EXECUTE FUNCTION audit_accesslog_advance_head();

CREATE TRIGGER audit_head_guard
    BEFORE INSERT OR UPDATE OR DELETE ON audit_auditchainhead
    FOR EACH ROW EXECUTE FUNCTION audit_head_guard();
"""


DROP = """
DROP TRIGGER IF EXISTS audit_head_guard ON audit_auditchainhead;
DROP TRIGGER IF EXISTS audit_accesslog_advance_head ON audit_accesslog;
DROP FUNCTION IF EXISTS audit_head_guard();
DROP FUNCTION IF EXISTS audit_accesslog_advance_head();
DROP FUNCTION IF EXISTS audit_head_lock();
"""


def forwards(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.oid = 'audit_accesslog'::regclass"
        )
        schema = cursor.fetchone()[0]
    if '"' in schema:
        raise ValueError(f"unexpected schema name {schema!r}")
    schema_editor.execute(_create(schema), params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0006_hmac_chain")]

    operations = [migrations.RunPython(forwards, backwards)]
