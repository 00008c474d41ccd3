"""Check the catalogues: fr has a translation for every message and no fuzzy
entry; en translates every message to itself. Used by .ci/run."""

import re
import sys
from pathlib import Path

ENTRY = re.compile(r'^msgid ((?:".*"\n)+)msgstr ((?:".*"\n)+)', re.M)


def entries(path: Path) -> list[tuple[str, str, str]]:
    text = path.read_text(encoding="utf-8")
    found = []
    for block in text.split("\n\n")[1:]:
        block += "\n"
        match = ENTRY.search(block)
        if match:
            found.append((match.group(1), match.group(2), block))
    return found


def main() -> int:
    root = Path(__file__).resolve().parent
    problems = []
    for msgid, msgstr, block in entries(root / "fr/LC_MESSAGES/django.po"):
        if msgstr.strip() == '""' or "#, fuzzy" in block:
            problems.append(f"fr: untranslated or fuzzy: {msgid.strip()}")
    for msgid, msgstr, _block in entries(root / "en/LC_MESSAGES/django.po"):
        if msgid.strip() != msgstr.strip():
            problems.append(f"en: msgstr differs from msgid: {msgid.strip()}")
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
