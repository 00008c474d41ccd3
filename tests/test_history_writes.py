"""No write skips history: ``QuerySet.update()`` on a model with history writes
no history row, so outside the places that must not write one (retention
erases, key rotation re-encrypts) it is refused here, by reading the code."""

from __future__ import annotations

import ast
from pathlib import Path

from django.apps import apps

ROOT = Path(__file__).resolve().parent.parent
FIRST_PARTY = (
    "agencies",
    "referral",
    "cases",
    "identification",
    "audit",
    "stats",
    "notifications",
    "records",
)
FIRST_PARTY += ("demo", "api", "web", "common", "config")
# Where an update must not write history: erasing or re-encrypting what history
# holds would copy it into a new row.
ALLOWED = {
    "records/retention.py": "retention erases personal fields in rows and history",
    "referral/management/commands/rotate_encryption_keys.py": "key rotation re-encrypts",
}


def _tracked_models() -> set[str]:
    return {
        model.__name__
        for model in apps.get_models()
        if getattr(model, "_meta", None)
        and hasattr(model, "history")
        and not model.__name__.startswith("Historical")
    }


def _root_name(node: ast.AST) -> tuple[str | None, bool]:
    """The name a call chain starts from, and whether `.objects` is on the way."""
    through_objects = False
    while True:
        if isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Attribute):
            through_objects = through_objects or node.attr == "objects"
            node = node.value
        elif isinstance(node, ast.Name):
            return node.id, through_objects
        else:
            return None, through_objects


def updates_skipping_history(source: str, tracked: set[str]) -> list[int]:
    """Line numbers of ``<Tracked>.objects….update(…)`` calls in `source`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr != "update":
                continue
            name, through_objects = _root_name(node.func.value)
            if through_objects and name in tracked:
                found.append(node.lineno)
    return found


def test_the_check_sees_an_update_that_skips_history():
    tracked = {"Case"}
    assert updates_skipping_history("Case.objects.filter(pk=1).update(owner=None)\n", tracked) == [
        1
    ]
    assert updates_skipping_history("Token.objects.filter(pk=1).update(x=1)\n", tracked) == []
    assert updates_skipping_history("values.update({'a': 1})\n", tracked) == []


def test_no_queryset_update_on_a_model_with_history_outside_retention_and_rotation():
    tracked = _tracked_models()
    assert {"Case", "Referral", "ProtectionStep", "Membership"} <= tracked
    offenders = []
    for package in FIRST_PARTY:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if "/migrations/" in relative or relative in ALLOWED:
                continue
            for line in updates_skipping_history(path.read_text(), tracked):
                offenders.append(f"{relative}:{line}")
    assert offenders == [], (
        "QuerySet.update() on a model with history writes no history row: save the "
        "instance (or use the transition helper) instead"
    )
