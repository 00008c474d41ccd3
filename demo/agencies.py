"""The demo's agencies, accreditations and accounts, as data.

Documented in the README; `manage.py seed_demo` makes the database match this.
"""

from __future__ import annotations

from datetime import date

from common.choices import ExploitationForm, Public

DEMO_PASSWORD = "demo-mnr-2026"  # noqa: S105 - demo only, refused outside demo mode

ILE_DE_FRANCE = ["75", "77", "78", "91", "92", "93", "94", "95"]
ALL_FORMS = list(ExploitationForm.values)
ADULTS = [Public.ADULT_WOMEN.value, Public.ADULT_MEN.value]

AGENCIES: list[dict] = [
    {
        "key": "police75",
        "name": "Commissariat central du 18e arrondissement (Paris)",
        "kind": "frontline",
        "sector": "police",
        "departement": "75",
    },
    {
        "key": "ecole93",
        "name": "Collège Louise-Michel (Saint-Denis)",
        "kind": "frontline",
        "sector": "education",
        "departement": "93",
    },
    {
        "key": "hopital69",
        "name": "Centre hospitalier Lyon-Est, service des urgences",
        "kind": "frontline",
        "sector": "health",
        "departement": "69",
    },
    {
        "key": "asso_paris",
        "name": "Accompagnement Traite Île-de-France",
        "kind": "association",
        "departement": "75",
        "contact_email": "accueil@atidf.demo.invalid",
        "accreditation": {
            "valid_from": date(2024, 1, 1),
            "valid_until": date(2028, 12, 31),
            "exploitation_forms": [
                ExploitationForm.SEXUAL_EXPLOITATION.value,
                ExploitationForm.LABOUR_EXPLOITATION.value,
                ExploitationForm.DOMESTIC_SERVITUDE.value,
            ],
            "publics": ADULTS,
            "national": False,
            "departements": ILE_DE_FRANCE,
            "capacity": 60,
            "languages": ["en", "fr", "ro", "zh"],
            "secure_relocation": False,
        },
    },
    {
        "key": "asso_mineurs13",
        "name": "Mineurs Protégés Méditerranée (Marseille)",
        "kind": "association",
        "departement": "13",
        "contact_email": "accueil@mpm.demo.invalid",
        "accreditation": {
            "valid_from": date(2024, 1, 1),
            "valid_until": date(2028, 12, 31),
            "exploitation_forms": ALL_FORMS,
            "publics": [Public.MINORS.value],
            "national": True,
            "departements": [],
            "capacity": 40,
            "languages": ["ar", "bg", "en", "fr", "ro"],
            "secure_relocation": False,
        },
    },
    {
        "key": "asso_national",
        "name": "Réseau national d'éloignement sécurisé",
        "kind": "association",
        "departement": "06",
        "contact_email": "coordination@rnes.demo.invalid",
        "accreditation": {
            "valid_from": date(2024, 1, 1),
            "valid_until": date(2028, 12, 31),
            "exploitation_forms": ALL_FORMS,
            "publics": ADULTS,
            "national": True,
            "departements": [],
            "capacity": 80,
            "languages": ["en", "es", "fr", "pt", "ru"],
            "secure_relocation": True,
        },
    },
    {
        "key": "crip93",
        "name": "CRIP de la Seine-Saint-Denis",
        "kind": "child_protection",
        "departement": "93",
        "contact_email": "crip@seine-saint-denis.demo.invalid",
    },
    {
        "key": "unite_nationale",
        "name": "Cellule nationale d'identification des victimes de la traite",
        "kind": "identification_unit",
        "departement": None,
        "contact_email": "identification@unite-nationale.demo.invalid",
    },
    {
        "key": "unite_idf",
        "name": "Cellule régionale d'identification Île-de-France",
        "kind": "identification_unit",
        "departement": "75",
        "contact_email": "identification@unite-idf.demo.invalid",
    },
    {
        "key": "coordination",
        "name": "Cellule nationale de coordination du MNR",
        "kind": "coordinator",
        "departement": None,
    },
    {
        "key": "miprof",
        "name": "MIPROF",
        "kind": "coordinator",
        "departement": None,
    },
    {
        "key": "platform",
        "name": "Administration de la plateforme MNR",
        "kind": "platform",
        "departement": None,
    },
]

USERS: list[dict] = [
    {"username": "referent.police75", "agency": "police75", "role": "referrer"},
    {"username": "referent.ecole93", "agency": "ecole93", "role": "referrer"},
    {"username": "referent.hopital69", "agency": "hopital69", "role": "referrer"},
    {"username": "asso.paris", "agency": "asso_paris", "role": "caseworker"},
    {"username": "asso.paris.manager", "agency": "asso_paris", "role": "manager"},
    {"username": "asso.mineurs13", "agency": "asso_mineurs13", "role": "caseworker"},
    {"username": "asso.national", "agency": "asso_national", "role": "caseworker"},
    # Identification units: minors' files go to the members trained for children
    # (``children_trained``), who decide adults' files too.
    {"username": "identification.idf", "agency": "unite_idf", "role": "decision_maker"},
    {
        "username": "identification.idf.mineurs",
        "agency": "unite_idf",
        "role": "decision_maker",
        "children_trained": True,
    },
    {"username": "identification.national", "agency": "unite_nationale", "role": "decision_maker"},
    {
        "username": "identification.national.mineurs",
        "agency": "unite_nationale",
        "role": "decision_maker",
        "children_trained": True,
    },
    {"username": "coordination", "agency": "coordination", "role": "coordinator"},
    {"username": "miprof.analyste", "agency": "miprof", "role": "analyst"},
    {"username": "admin", "agency": "platform", "role": "admin"},
]
