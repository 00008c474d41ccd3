"""Load the départements and regions, and tie agency-kind copies to their agency.

Départements and regions: INSEE, Code officiel géographique (regions since
2016-01-01), shipped in agencies/data/.

On PostgreSQL, Accreditation.association_kind and Membership.agency_kind are
tied to Agency(id, kind) by composite foreign keys, so the check constraints on
those copies are rules about the pair of rows. SQLite (the demo) relies on the
services' validation for the pair.
"""

import csv
from pathlib import Path

from django.db import migrations

DATA = Path(__file__).resolve().parent.parent / "data"

COMPOSITE_KEYS = [
    (
        "agencies_accreditation",
        "accreditation_association_is_association_fk",
        "association_id, association_kind",
    ),
    ("agencies_membership", "membership_agency_kind_fk", "agency_id, agency_kind"),
]


def load_reference(apps, schema_editor):
    Region = apps.get_model("agencies", "Region")
    Departement = apps.get_model("agencies", "Departement")
    with open(DATA / "regions.csv", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            Region.objects.update_or_create(code=row["code"], defaults={"name": row["name"]})
    with open(DATA / "departements.csv", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            Departement.objects.update_or_create(
                code=row["code"], defaults={"name": row["name"], "region_id": row["region_code"]}
            )


def add_composite_keys(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, name, columns in COMPOSITE_KEYS:
        schema_editor.execute(
            f"ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY ({columns}) "
            "REFERENCES agencies_agency (id, kind) ON UPDATE CASCADE"
        )


def drop_composite_keys(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, name, _columns in COMPOSITE_KEYS:
        schema_editor.execute(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("agencies", "0001_initial")]

    operations = [
        migrations.RunPython(load_reference, migrations.RunPython.noop),
        migrations.RunPython(add_composite_keys, drop_composite_keys),
    ]
