"""The versioned identification-indicator list (docs/domain.md, "Indicators"), shipped as data in
referral/data/indicators/<version>.json. A referral stores the version it was
filed with; a later version adds a file, never edits an old one."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data" / "indicators"
CURRENT_VERSION = "ilo-2009-adapted.1"
STRENGTHS = ("strong", "medium", "weak")


@lru_cache(maxsize=4)
def load(version: str = CURRENT_VERSION) -> dict:
    path = DATA_DIR / f"{version}.json"
    with path.open(encoding="utf-8") as f:
        data = json.load(f)
    data["_by_code"] = {i["code"]: i for i in data["indicators"]}
    return data


def available_versions() -> frozenset[str]:
    return frozenset(p.stem for p in DATA_DIR.glob("*.json"))


def known_codes(version: str = CURRENT_VERSION) -> frozenset[str]:
    return frozenset(load(version)["_by_code"])


def codes_for(version: str = CURRENT_VERSION, *, minor: bool) -> frozenset[str]:
    """The codes of the list for one public: the children's for a presumed minor,
    else the adults' (the list a referrer is shown)."""
    public = "child" if minor else "adult"
    return frozenset(i["code"] for i in load(version)["indicators"] if public in i["strength"])


def localised(version: str, language: str) -> dict:
    """The list with labels in one language (fr or en), as the API serves it."""
    lang = "fr" if language.startswith("fr") else "en"
    data = load(version)
    return {
        "version": data["version"],
        "source": data["source"][lang],
        "dimension_rule": data["dimension_rule"][lang],
        "dimensions": [{"code": d["code"], "label": d["label"][lang]} for d in data["dimensions"]],
        "indicators": [
            {
                "code": i["code"],
                "dimension": i["dimension"],
                "label": i["label"][lang],
                "strength": i["strength"],
                "source": i["source"],
            }
            for i in data["indicators"]
        ],
    }


@dataclass(frozen=True)
class DimensionSummary:
    dimension: str
    strong: int
    medium: int
    weak: int
    indicated: bool


def _indicated(strong: int, medium: int, weak: int) -> bool:
    """The per-dimension rule (an indication, never a decision)."""
    return (
        strong >= 2
        or (strong >= 1 and medium + weak >= 1)
        or medium >= 3
        or (medium >= 2 and weak >= 1)
    )


def summarise(codes: list[str], *, version: str, minor: bool) -> list[DimensionSummary]:
    """Counts of ticked indicators by dimension and strength, for the person's public."""
    data = load(version)
    public = "child" if minor else "adult"
    rows = []
    for dimension in data["dimensions"]:
        counts = dict.fromkeys(STRENGTHS, 0)
        for code in codes:
            indicator = data["_by_code"].get(code)
            if indicator is None or indicator["dimension"] != dimension["code"]:
                continue
            strength = indicator["strength"].get(public) or next(
                iter(indicator["strength"].values())
            )
            counts[strength] += 1
        if any(counts.values()):
            rows.append(
                DimensionSummary(
                    dimension=dimension["code"],
                    indicated=_indicated(counts["strong"], counts["medium"], counts["weak"]),
                    **counts,
                )
            )
    return rows


def checklist(version: str, language: str, *, minor: bool) -> list[dict]:
    """The list for one public (the children's list for a presumed minor, else the
    adults'), grouped by dimension in the list's order, labels in one language
    (fr or en): ``[{"code", "label", "indicators": [{"code", "label"}]}]``.
    Dimensions with no indicator for that public are left out."""
    lang = "fr" if language.startswith("fr") else "en"
    public = "child" if minor else "adult"
    data = load(version)
    groups = []
    for dimension in data["dimensions"]:
        items = [
            {"code": i["code"], "label": i["label"][lang]}
            for i in data["indicators"]
            if i["dimension"] == dimension["code"] and public in i["strength"]
        ]
        if items:
            groups.append(
                {"code": dimension["code"], "label": dimension["label"][lang], "indicators": items}
            )
    return groups
