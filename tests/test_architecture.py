"""The import contract (pyproject.toml [tool.importlinter], docs/architecture.md):
each layer imports only the layers below it. Fails with import-linter's report,
which names every import that breaks it."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_layers_contract_is_kept():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint_imports), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    report = result.stdout + result.stderr
    assert result.returncode == 0, report
    assert "0 broken" in report, report


APPS = (
    "agencies",
    "referral",
    "cases",
    "identification",
    "audit",
    "stats",
    "notifications",
    "records",
)
APPS += ("demo", "api", "web", "common", "config")
LONG = 400  # lines


def _long_modules_without_a_reason() -> list[str]:
    found = []
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            source = path.read_text()
            if source.count("\n") <= LONG:
                continue
            docstring = ast.get_docstring(ast.parse(source)) or ""
            if "lines" not in docstring:
                found.append(f"{path.relative_to(ROOT)} ({source.count(chr(10))} lines)")
    return found


def test_long_modules_say_why_in_their_docstring():
    """Small, cohesive modules: one over ~400 lines says why in its docstring
    (and so is read by whoever makes it longer)."""
    assert _long_modules_without_a_reason() == []
