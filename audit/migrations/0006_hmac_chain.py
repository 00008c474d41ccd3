"""Re-key the access log's chain: from unkeyed SHA-256 to HMAC-SHA256 under
MNR_AUDIT_CHAIN_KEY (a key held outside the database).

Before anything is rewritten, the legacy chain is verified entry by entry and
against its head. If it is broken, the migration stops (nothing is changed) and
names the first broken entry: a tampered log is never silently re-keyed, which
would launder the tampering. docs/audit.md says what to do then.

On PostgreSQL the append-only trigger (0002) is dropped around the rewrite and
re-created in the same transaction; the migration runs as the tables' owner.
The hash functions are frozen here, as they were when this migration was
written; the reverse re-chains under the legacy SHA-256 after verifying the HMAC
chain the same way.
"""

import hashlib
import hmac
import json

from django.conf import settings
from django.db import migrations

GENESIS = "0" * 64
PAGE = 2000

CREATE_TRIGGER = """
CREATE TRIGGER audit_accesslog_no_update_delete
    BEFORE UPDATE OR DELETE ON audit_accesslog
    FOR EACH ROW EXECUTE FUNCTION audit_accesslog_append_only();
"""
DROP_TRIGGER = "DROP TRIGGER IF EXISTS audit_accesslog_no_update_delete ON audit_accesslog"


class ChainBroken(Exception):
    """The chain to re-key is broken: the migration refuses to go on."""


def _payload(entry):
    return {
        "id": entry.pk,
        "created_at": entry.created_at.isoformat(),
        "actor": entry.actor_id,
        "actor_username": entry.actor_username,
        "agency": entry.agency_id,
        "action": entry.action,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "ip": entry.ip,
        "request_id": entry.request_id,
        "detail": entry.detail,
    }


def _message(prev_hash, payload):
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return f"{prev_hash}|{canonical}".encode()


def sha256_link(prev_hash, payload):
    return hashlib.sha256(_message(prev_hash, payload)).hexdigest()


def hmac_link(prev_hash, payload):
    key = settings.MNR_AUDIT_CHAIN_KEY.encode()
    return hmac.new(key, _message(prev_hash, payload), hashlib.sha256).hexdigest()


def _broken(name, entry_id, why):
    return ChainBroken(
        f"The access log's {name} chain is broken at entry {entry_id}: {why}. "
        "Refusing to re-key a tampered log (nothing was changed). Keep a copy of the "
        "database as evidence and see docs/audit.md, 'A broken chain at upgrade'."
    )


def rechain(apps, schema_editor, *, old_link, new_link, old_name):
    """Verify the chain under ``old_link`` and rewrite it under ``new_link``,
    in pages of ids (each entry's payload is unchanged; only links change)."""
    AccessLog = apps.get_model("audit", "AccessLog")
    Head = apps.get_model("audit", "AuditChainHead")
    connection = schema_editor.connection
    alias = connection.alias
    head = Head.objects.using(alias).filter(id=1).first()
    entries = AccessLog.objects.using(alias)
    if not entries.exists():
        if head is not None and (head.last_id or head.count or head.last_hash != GENESIS):
            raise _broken(
                old_name,
                1,
                f"the log is empty but its head records entry {head.last_id} "
                f"and {head.count} entries (the log was truncated)",
            )
        return
    if head is None:
        raise _broken(old_name, 1, "the chain head is missing")
    postgresql = connection.vendor == "postgresql"
    if postgresql:
        schema_editor.execute(DROP_TRIGGER)
    table = connection.ops.quote_name(AccessLog._meta.db_table)
    update = f"UPDATE {table} SET prev_hash = %s, hash = %s WHERE id = %s"  # noqa: S608
    old_prev = new_prev = GENESIS
    previous_id = count = 0
    while True:
        page = list(entries.filter(pk__gt=previous_id).order_by("pk")[:PAGE])
        if not page:
            break
        changes = []
        for entry in page:
            count += 1
            payload = _payload(entry)
            if entry.prev_hash != old_prev:
                raise _broken(
                    old_name,
                    entry.pk,
                    f"entry {entry.pk} does not follow entry {previous_id} "
                    "(an entry was deleted or inserted before it)",
                )
            if old_link(entry.prev_hash, payload) != entry.hash:
                raise _broken(old_name, entry.pk, f"entry {entry.pk} was altered")
            if entry.pk != previous_id + 1:
                raise _broken(
                    old_name, entry.pk, f"entries {previous_id + 1} to {entry.pk - 1} are missing"
                )
            old_prev = entry.hash
            new_hash = new_link(new_prev, payload)
            changes.append((new_prev, new_hash, entry.pk))
            new_prev, previous_id = new_hash, entry.pk
        with connection.cursor() as cursor:
            cursor.executemany(update, changes)
    if head.last_id != previous_id or head.last_hash != old_prev or head.count != count:
        raise _broken(
            old_name,
            min(head.last_id, previous_id) + 1,
            f"the chain ends at entry {previous_id} but its head records entry "
            f"{head.last_id} and {head.count} entries",
        )
    Head.objects.using(alias).filter(id=1).update(last_hash=new_prev)
    if postgresql:
        schema_editor.execute(CREATE_TRIGGER)


def forwards(apps, schema_editor):
    rechain(apps, schema_editor, old_link=sha256_link, new_link=hmac_link, old_name="legacy SHA-256")


def backwards(apps, schema_editor):
    rechain(apps, schema_editor, old_link=hmac_link, new_link=sha256_link, old_name="HMAC")


class Migration(migrations.Migration):
    dependencies = [("audit", "0005_list_read_actions")]

    operations = [migrations.RunPython(forwards, backwards)]
