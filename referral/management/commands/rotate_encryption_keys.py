"""Re-encrypt every encrypted field (and its history) with the newest key.

Rotation: put the new key first in MNR_FIELD_ENCRYPTION_KEYS (keeping the old
ones after it), deploy, run this command, then drop the old keys. With
--reindex, blind indexes are recomputed too (after changing MNR_BLIND_INDEX_KEY).
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from common.crypto import blind_index
from common.fields import EncryptedTextField
from referral.models import PresumedVictim

BATCH = 500


def encrypted_models() -> list[tuple[Any, list[str]]]:
    found = []
    for model in apps.get_models():
        names = [f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
        if names:
            found.append((model, names))
    return found


def reindex(model: Any) -> int:
    """Recompute the blind index of every row of ``model`` with the current key."""
    pk = model._meta.pk.name
    fields = ("given_name", "family_name", "date_of_birth", "blind_index")
    count = 0
    rows = model.objects.order_by(pk).values_list(pk, *fields)
    for row_pk, given_name, family_name, date_of_birth, current in rows.iterator(BATCH):
        index = blind_index(
            given_name=given_name, family_name=family_name, date_of_birth=date_of_birth
        )
        if index != current:
            model.objects.filter(**{pk: row_pk}).update(blind_index=index)
            count += 1
    return count


class Command(BaseCommand):
    help = "Re-encrypt identity fields with the newest key (and optionally rebuild blind indexes)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--reindex", action="store_true", help="Recompute blind indexes.")

    def handle(self, *args: Any, **options: Any) -> None:
        total = 0
        for model, names in encrypted_models():
            pk = model._meta.pk.name
            ids = list(model.objects.order_by(pk).values_list(pk, flat=True))
            for start in range(0, len(ids), BATCH):
                chunk = ids[start : start + BATCH]
                with transaction.atomic():
                    rows = model.objects.filter(**{f"{pk}__in": chunk}).values_list(pk, *names)
                    for row in rows:
                        # update() re-encrypts with the newest key and writes no history.
                        model.objects.filter(**{pk: row[0]}).update(
                            **dict(zip(names, row[1:], strict=True))
                        )
                        total += 1
            self.stdout.write(f"{model._meta.label}: {len(ids)} rows re-encrypted")
        if options["reindex"]:
            # The people and every history row of them: a history row left under
            # the old key would still match a dictionary built with it.
            for model in (PresumedVictim, PresumedVictim.history.model):
                count = reindex(model)
                self.stdout.write(f"{model._meta.label}: {count} blind indexes rebuilt")
        self.stdout.write(self.style.SUCCESS(f"Done: {total} rows."))
