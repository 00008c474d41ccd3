"""Model fields for personal data."""

from __future__ import annotations

from typing import Any

from django.db import models

from . import crypto


class EncryptedTextField(models.TextField):
    """Text encrypted at rest (see common.crypto). Empty stays empty, so "no value"
    is visible without decrypting; anything else is stored only as ciphertext.
    Cannot be filtered or ordered on: use a blind index for equality."""

    description = "Encrypted text"

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> str:
        if value is None or value == "":
            return value
        return crypto.decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return crypto.encrypt(str(value))

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str) and value.startswith(crypto.PREFIX):
            return crypto.decrypt(value)
        return super().to_python(value)


def encrypt_columns(
    schema_editor: Any, model: Any, columns: tuple[str, ...], *, decrypt: bool = False
) -> int:
    """Encrypt (or, backwards, decrypt) text columns in place, for a data
    migration that turns a plain text field into an EncryptedTextField. Reads
    and writes raw SQL (the model field would try to decrypt plain text);
    values already in the wanted form are left alone. Returns the rows changed."""
    connection = schema_editor.connection
    quote = connection.ops.quote_name
    table, key = quote(model._meta.db_table), quote(model._meta.pk.column)
    selected = ", ".join(quote(c) for c in columns)
    changed = 0
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {key}, {selected} FROM {table}")  # noqa: S608 (names from the model)
        for pk, *values in cursor.fetchall():
            new = {}
            for column, value in zip(columns, values, strict=True):
                if not value or value.startswith(crypto.PREFIX) != decrypt:
                    continue
                new[column] = crypto.decrypt(value) if decrypt else crypto.encrypt(value)
            if new:
                assignments = ", ".join(f"{quote(c)} = %s" for c in new)
                cursor.execute(
                    f"UPDATE {table} SET {assignments} WHERE {key} = %s",  # noqa: S608
                    [*new.values(), pk],
                )
                changed += 1
    return changed


def encrypt_columns_operation(app_label: str, columns: dict[str, tuple[str, ...]]) -> Any:
    """The data migration that encrypts existing values of the given columns
    (model name -> column names) in place, and decrypts them when reversed."""
    from django.db import migrations

    def forwards(apps: Any, schema_editor: Any, *, decrypt: bool = False) -> None:
        for name, names in columns.items():
            model = apps.get_model(app_label, name)
            encrypt_columns(schema_editor, model, names, decrypt=decrypt)

    def backwards(apps: Any, schema_editor: Any) -> None:
        forwards(apps, schema_editor, decrypt=True)

    return migrations.RunPython(forwards, backwards)
