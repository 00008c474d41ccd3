"""Départements and regions (INSEE, Code officiel géographique), from agencies/data/.

The migration 0002 loads them; this loader serves tests that flush the database
and the `load_reference_data` command after a restore."""

from __future__ import annotations

import csv
from pathlib import Path

from .models import Departement, Region

DATA = Path(__file__).resolve().parent / "data"


def load_reference_data() -> int:
    """Create or update every region and département; returns the département count."""
    with open(DATA / "regions.csv", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            Region.objects.update_or_create(code=row["code"], defaults={"name": row["name"]})
    with open(DATA / "departements.csv", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            Departement.objects.update_or_create(
                code=row["code"], defaults={"name": row["name"], "region_id": row["region_code"]}
            )
    return Departement.objects.count()
