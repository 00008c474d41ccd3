"""Encryption at rest of identity fields, and the blind index.

- Field encryption: Fernet (AES-128-CBC + HMAC-SHA256) through ``MultiFernet``
  with the keys of ``MNR_FIELD_ENCRYPTION_KEYS`` (comma-separated, newest first).
  The newest key encrypts; every key decrypts, so keys rotate without downtime;
  ``manage.py rotate_encryption_keys`` re-encrypts everything with the newest.
- Blind index: HMAC-SHA256 with ``MNR_BLIND_INDEX_KEY`` over the normalised
  names and date of birth; equal for the same person written differently
  (accents, case, order of names), useless without the key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import unicodedata
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

PREFIX = "enc:v1:"


def derive_dev_key(secret: str, purpose: str) -> str:
    """A deterministic key for development from the secret key (debug mode only)."""
    digest = hashlib.sha256(f"{purpose}:{secret}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


@lru_cache(maxsize=8)
def _multifernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("MNR_FIELD_ENCRYPTION_KEYS is empty.")
    try:
        return MultiFernet([Fernet(k.encode()) for k in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(
            "MNR_FIELD_ENCRYPTION_KEYS must hold Fernet keys (python -c 'from "
            "cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')."
        ) from exc


def fernet() -> MultiFernet:
    return _multifernet(tuple(settings.MNR_FIELD_ENCRYPTION_KEYS))


def encrypt(value: str) -> str:
    return PREFIX + fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    if not token.startswith(PREFIX):
        raise InvalidToken("not an MNR ciphertext")
    return fernet().decrypt(token[len(PREFIX) :].encode()).decode()


def rotate(token: str) -> str:
    """Re-encrypt a ciphertext with the newest key (decrypting with any key)."""
    return PREFIX + fernet().rotate(token[len(PREFIX) :].encode()).decode()


def normalise_name(value: str) -> str:
    """Lower case, no accents, letters only; words sorted (order-independent)."""
    decomposed = unicodedata.normalize("NFKD", value)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    words = "".join(c if c.isalpha() else " " for c in plain).split()
    return " ".join(sorted(words))


def blind_index(*, given_name: str, family_name: str, date_of_birth: str) -> str:
    """Keyed hash of names + date of birth, or "" when any of them is missing."""
    names = normalise_name(f"{given_name} {family_name}")
    if not names or not family_name.strip() or not given_name.strip() or not date_of_birth:
        return ""
    message = f"{names}|{date_of_birth}".encode()
    return hmac.new(settings.MNR_BLIND_INDEX_KEY.encode(), message, hashlib.sha256).hexdigest()
