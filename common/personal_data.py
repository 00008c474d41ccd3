"""Where personal data lives: the one list of every text field of the models.

Every character, text and JSON field of MNR's models is in exactly one of:

- ``PERSONAL``: identity or text a person typed (names, dates of birth, phones,
  narratives, notes, reasons, details, explanations). Stored only encrypted
  (``common.fields.EncryptedTextField``, the rotatable keys of common.crypto),
  in the model and in its history; erased by retention, in both.
- ``DERIVED``: keyed hashes computed from identity (blind index, idempotency
  fingerprint) and the client's retry key. Not encrypted, because they are
  looked up by equality, but erased by retention like identity, and the
  idempotency pair as soon as a retry no longer makes sense.
- ``NOT_PERSONAL``: codes, references and texts MNR itself writes, with the
  reason they are not about the person referred.

Fields with ``choices`` are codes picked from a list and need no entry. A test
(tests/referral/test_personal_data.py) walks every model and its history and
fails on a field in none of the lists, on a PERSONAL field that is not
encrypted, and on an entry that names no field.
"""

from __future__ import annotations

PERSONAL: dict[str, tuple[str, ...]] = {
    "referral.PresumedVictim": ("given_name", "family_name", "date_of_birth", "phone"),
    "referral.Referral": ("narrative", "exploitation_other_detail", "withdrawal_reason"),
    "referral.Routing": ("reason",),
    "cases.ProtectionStep": ("note",),
    "cases.CaseNote": ("text",),
    "cases.Transfer": ("reason", "decision_reason"),
    "cases.CaseShare": ("purpose_detail",),
    "identification.Decision": ("explanation",),
    "identification.Evidence": ("text",),
    "identification.Reconsideration": ("new_elements",),
}

DERIVED: dict[str, tuple[str, ...]] = {
    "referral.PresumedVictim": ("blind_index",),
    "referral.Referral": ("idempotency_key", "idempotency_fingerprint"),
}

_HISTORY = "history_change_reason"
_WHY_HISTORY = "django-simple-history's change reason: MNR never sets it (always empty)"
_CODE = "a code from a fixed list or reference table"
_REF = "a reference MNR generates (year and number), not derived from the person"

NOT_PERSONAL: dict[str, dict[str, str]] = {
    "agencies.Region": {"code": _CODE, "name": "INSEE reference data"},
    "agencies.Departement": {"code": _CODE, "name": "INSEE reference data"},
    "agencies.User": {
        "password": "a salted password hash",
        "username": "a professional's account, not the person referred",
        "first_name": "a professional's name, shown to colleagues",
        "last_name": "a professional's name, shown to colleagues",
        "email": "a professional's address",
    },
    "agencies.Agency": {"name": "an organisation", "contact_email": "an organisation's address"},
    "agencies.Accreditation": {
        "association_kind": _CODE,
        "exploitation_forms": "a list of codes",
        "publics": "a list of codes",
        "languages": "a list of language codes",
    },
    "agencies.Membership": {"agency_kind": _CODE},
    "agencies.ApiToken": {"key_hash": "a hash of a random token", "prefix": "its first letters"},
    "agencies.SigninLockout": {"username_hash": "an HMAC of the name typed, never the name"},
    "referral.Referral": {
        "reference": _REF,
        "exploitation_forms": "a list of codes",
        "exploitation_country": _CODE,
        "indicators": "a list of indicator codes",
        "indicator_list_version": "the version of the indicator list",
        "needs": "a list of codes",
    },
    "referral.PresumedVictim": {"nationality": _CODE, "languages": "a list of language codes"},
    "referral.Routing": {"explanation": "the routing engine's reasons, built from codes"},
    "cases.Case": {"reference": _REF},
    "cases.CaseShare": {"parts": "a list of codes"},
    "identification.Decision": {"reasons": "a list of reason codes"},
    "identification.Evidence": {"indicator": "an indicator code"},
    "audit.AccessLog": {
        "actor_username": "a professional's account, or an HMAC of an unknown name typed",
        "target_type": "a model name",
        "target_id": "a reference or id",
        "request_id": "a random id",
        "detail": "written by code only: methods, paths, references, flags, counts",
        "prev_hash": "a chain hash",
        "hash": "a chain hash",
    },
    "audit.AuditChainHead": {"last_hash": "a chain hash"},
    "stats.ReferralFact": dict.fromkeys(
        (
            "form",
            "sex",
            "age_group",
            "nationality",
            "world_region",
            "departement",
            "region",
            "referring_sector",
            "outcome",
            "residence_permit",
        ),
        _CODE,
    ),
    "stats.PublishedStep": {"kind": _CODE},
    "notifications.OutboxMessage": {
        "reference": _REF,
        "last_error": "the mail server's error, written by code",
    },
}
NOT_PERSONAL["stats.PublishedFact"] = NOT_PERSONAL["stats.ReferralFact"]

# Apps whose models the test walks (their historical models included).
APPS = ("agencies", "referral", "cases", "audit", "stats", "notifications")


def personal_fields(label: str) -> tuple[str, ...]:
    return PERSONAL.get(label, ())


def history_fields_not_personal() -> dict[str, str]:
    return {_HISTORY: _WHY_HISTORY}
