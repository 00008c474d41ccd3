"""The list of personal fields (common/personal_data.py) is complete and true:
a new text field on a model fails here until it is encrypted or declared."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection, models

from common import crypto
from common.fields import EncryptedTextField, encrypt_columns
from common.personal_data import (
    APPS,
    DERIVED,
    NOT_PERSONAL,
    PERSONAL,
    history_fields_not_personal,
)
from tests.privacy.conftest import ADULT_BODY, accept


def _models():
    return [m for m in apps.get_models() if m._meta.app_label in APPS]


def _base_label(model) -> str:
    base = getattr(model, "instance_type", None)  # simple-history's historical models
    return (base or model)._meta.label


def _text_fields(model):
    return [
        f
        for f in model._meta.concrete_fields
        if isinstance(f, models.CharField | models.TextField | models.JSONField) and not f.choices
    ]


@pytest.mark.parametrize("model", _models(), ids=lambda m: m._meta.label)
def test_every_text_field_is_encrypted_or_declared(model):
    label = _base_label(model)
    historical = label != model._meta.label
    for field in _text_fields(model):
        name = field.name
        if name in PERSONAL.get(label, ()):
            assert isinstance(field, EncryptedTextField), f"{model._meta.label}.{name} in clear"
            continue
        assert not isinstance(field, EncryptedTextField), (
            f"{model._meta.label}.{name} is encrypted but not in PERSONAL: retention would keep it"
        )
        declared = (
            name in DERIVED.get(label, ())
            or name in NOT_PERSONAL.get(label, {})
            or (historical and name in history_fields_not_personal())
        )
        assert declared, (
            f"{model._meta.label}.{name}: a new text field. Encrypt it (EncryptedTextField and "
            "PERSONAL) or declare why it is not personal (NOT_PERSONAL) in common/personal_data.py"
        )


def test_every_entry_names_a_real_field():
    tables = {**PERSONAL, **DERIVED, **{k: tuple(v) for k, v in NOT_PERSONAL.items()}}
    for label, names in tables.items():
        model = apps.get_model(label)
        fields = {f.name for f in model._meta.concrete_fields}
        assert set(names) <= fields, (label, set(names) - fields)


def test_every_personal_model_keeps_its_history_encrypted():
    for label, names in PERSONAL.items():
        model = apps.get_model(label)
        history = model.history.model
        for name in names:
            assert isinstance(history._meta.get_field(name), EncryptedTextField), (label, name)


def test_the_migration_helper_encrypts_plain_values_in_place_and_back(api, world):
    from referral.models import Routing

    accept(api, world, ADULT_BODY, world.paris_worker)
    routing = Routing.objects.get()
    table = connection.ops.quote_name(Routing._meta.db_table)

    def stored() -> str:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT reason FROM {table} WHERE id = %s", [routing.pk])
            return cursor.fetchone()[0]

    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET reason = %s WHERE id = %s", ["Zephyrine", routing.pk])
    editor = SimpleNamespace(connection=connection)
    assert encrypt_columns(editor, Routing, ("reason",)) == 1
    assert encrypt_columns(editor, Routing, ("reason",)) == 0  # already encrypted: untouched
    assert stored().startswith(crypto.PREFIX) and "Zephyrine" not in stored()
    assert Routing.objects.get(pk=routing.pk).reason == "Zephyrine"
    assert encrypt_columns(editor, Routing, ("reason",), decrypt=True) == 1
    assert stored() == "Zephyrine"
