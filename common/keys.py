"""Every secret key MNR uses: its format, its checks, and the demo's own keys.

A key that is malformed or too short is refused when the settings load (so no
process starts with it) and by the system checks (``manage.py check``, which
``check --deploy`` includes); an error names the setting and how to generate a
good key, never the key.

=========================  ===========================================  ==========================
setting                    what it protects                             format
=========================  ===========================================  ==========================
MNR_FIELD_ENCRYPTION_KEYS  personal fields at rest (common.crypto)      Fernet keys, newest first
MNR_BLIND_INDEX_KEY        the duplicate-detection blind index          base64url, >= 32 bytes
MNR_AUDIT_CHAIN_KEY        the access log's HMAC chain (audit)          base64url, >= 32 bytes
MNR_AUDIT_SIGNING_KEY      the signed checkpoints of the chain head     base64url Ed25519 seed (32)
=========================  ===========================================  ==========================

Generate a full set with ``python -m common.keys`` (no settings needed: it runs
on a machine that has none yet); a Fernet key is the same 32 random bytes in
the same encoding as the others.

The demo and development (debug on) never derive keys from a public secret:
on first run, random keys are written to a git-ignored file of the checkout
(``.mnr-dev-keys.json``, mode 0600, ``MNR_DEV_KEYS_FILE`` to move it) and read
from it afterwards.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import os
import secrets
from collections.abc import Iterable
from pathlib import Path

MIN_KEY_BYTES = 32
# 32 random bytes have ~31 distinct values; a key with fewer than this is a
# pattern ("AAAA…", a repeated word), not randomness.
MIN_DISTINCT_BYTES = 16

GENERATE = "python -m common.keys"

DEV_KEY_NAMES = (
    "DJANGO_SECRET_KEY",
    "MNR_FIELD_ENCRYPTION_KEYS",
    "MNR_BLIND_INDEX_KEY",
    "MNR_AUDIT_CHAIN_KEY",
    "MNR_AUDIT_SIGNING_KEY",
)


class WeakKey(ValueError):
    """A key that is not acceptable; the message names the setting, not the key."""


def new_key() -> str:
    """32 random bytes, base64url: a Fernet key, a blind-index, chain or signing key."""
    return base64.urlsafe_b64encode(secrets.token_bytes(MIN_KEY_BYTES)).decode()


def _decode(name: str, value: str) -> bytes:
    text = (value or "").strip()
    if not text:
        raise WeakKey(f"{name} is empty. Generate one with: {GENERATE}")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise WeakKey(f"{name} is not base64url text. Generate one with: {GENERATE}") from exc
    if base64.urlsafe_b64encode(raw).decode().rstrip("=") != text.rstrip("="):
        raise WeakKey(f"{name} is not base64url text. Generate one with: {GENERATE}")
    return raw


def _strong(name: str, raw: bytes, *, exact: int | None = None) -> bytes:
    if exact is not None and len(raw) != exact:
        raise WeakKey(f"{name} must be {exact} bytes (base64url). Generate one with: {GENERATE}")
    if len(raw) < MIN_KEY_BYTES:
        raise WeakKey(
            f"{name} is {len(raw)} bytes; at least {MIN_KEY_BYTES} random bytes are needed. "
            f"Generate one with: {GENERATE}"
        )
    if len(set(raw)) < MIN_DISTINCT_BYTES:
        raise WeakKey(f"{name} is a pattern, not random bytes. Generate one with: {GENERATE}")
    return raw


def check_secret(name: str, value: str) -> bytes:
    """A symmetric key (blind index, audit chain): base64url of >= 32 random bytes."""
    return _strong(name, _decode(name, value))


def check_fernet_keys(name: str, values: Iterable[str]) -> list[str]:
    keys = [v.strip() for v in values if v.strip()]
    if not keys:
        raise WeakKey(f"{name} is empty. Generate a key with: {GENERATE}")
    for position, key in enumerate(keys, start=1):
        raw = _decode(f"{name} (key {position})", key)
        if len(raw) != 32:
            raise WeakKey(
                f"{name} (key {position}) is not a Fernet key (32 bytes, base64url). "
                f"Generate one with: {GENERATE}"
            )
        # A Fernet key is a signing half and an encryption half: both must be random.
        _strong(f"{name} (key {position})", raw)
    return keys


def check_signing_key(name: str, value: str) -> bytes:
    """An Ed25519 private key given as its 32-byte seed (base64url)."""
    return _strong(name, _decode(name, value), exact=32)


def dev_keys(path: Path) -> dict[str, str]:
    """The development keys of this checkout: read, or created once at random.
    Two processes starting together agree (the file is created exclusively)."""
    with contextlib.suppress(FileNotFoundError):
        return _read(path)
    keys = {name: new_key() for name in DEV_KEY_NAMES}
    keys["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(50)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read(path)
    with os.fdopen(fd, "w") as handle:
        json.dump(keys, handle, indent=2)
    return keys


def _read(path: Path) -> dict[str, str]:
    data = json.loads(path.read_text())
    missing = [name for name in DEV_KEY_NAMES if not data.get(name)]
    if missing:
        # A file written by an older version: add what it lacks, keep what it has.
        data.update({name: new_key() for name in missing})
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle, indent=2)
        tmp.replace(path)
    return data


def main() -> None:
    """Print a new DJANGO_SECRET_KEY and every MNR key, as environment lines."""
    print(f"DJANGO_SECRET_KEY={secrets.token_urlsafe(50)}")
    for name in DEV_KEY_NAMES[1:]:
        print(f"{name}={new_key()}")


if __name__ == "__main__":
    main()
