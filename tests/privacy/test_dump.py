"""A dump of the database, after a run that wrote marker values into every text
a person can type, holds no marker in clear: not in the rows, not in their
history, not in the access log, not in sessions."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client

from tests.helpers import pg_dump_data
from tests.privacy.test_retention_forgets import (
    OLD,
    _case_with_everything,
    _escalated,
    _minor_case_shared,
    _notified,
    _withdrawn,
)

# Every part of OLD ("Zephyrine Quaglietti") and the other values typed.
MARKERS = ("Zephyrine", "Quaglietti", "ZEPHYRINE", "zephyrine", "06 11 22 33 44", "1998-03-17")


def _every_value() -> list[tuple[str, str, str]]:
    """Every table, every column, every row, as text (a dump through SQL)."""
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            quoted = connection.ops.quote_name(table)
            cursor.execute(f"SELECT * FROM {quoted}")
            columns = [c[0] for c in cursor.description]
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
                    found += [(table, column, m) for m in MARKERS if m in text]
    return found


def _seed(api, world) -> None:
    _case_with_everything(api, world, OLD)
    _minor_case_shared(api, world, OLD)
    _withdrawn(api, world, OLD)
    _escalated(api, world, OLD)
    _notified(api, world)
    # A failed sign-in with a name typed as username (the access log keeps a hash).
    Client().post("/sign-in/", {"username": "Zephyrine.Quaglietti 1998-03-17", "password": "x"})


@pytest.mark.django_db(transaction=True)
def test_no_marker_in_clear_in_any_table(api, world):
    _seed(api, world)
    assert _every_value() == []
    # The markers are there, encrypted: the application reads them back.
    from referral.models import PresumedVictim

    assert PresumedVictim.objects.filter(referral__status="withdrawn").get().given_name == (
        "Zephyrine"
    )


@pytest.mark.django_db(transaction=True)
def test_pg_dump_holds_no_marker(postgres, api, world):
    _seed(api, world)
    dump = pg_dump_data(connection.settings_dict)
    assert "referral_presumedvictim" in dump and len(dump) > 10_000
    assert [m for m in MARKERS if m in dump] == []
